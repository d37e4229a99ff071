"""``train``: fit an estimator from a typed spec on a dataset reference and log it as a model."""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from typing import Any, Literal

from prefect import task
from pydantic import BaseModel

import mlflowx
from mlflowx.exceptions import InvalidParameter
from mlflowx.orchestration.tasks.data import load_split
from mlflowx.orchestration.tasks.progress import reports
from mlflowx.orchestration.tasks.specs import DEFAULT_ALLOWED_ESTIMATORS, DatasetSpec, EstimatorSpec
from mlflowx.orchestration.tracked import child_run

__all__ = ["ALLOWED_ESTIMATORS_ENV", "TrainResult", "build_estimator", "train", "train_model"]

#: Extra allowed import-path prefixes, comma-separated (``*`` allows any import path).
ALLOWED_ESTIMATORS_ENV = "MLFLOWX_ALLOWED_ESTIMATORS"


class TrainResult(BaseModel):
    """What ``train`` made: the run, the logged model and how well it fit."""

    run_id: str
    experiment_id: str
    model_id: str
    model_uri: str
    model_type: Literal["classifier", "regressor"]
    estimator: str
    train_score: float


def _allowed(allowed: Sequence[str] | None) -> tuple[str, ...]:
    extra = [p.strip() for p in os.environ.get(ALLOWED_ESTIMATORS_ENV, "").split(",") if p.strip()]
    return (*DEFAULT_ALLOWED_ESTIMATORS, *(allowed or ()), *extra)


def _import_class(spec: EstimatorSpec, allowed: tuple[str, ...], needs: str) -> Any:
    path = spec.import_path
    if "*" not in allowed and not any(path == p or path.startswith(p) for p in allowed):
        raise InvalidParameter(
            f"Estimator {path!r} is outside the allowed import paths ({', '.join(allowed)}); "
            f"allow it explicitly with allowed_estimators=[...] or {ALLOWED_ESTIMATORS_ENV}"
        )
    module_name, _, name = path.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as exc:
        raise InvalidParameter(f"Cannot import estimator {path!r}: {exc}") from exc
    if not isinstance(obj, type) or not callable(getattr(obj, "fit", None)):
        raise InvalidParameter(f"{path!r} is not an estimator class (a class with fit())")
    if not callable(getattr(obj, needs, None)):
        raise InvalidParameter(f"{path!r} has no {needs}() method")
    return obj


def _construct(cls: Any, spec: EstimatorSpec) -> Any:
    try:
        return cls(**spec.params)
    except TypeError as exc:
        raise InvalidParameter(f"Bad parameters for {spec.import_path}: {exc}") from exc


def build_estimator(spec: EstimatorSpec, *, allowed: Sequence[str] | None = None) -> Any:
    """An unfitted estimator (a pipeline when the spec has preprocessing steps).

    Args:
        spec: import path and parameters.
        allowed: import-path prefixes accepted besides ``sklearn.`` (and the environment's
            ``MLFLOWX_ALLOWED_ESTIMATORS``); ``"*"`` accepts any.

    Raises:
        InvalidParameter: the path is not allowed or not an estimator, or bad parameters.
    """
    prefixes = _allowed(allowed)
    estimator = _construct(_import_class(spec, prefixes, "predict"), spec)
    if not spec.preprocess:
        return estimator
    from sklearn.pipeline import make_pipeline

    steps = [_construct(_import_class(s, prefixes, "transform"), s) for s in spec.preprocess]
    return make_pipeline(*steps, estimator)


def train_model(
    dataset: DatasetSpec,
    estimator: EstimatorSpec,
    *,
    run_name: str | None = None,
    experiment: str | None = None,
    parent_run_id: str | None = None,
    tracking_uri: str | None = None,
    allowed_estimators: Sequence[str] | None = None,
) -> TrainResult:
    """Fit ``estimator`` on the training part of ``dataset`` and log it with its signature and
    an input example, in a run of its own (a child of the active or given parent run).

    Args:
        dataset: the dataset reference and split.
        estimator: what to fit.
        run_name: the run's name (default: the estimator's label).
        experiment: the experiment of a top-level run (ignored for child runs).
        parent_run_id: the parent run, for tasks in other processes.
        tracking_uri: the tracking URI, for tasks in other processes.
        allowed_estimators: extra allowed import-path prefixes.
    """
    from sklearn.base import is_classifier

    from mlflowx.models.signature import infer_signature
    from mlflowx.sklearn import log_model

    model = build_estimator(estimator, allowed=allowed_estimators)
    classifier = bool(is_classifier(model))
    split = load_split(dataset, classification=classifier)
    with child_run(
        run_name or estimator.label(),
        parent_run_id=parent_run_id,
        experiment=experiment,
        tracking_uri=tracking_uri,
        tags={"mlflowx.task": "train"},
    ) as run:
        mlflowx.log_params(
            {
                **estimator.flat_params(),
                "dataset": dataset.ref,
                "test_size": dataset.test_size,
                "seed": dataset.seed,
            }
        )
        mlflowx.log_input(
            mlflowx.data.from_pandas(split.frame, name=split.name, targets=split.target),
            "training",
        )
        try:
            model.fit(split.x_train, split.y_train)
        except (ValueError, TypeError) as exc:
            raise InvalidParameter(
                f"Fitting {estimator.import_path} on {dataset.ref} failed: {exc}"
            ) from exc
        score = float(model.score(split.x_train, split.y_train))
        mlflowx.log_metric("train_score", score)
        example = split.x_train.head(5)
        signature = infer_signature(example, model.predict(example))
        info = log_model(model, name="model", signature=signature, input_example=example)
        return TrainResult(
            run_id=run.info.run_id,
            experiment_id=run.info.experiment_id,
            model_id=info.model_id,
            model_uri=info.model_uri,
            model_type="classifier" if classifier else "regressor",
            estimator=estimator.label(),
            train_score=score,
        )


#: The Prefect task. Results stay in memory (they are small pydantic models).
def _summary(result: object) -> str:
    assert isinstance(result, TrainResult)
    return f"{result.estimator}: train score {result.train_score:.3f}"


train = task(name="train", task_run_name="train-{estimator.import_path}")(
    reports("train", _summary)(train_model)
)
