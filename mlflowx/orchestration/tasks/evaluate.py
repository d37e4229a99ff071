"""``evaluate``: score the challenger on held-out data and judge it against the champion."""

from __future__ import annotations

from typing import Any

from prefect import task
from pydantic import BaseModel

import mlflowx
from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.orchestration.tasks.data import load_split
from mlflowx.orchestration.tasks.progress import reports
from mlflowx.orchestration.tasks.specs import DatasetSpec, EvaluationSpec
from mlflowx.orchestration.tasks.train import TrainResult

__all__ = [
    "CHAMPION_ALIAS",
    "ChallengerRejected",
    "EvaluationOutcome",
    "evaluate",
    "evaluate_model",
]

CHAMPION_ALIAS = "champion"


class ChallengerRejected(InvalidParameter):
    """The challenger missed a validation threshold; the message says which and by how much."""

    def __init__(self, message: str, failures: list[str]) -> None:
        super().__init__(message)
        self.failures = failures


class EvaluationOutcome(BaseModel):
    """The verdict on one challenger."""

    passed: bool
    metrics: dict[str, float]
    champion_version: str | None = None
    champion_metrics: dict[str, float] | None = None
    failures: list[str] = []
    run_id: str
    model_uri: str


def _numbers(metrics: dict[str, Any] | None) -> dict[str, float] | None:
    if metrics is None:
        return None
    return {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def current_champion(model_name: str, alias: str = CHAMPION_ALIAS) -> str | None:
    """The version ``alias`` points at, or ``None`` (no such model, or no such alias)."""
    from mlflowx.registry.client import RegistryClient

    try:
        model = RegistryClient().get_registered_model(model_name)
    except NotFound:
        return None
    version = model.aliases.get(alias)
    return None if version is None else str(version)


def evaluate_model(
    trained: TrainResult,
    dataset: DatasetSpec,
    spec: EvaluationSpec | None = None,
    *,
    model_name: str | None = None,
) -> EvaluationOutcome:
    """Evaluate ``trained`` on the held-out part of ``dataset`` (logged to its training run),
    and check ``spec.thresholds``; bars with a ``min_*_change`` compare against the current
    champion of ``model_name`` (``models:/<name>@champion``) evaluated on the same rows.

    Without a champion yet, only absolute bars apply: the first model has nothing to beat.

    Raises:
        ChallengerRejected: a bar was missed and ``spec.fail_if_worse`` (the default) is set.
    """
    from mlflowx.models.evaluation import (
        EvaluationResult,
        MetricThreshold,
        ModelValidationFailedError,
        evaluate,
        validate_evaluation_results,
    )

    spec = spec or EvaluationSpec()
    split = load_split(dataset, classification=trained.model_type == "classifier")
    champion = current_champion(model_name) if model_name and spec.compare_to_champion else None
    baseline_uri = f"models:/{model_name}/{champion}" if champion else None
    thresholds = {
        name: MetricThreshold(
            threshold=t.threshold,
            min_absolute_change=t.min_absolute_change,
            min_relative_change=t.min_relative_change,
            greater_is_better=t.greater_is_better,
        )
        for name, t in spec.thresholds.items()
        if baseline_uri is not None or t.threshold is not None
    }
    if baseline_uri is None:
        # Nothing to compare with yet: keep only the absolute part of each bar.
        thresholds = {
            name: MetricThreshold(threshold=t.threshold, greater_is_better=t.greater_is_better)
            for name, t in thresholds.items()
        }
    failures: list[str] = []
    with mlflowx.start_run(run_id=trained.run_id, nested=mlflowx.active_run() is not None):
        result = evaluate(
            trained.model_uri,
            split.test_frame(),
            targets=split.target,
            model_type=trained.model_type,
            baseline_model=baseline_uri,
        )
        metrics = _numbers(result.metrics) or {}
        baseline_metrics = _numbers(result.baseline_model_metrics)
        if thresholds:
            baseline = None if baseline_metrics is None else EvaluationResult(baseline_metrics)
            try:
                validate_evaluation_results(thresholds, result, baseline)
            except ModelValidationFailedError as exc:
                failures = exc.failures
        passed = not failures
        mlflowx.set_tags(
            {
                "mlflowx.evaluation.passed": str(passed).lower(),
                "mlflowx.evaluation.champion_version": champion or "",
            }
        )
        if baseline_metrics:
            mlflowx.log_metrics({f"champion_{k}": v for k, v in baseline_metrics.items()})
    if failures and spec.fail_if_worse:
        against = f"champion {model_name} v{champion}" if champion else "the absolute thresholds"
        lines = "\n".join(f"- {f}" for f in failures)
        raise ChallengerRejected(
            f"Challenger {trained.model_uri} (run {trained.run_id}) was rejected against "
            f"{against}:\n{lines}",
            failures,
        )
    return EvaluationOutcome(
        passed=passed,
        metrics=metrics,
        champion_version=champion,
        champion_metrics=baseline_metrics,
        failures=failures,
        run_id=trained.run_id,
        model_uri=trained.model_uri,
    )


def _summary(result: object) -> str:
    assert isinstance(result, EvaluationOutcome)
    key = next((k for k in ("accuracy_score", "r2_score") if k in result.metrics), None)
    score = f"{key} {result.metrics[key]:.3f}" if key else "evaluated"
    if result.champion_version and result.champion_metrics and key in result.champion_metrics:
        score += f" (champion v{result.champion_version}: {result.champion_metrics[key]:.3f})"
    return score + ("" if result.passed else " - below the bar")


evaluate = task(name="evaluate")(reports("evaluate", _summary)(evaluate_model))
