"""``mlflowx.sklearn.autolog()``: record every scikit-learn training call, as MLflow does.

The outermost ``fit`` (``fit_transform``, ``fit_predict``) of an estimator logs to the active run,
or to a run it starts and ends around the fit. What it records is in
:mod:`mlflowx.sklearn._autolog_log`; how the methods are patched, in
:mod:`mlflowx.sklearn._autolog_patch`. scikit-learn is imported only when autolog is enabled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from mlflowx.entities import RunStatus
from mlflowx.exceptions import InvalidParameter
from mlflowx.sklearn import _autolog_patch
from mlflowx.sklearn._autolog_log import (
    AUTOLOGGING_TAG,
    AutologConfig,
    FitData,
    attempt,
    fit_data,
    is_search,
    log_after_fit,
    log_before_fit,
    warn,
)
from mlflowx.sklearn._autolog_search import log_search
from mlflowx.tracking import fluent
from mlflowx.tracking.client import MlflowxClient

__all__ = ["autolog"]

#: The switches in force; None when autologging is off.
_config: AutologConfig | None = None


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    silent: bool = False,
    max_tuning_runs: int | None = 5,
    registered_model_name: str | None = None,
    extra_tags: Mapping[str, Any] | None = None,
    *,
    pos_label: Any = None,
    serialization_format: str = "skops",
) -> None:
    """Enable (or, with ``disable=True``, remove) autologging for scikit-learn.

    Each outermost training call logs the estimator's params, the ``estimator_name`` and
    ``estimator_class`` tags, MLflow's ``training_*`` metrics, the training dataset and the
    fitted model (``model``). Fits nested in a Pipeline or a search log nothing of their own.
    ``GridSearchCV``/``RandomizedSearchCV`` add ``best_<param>`` params, ``best_cv_score``, the
    ``best_estimator`` model, ``cv_results.csv`` and one child run per candidate. A failure while
    logging becomes a ``UserWarning``; the fit itself is never changed.

    Args:
        log_input_examples: save the first rows of X as the model's input example.
        log_model_signatures: infer the model signature from those rows and the model's output.
        log_models: log the fitted model (and a search's best estimator).
        log_datasets: record the training data as a run input (``context="train"``).
        disable: restore scikit-learn's original methods.
        exclusive: log nothing into runs the user started; only into runs autolog starts.
        silent: no autolog warnings.
        max_tuning_runs: child runs for the best N candidates of a search; None for all.
        registered_model_name: also register each logged ``model`` under this name.
        extra_tags: tags for the runs autolog starts.
        pos_label: the positive class for binary precision/recall/F1 (else weighted averages).
        serialization_format: ``skops`` (default), ``cloudpickle`` or ``pickle``.

    Raises:
        InvalidParameter: a negative ``max_tuning_runs``, an unknown ``serialization_format``,
            or ``extra_tags`` that is not a mapping.
    """
    global _config
    if disable:
        _config = None
        _autolog_patch.uninstall()
        return
    from mlflowx.models.flavors.sklearn import SERIALIZATION_FORMATS

    if max_tuning_runs is not None and (
        isinstance(max_tuning_runs, bool)
        or not isinstance(max_tuning_runs, int)
        or max_tuning_runs < 0
    ):
        raise InvalidParameter(
            f"`max_tuning_runs` must be non-negative, instead got {max_tuning_runs!r}."
        )
    if serialization_format not in SERIALIZATION_FORMATS:
        raise InvalidParameter(
            f"Unknown serialization_format {serialization_format!r}; expected one of "
            f"{', '.join(SERIALIZATION_FORMATS)}"
        )
    if extra_tags is not None and not isinstance(extra_tags, Mapping):
        raise InvalidParameter(
            f"Invalid `extra_tags` type: expecting a mapping, got {type(extra_tags).__name__}"
        )
    config = AutologConfig(
        log_input_examples=log_input_examples,
        log_model_signatures=log_model_signatures,
        log_models=log_models,
        log_datasets=log_datasets,
        exclusive=exclusive,
        silent=silent,
        max_tuning_runs=max_tuning_runs,
        registered_model_name=registered_model_name,
        pos_label=pos_label,
        serialization_format=serialization_format,
        extra_tags={str(k): str(v) for k, v in (extra_tags or {}).items()},
    )
    if AUTOLOGGING_TAG in config.extra_tags:
        warn(config, f"tag {AUTOLOGGING_TAG!r} is reserved; the extra tag is ignored")
        tags = {k: v for k, v in config.extra_tags.items() if k != AUTOLOGGING_TAG}
        config = dataclasses.replace(config, extra_tags=tags)
    _config = config
    _autolog_patch.install(_fit_and_log, _autolog_patch.estimator_classes)


def _fit_and_log(
    original: Callable[..., Any], estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """The outermost fit: in the active run or a run of its own, logging around the fit."""
    config = _config
    if config is None:
        return original(estimator, *args, **kwargs)
    run = fluent.active_run()
    if run is not None and config.exclusive:
        return original(estimator, *args, **kwargs)
    data = FitData()
    with attempt(config, "reading the training data"):
        data = fit_data(original, estimator, args, kwargs)
    owned = False
    if run is None:
        with attempt(config, "starting a run"):
            run = fluent.start_run(tags={AUTOLOGGING_TAG: "sklearn", **config.extra_tags})
            owned = True
    if run is None:
        return original(estimator, *args, **kwargs)

    run_id = run.info.run_id
    client = MlflowxClient()
    try:
        with attempt(config, "logging before the fit"):
            log_before_fit(client, run_id, config, estimator, data)
    except BaseException:  # a warning turned into an error by the user's filters
        if owned:
            _end(config, RunStatus.FAILED)
        raise
    try:
        result = original(estimator, *args, **kwargs)
    except BaseException as exc:
        if owned:
            _end(
                config, RunStatus.KILLED if isinstance(exc, KeyboardInterrupt) else RunStatus.FAILED
            )
        raise
    try:
        with attempt(config, "logging after the fit"):
            log_after_fit(client, run_id, config, estimator, data)
            if is_search(estimator):  # the candidates as child runs, the best one's score
                log_search(client, run_id, config, estimator, data)
    finally:
        if owned:
            _end(config, RunStatus.FINISHED)
    return result


def _end(config: AutologConfig, status: RunStatus) -> None:
    with attempt(config, "ending the run"):
        fluent.end_run(status.value)
