"""Model validation: MLflow's ``MetricThreshold`` and the checks against it.

The checks follow ``mlflow.models.evaluation.validation._validate``; the failure message is ours
and says, for every failed threshold, the candidate value, the baseline value and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any

from mlflowx.exceptions import InvalidParameter

__all__ = [
    "MetricThreshold",
    "ModelValidationFailedError",
    "check_thresholds",
    "validate",
    "validate_evaluation_results",
]

# MLflow's fallback when the baseline is 0 and a relative change cannot be computed.
_ZERO_BASELINE_EPSILON = 1e-10


class ModelValidationFailedError(InvalidParameter):
    """The candidate model missed one or more ``validation_thresholds``.

    Attributes:
        failures: one human-readable line per failed threshold.
    """

    def __init__(self, message: str, failures: list[str] | None = None) -> None:
        super().__init__(message)
        self.failures = list(failures or [])


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class MetricThreshold:
    """Thresholds one metric must meet for the candidate model to pass validation.

    Args:
        threshold: the candidate's value must be >= it (<= when lower is better).
        min_absolute_change: a positive number; the candidate must beat the baseline model by at
            least this much.
        min_relative_change: a float in [0, 1]; the candidate must beat the baseline by at least
            this fraction of the baseline's magnitude.
        greater_is_better: required; whether larger values of the metric are better.
    """

    threshold: float | None = None
    min_absolute_change: float | None = None
    min_relative_change: float | None = None
    greater_is_better: bool | None = None

    def __post_init__(self) -> None:
        def bad(message: str) -> InvalidParameter:
            return InvalidParameter(f"Could not instantiate MetricThreshold: {message}")

        if self.threshold is not None and not _is_number(self.threshold):
            raise bad(f"`threshold` must be a number, got {self.threshold!r}")
        if self.min_absolute_change is not None and (
            not _is_number(self.min_absolute_change) or self.min_absolute_change <= 0
        ):
            raise bad(
                f"`min_absolute_change` must be a positive number, got {self.min_absolute_change!r}"
            )
        if self.min_relative_change is not None and (
            not isinstance(self.min_relative_change, float)
            or not 0 <= self.min_relative_change <= 1
        ):
            raise bad(
                "`min_relative_change` must be a float between 0 and 1, "
                f"got {self.min_relative_change!r}"
            )
        if not isinstance(self.greater_is_better, bool):
            raise bad(f"`greater_is_better` must be True or False, got {self.greater_is_better!r}")
        if self.threshold is None and not self.compares_to_baseline:
            raise bad(
                "no threshold was specified (give threshold, min_absolute_change or "
                "min_relative_change)"
            )

    @property
    def compares_to_baseline(self) -> bool:
        return self.min_absolute_change is not None or self.min_relative_change is not None

    def __str__(self) -> str:
        parts = []
        if self.threshold is not None:
            parts.append(f"Threshold: {self.threshold}.")
        if self.min_absolute_change is not None:
            parts.append(f"Minimum Absolute Change: {self.min_absolute_change}.")
        if self.min_relative_change is not None:
            parts.append(f"Minimum Relative Change: {self.min_relative_change}.")
        parts.append("Higher value is better." if self.greater_is_better else "Lower is better.")
        return " ".join(parts)


def check_thresholds(
    thresholds: Mapping[str, MetricThreshold] | None, has_baseline: bool
) -> dict[str, MetricThreshold]:
    """Reject malformed thresholds before any model runs."""
    if thresholds is None:
        return {}
    if not isinstance(thresholds, Mapping) or not all(
        isinstance(k, str) and isinstance(v, MetricThreshold) for k, v in thresholds.items()
    ):
        raise InvalidParameter(
            "validation_thresholds must be a dict mapping metric names to MetricThreshold objects"
        )
    comparing = sorted(k for k, v in thresholds.items() if v.compares_to_baseline)
    if comparing and not has_baseline:
        raise InvalidParameter(
            f"validation_thresholds for {', '.join(comparing)} set min_absolute_change or "
            "min_relative_change, which compare against a baseline: pass baseline_model="
        )
    return dict(thresholds)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _failures(
    name: str, rule: MetricThreshold, candidate: float, baseline: float | None
) -> list[str]:
    gib = bool(rule.greater_is_better)
    out: list[str] = []
    ref = "" if baseline is None else f" (baseline: {_fmt(baseline)})"
    if rule.threshold is not None:
        passed = candidate >= rule.threshold if gib else candidate <= rule.threshold
        if not passed:
            side = "below" if gib else "above"
            out.append(f"{name}={_fmt(candidate)} is {side} the threshold {rule.threshold}{ref}")
    if not rule.compares_to_baseline:
        return out
    if baseline is None:
        out.append(f"{name}={_fmt(candidate)}: the baseline model has no {name} to compare with")
        return out
    improvement = candidate - baseline if gib else baseline - candidate
    if improvement >= 0:
        how = f"improved on the baseline's {_fmt(baseline)} by {_fmt(improvement)}"
    else:
        how = f"is worse than the baseline's {_fmt(baseline)} by {_fmt(-improvement)}"
    if rule.min_absolute_change is not None:
        target = baseline + rule.min_absolute_change if gib else baseline - rule.min_absolute_change
        if not (candidate >= target if gib else candidate <= target):
            out.append(
                f"{name}={_fmt(candidate)} {how}, less than min_absolute_change "
                f"{rule.min_absolute_change}"
            )
    if rule.min_relative_change is not None:
        if baseline == 0:
            # No relative change from 0: MLflow asks for any strict improvement instead.
            if improvement < _ZERO_BASELINE_EPSILON:
                out.append(
                    f"{name}={_fmt(candidate)} {how}; the baseline is 0, so min_relative_change "
                    f"{rule.min_relative_change} needs any improvement"
                )
        elif improvement / abs(baseline) < rule.min_relative_change:
            out.append(
                f"{name}={_fmt(candidate)} {how} ({improvement / abs(baseline):.2%}), less than "
                f"min_relative_change {rule.min_relative_change} "
                f"({rule.min_relative_change:.2%})"
            )
    return out


def validate(
    thresholds: Mapping[str, MetricThreshold],
    candidate_metrics: Mapping[str, Any],
    baseline_metrics: Mapping[str, Any] | None = None,
) -> None:
    """Raise :class:`ModelValidationFailedError` listing every threshold the candidate misses."""
    failures: list[str] = []
    for name, rule in thresholds.items():
        value = candidate_metrics.get(name)
        if value is None:
            known = ", ".join(sorted(candidate_metrics))
            failures.append(f"{name} was not computed for the candidate model (metrics: {known})")
            continue
        base = None if baseline_metrics is None else baseline_metrics.get(name)
        failures.extend(_failures(name, rule, float(value), None if base is None else float(base)))
    if failures:
        lines = "\n".join(f"- {f}" for f in failures)
        raise ModelValidationFailedError(
            f"Model validation failed for {len(failures)} threshold(s):\n{lines}", failures
        )


def validate_evaluation_results(
    validation_thresholds: Mapping[str, MetricThreshold],
    candidate_result: Any,
    baseline_result: Any = None,
) -> None:
    """MLflow 3's ``validate_evaluation_results``: check two ``EvaluationResult`` objects."""
    thresholds = check_thresholds(validation_thresholds, baseline_result is not None)
    validate(
        thresholds,
        candidate_result.metrics,
        None if baseline_result is None else baseline_result.metrics,
    )
