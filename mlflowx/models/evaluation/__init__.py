"""``mlflowx.models.evaluate``: MLflow's ``mlflow.models.evaluate`` for classifiers and
regressors, with MLflow's metric and artifact names, and model validation against thresholds.

scikit-learn computes the metrics and matplotlib draws the plots; both are imported on use.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mlflowx.exceptions import InvalidParameter
from mlflowx.models.evaluation.inputs import (
    EvalData,
    Predictor,
    model_outputs,
    prepare_data,
    resolve_model,
)
from mlflowx.models.evaluation.thresholds import (
    MetricThreshold,
    ModelValidationFailedError,
    check_thresholds,
    validate,
    validate_evaluation_results,
)

__all__ = [
    "MODEL_TYPES",
    "EvaluationResult",
    "MetricThreshold",
    "ModelValidationFailedError",
    "evaluate",
    "validate_evaluation_results",
]

MODEL_TYPES = ("classifier", "regressor")
EVAL_TABLE = "eval_results_table"
#: MLflow's run tag listing a run's table artifacts (its UI reads it).
LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"
DATASET_CONTEXT_TAG = "mlflow.data.context"


@dataclass
class EvaluationResult:
    """What ``evaluate`` returns.

    Attributes:
        metrics: metric name -> value, as logged to the run.
        artifacts: artifact name (``confusion_matrix``, ``roc_curve_plot``...) -> artifact URI.
        baseline_model_metrics: the baseline model's metrics, when ``baseline_model`` was given.
        run_id: the run the metrics and artifacts were logged to.
    """

    metrics: dict[str, Any]
    artifacts: dict[str, str] = field(default_factory=dict)
    baseline_model_metrics: dict[str, Any] | None = None
    run_id: str | None = None


@dataclass
class _Scored:
    metrics: dict[str, Any]
    y_pred: Any
    draw: Callable[[], dict[str, Any]]  # artifact name -> figure, drawn only when logging


def _score(
    predictor: Predictor | None,
    data: EvalData,
    model_type: str,
    config: Mapping[str, Any],
    output_column: str | None,
) -> _Scored:
    from mlflowx.models.evaluation import metrics as m
    from mlflowx.models.evaluation import plots

    if predictor is None:
        y_pred = data.static_predictions
    else:
        y_pred = model_outputs(predictor.predict(data.features), len(data), output_column)
    y_true = data.y_true
    draw: Callable[[], dict[str, Any]]
    if model_type == "regressor":
        values = m.regressor_metrics(y_true, y_pred, data.target_name)

        def draw() -> dict[str, Any]:
            return {"residuals_plot": plots.residuals_figure(y_true, y_pred)}
    else:
        proba = None
        if predictor is not None and predictor.predict_proba is not None:
            proba = predictor.predict_proba(data.features)
        classes = getattr(predictor.raw, "classes_", None) if predictor is not None else None
        values, info = m.classifier_metrics(y_true, y_pred, proba, classes, config)
        max_classes = int(
            config.get("max_classes_for_multiclass_roc_pr", plots.MAX_CLASSES_FOR_CURVES)
        )

        def draw() -> dict[str, Any]:
            return plots.classifier_figures(y_true, y_pred, info, max_classes)

    score = _sklearn_score(predictor, data)
    if score is not None:
        values["score"] = score
    return _Scored(values, y_pred, draw)


def _sklearn_score(predictor: Predictor | None, data: EvalData) -> float | None:
    """MLflow also reports a scikit-learn estimator's own ``score`` (accuracy, or R2)."""
    raw = None if predictor is None else predictor.raw
    if raw is None or not type(raw).__module__.startswith("sklearn."):
        return None
    try:
        return float(raw.score(data.features, data.y_true))
    except Exception:  # as MLflow: an estimator that cannot score just has no "score" metric
        return None


@contextmanager
def _active_run() -> Iterator[str]:
    """The active run, or a new one ended afterwards (MLflow's
    ``_start_run_or_reuse_active_run``)."""
    from mlflowx.tracking import fluent

    current = fluent.active_run()
    if current is not None:
        yield current.info.run_id
        return
    with fluent.start_run() as run:
        yield run.info.run_id


def _log_dataset(data: Any, targets: Any, prefix: str) -> None:
    import pandas as pd

    from mlflowx import data as datasets
    from mlflowx.tracking import fluent

    if isinstance(data, pd.DataFrame):
        dataset = datasets.from_pandas(data, targets=targets if isinstance(targets, str) else None)
    else:
        dataset = datasets.from_numpy(data, targets=targets)
    fluent.log_input(dataset, context=prefix or None)


def _log_table(run_id: str, table: Any, artifact_file: str) -> None:
    """Write the table as MLflow's ``log_table`` does and list it in the run's table tag."""
    from mlflowx.tracking import fluent

    fluent.log_text(table.to_json(orient="split", index=False, date_format="iso"), artifact_file)
    listed = json.loads(fluent.get_run(run_id).data.tags.get(LOGGED_ARTIFACTS_TAG, "[]"))
    entry = {"path": artifact_file, "type": "table"}
    if entry not in listed:
        fluent.set_tag(LOGGED_ARTIFACTS_TAG, json.dumps([*listed, entry]))


def _log(run_id: str, scored: _Scored, data: EvalData, prefix: str) -> dict[str, str]:
    from mlflowx.tracking import fluent

    fluent.log_metrics({k: float(v) for k, v in scored.metrics.items()}, run_id=run_id)
    artifacts: dict[str, str] = {}
    for name, figure in scored.draw().items():
        fluent.log_figure(figure, f"{prefix}{name}.png")
        artifacts[name] = fluent.get_artifact_uri(f"{prefix}{name}.png")
    table_file = f"{prefix}{EVAL_TABLE}.json"
    _log_table(run_id, data.table(scored.y_pred), table_file)
    artifacts[EVAL_TABLE] = fluent.get_artifact_uri(table_file)
    return artifacts


def evaluate(
    model: Any,
    data: Any,
    *,
    targets: Any,
    model_type: str,
    predictions: Any = None,
    evaluator_config: Mapping[str, Any] | None = None,
    baseline_model: Any = None,
    validation_thresholds: Mapping[str, MetricThreshold] | None = None,
    feature_names: Sequence[str] | None = None,
) -> EvaluationResult:
    """Evaluate a classifier or regressor on ``data`` and log metrics and plots to the active
    run (one is started, and ended, when none is active).

    Args:
        model: a model URI (anything ``mlflowx.pyfunc.load_model`` takes), a ``PyFuncModel``, an
            object with ``predict`` (e.g. a fitted scikit-learn estimator) or a callable. ``None``
            evaluates the given ``predictions`` instead. A URI loads with the safe default
            policy (pickles and model code only with ``MLFLOWX_ALLOW_*``); for a model you
            trust that needs them, pass ``mlflowx.pyfunc.load_model(uri, allow_pickle=True)``
            (or ``allow_code=True``).
        data: a pandas DataFrame, or a numpy array of features.
        targets: the target column of a DataFrame, or an array with one target per row.
        model_type: ``"classifier"`` or ``"regressor"``.
        predictions: with a model, the column of its output to evaluate (when it returns
            several); without one, the column of ``data`` (or an array) holding the outputs.
        evaluator_config: MLflow's options: ``label_list``, ``pos_label``, ``average``
            (multiclass; ``"weighted"`` by default), ``metric_prefix``,
            ``max_classes_for_multiclass_roc_pr``.
        baseline_model: a model to compare with, evaluated on the same data; its metrics are
            returned, not logged.
        validation_thresholds: metric name -> :class:`MetricThreshold`.
        feature_names: the feature columns of a DataFrame (default: every column but the
            targets), or names for the columns of a numpy array.

    Returns:
        The metrics, the artifact URIs and the baseline's metrics.

    Raises:
        InvalidParameter: bad model type, data, targets or thresholds.
        ModelValidationFailedError: the model missed a threshold (metrics and artifacts are
            logged first).
    """
    if model_type not in MODEL_TYPES:
        raise InvalidParameter(
            f"model_type {model_type!r} is not supported; valid model types: "
            f"{', '.join(MODEL_TYPES)}"
        )
    thresholds = check_thresholds(validation_thresholds, baseline_model is not None)
    config = dict(evaluator_config or {})
    prefix = str(config.get("metric_prefix") or "")
    static = model is None
    eval_data = prepare_data(data, targets, predictions, feature_names, static=static)
    output_column = predictions if isinstance(predictions, str) and not static else None
    scored = _score(
        None if static else resolve_model(model), eval_data, model_type, config, output_column
    )
    scored.metrics = {f"{prefix}{k}": v for k, v in scored.metrics.items()}
    baseline_metrics = None
    if baseline_model is not None:
        baseline = _score(resolve_model(baseline_model), eval_data, model_type, config, None)
        baseline_metrics = {f"{prefix}{k}": v for k, v in baseline.metrics.items()}
    with _active_run() as run_id:
        _log_dataset(data, targets, prefix)
        artifacts = _log(run_id, scored, eval_data, prefix)
    result = EvaluationResult(scored.metrics, artifacts, baseline_metrics, run_id)
    if thresholds:
        validate(thresholds, result.metrics, baseline_metrics)
    return result
