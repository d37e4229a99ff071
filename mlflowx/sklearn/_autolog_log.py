"""What sklearn autologging records for one outermost fit, with MLflow's keys.

Before the fit: the estimator's params, the ``estimator_name``/``estimator_class`` tags and the
training dataset. After it: the model, the ``training_*`` metrics and ``estimator.html`` (for
parameter searches, :mod:`mlflowx.sklearn._autolog_search` adds the candidates). Every step runs in
:func:`attempt`, which turns a failure into a warning so the user's fit is never affected.
"""

from __future__ import annotations

import inspect
import math
import sys
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from mlflowx.entities import DatasetInput, InputTag, Metric, Param, RunTag, now_ms
from mlflowx.tracking.client import MlflowxClient
from mlflowx.tracking.fluent import DATASET_CONTEXT_TAG
from mlflowx.utils.validation import (
    MAX_ENTITY_KEY_LENGTH,
    MAX_METRICS_PER_BATCH,
    MAX_PARAM_VAL_LENGTH,
    MAX_PARAMS_TAGS_PER_BATCH,
)

__all__ = [
    "AUTOLOGGING_TAG",
    "AutologConfig",
    "FitData",
    "attempt",
    "fit_data",
    "is_search",
    "log_after_fit",
    "log_before_fit",
    "log_metrics",
    "log_model",
    "log_params",
    "warn",
]

AUTOLOGGING_TAG = "mlflow.autologging"
TRAINING_PREFIX = "training_"
INPUT_EXAMPLE_ROWS = 5  # MLflow's INPUT_EXAMPLE_SAMPLE_ROWS
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


@dataclass(frozen=True)
class AutologConfig:
    """The switches of :func:`mlflowx.sklearn.autolog`, fixed while a fit runs."""

    log_input_examples: bool = False
    log_model_signatures: bool = True
    log_models: bool = True
    log_datasets: bool = True
    exclusive: bool = False
    silent: bool = False
    max_tuning_runs: int | None = 5
    registered_model_name: str | None = None
    pos_label: Any = None
    serialization_format: str = "skops"
    extra_tags: Mapping[str, str] = field(default_factory=dict)


@dataclass
class FitData:
    """The training data of one fit, and the dataset description logged for it."""

    X: Any = None
    y: Any = None
    sample_weight: Any = None
    example: Any = None
    dataset: Any = None


def warn(config: AutologConfig, message: str) -> None:
    if not config.silent:
        warnings.warn(f"mlflowx autolog: {message}", UserWarning, stacklevel=3)


@contextmanager
def attempt(config: AutologConfig, what: str) -> Iterator[None]:
    """Run a logging step; a failure becomes a warning instead of reaching the user's fit."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, UserWarning) and str(exc).startswith("mlflowx autolog:"):
            raise  # our own warning, made an error by the warning filters: report it once
        warn(config, f"{what} failed: {type(exc).__name__}: {exc}")


def is_search(estimator: Any) -> bool:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    return isinstance(estimator, GridSearchCV | RandomizedSearchCV)


def fit_data(
    original: Any, estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> FitData:
    """X, y and sample_weight as the fit method names them (``fit(X, Y)`` too), and the first
    rows of X copied before training can touch them."""
    try:
        signature = inspect.signature(original)
        bound = signature.bind(estimator, *args, **kwargs).arguments
    except (TypeError, ValueError):  # a bad call: the fit itself will say so
        return FitData()
    names = [p.name for p in signature.parameters.values() if p.kind in _POSITIONAL][1:3]
    data = FitData(
        X=bound.get(names[0]) if names else None,
        y=bound.get(names[1]) if len(names) > 1 else None,
        sample_weight=bound.get("sample_weight"),
    )
    if data.X is not None:
        try:
            data.example = deepcopy(data.X[:INPUT_EXAMPLE_ROWS])
        except Exception:  # not sliceable (a generator, say): no example, no signature
            data.example = None
    return data


def _text(value: Any, limit: int) -> str:
    return (value if isinstance(value, str) else str(value))[:limit]


def log_params(client: MlflowxClient, run_id: str, params: Mapping[str, Any]) -> None:
    """Params stringified and cut to MLflow's limits, in batches of 100."""
    items = [
        Param(_text(k, MAX_ENTITY_KEY_LENGTH), _text(v, MAX_PARAM_VAL_LENGTH))
        for k, v in params.items()
    ]
    for start in range(0, len(items), MAX_PARAMS_TAGS_PER_BATCH):
        client.log_batch(run_id, params=items[start : start + MAX_PARAMS_TAGS_PER_BATCH])


def log_metrics(client: MlflowxClient, run_id: str, metrics: Mapping[str, Any]) -> None:
    t = now_ms()
    items = [Metric(k, float(v), t, 0) for k, v in metrics.items()]
    for start in range(0, len(items), MAX_METRICS_PER_BATCH):
        client.log_batch(run_id, metrics=items[start : start + MAX_METRICS_PER_BATCH])


def estimator_tags(estimator: Any) -> dict[str, str]:
    cls = type(estimator)
    return {"estimator_name": cls.__name__, "estimator_class": f"{cls.__module__}.{cls.__name__}"}


def estimator_params(estimator: Any) -> dict[str, Any]:
    # A search's seed estimator only seeds it: its untuned params would mislead (MLflow).
    params: dict[str, Any] = estimator.get_params(deep=not is_search(estimator))
    return params


def _dataset(X: Any, y: Any) -> Any:
    import numpy as np
    from scipy import sparse  # both come with scikit-learn

    from mlflowx.data import from_numpy, from_pandas

    pd = sys.modules.get("pandas")  # a DataFrame cannot exist unless pandas was imported
    if pd is not None and isinstance(X, pd.DataFrame):
        return from_pandas(X)
    if sparse.issparse(X):
        return from_numpy(X.toarray(), targets=y.toarray() if sparse.issparse(y) else y)
    if isinstance(X, np.ndarray):
        return from_numpy(X, targets=y)
    return None  # lists and other containers: MLflow skips them too


def log_before_fit(
    client: MlflowxClient, run_id: str, config: AutologConfig, estimator: Any, data: FitData
) -> None:
    with attempt(config, "logging the estimator's params and tags"):
        log_params(client, run_id, estimator_params(estimator))
        client.log_batch(run_id, tags=[RunTag(k, v) for k, v in estimator_tags(estimator).items()])
    if config.log_datasets and data.X is not None:
        with attempt(config, "logging the training dataset"):
            data.dataset = _dataset(data.X, data.y)
            if data.dataset is not None:
                client.log_inputs(run_id, [train_input(data.dataset)])


def train_input(dataset: Any) -> DatasetInput:
    return DatasetInput(dataset.to_entity(), [InputTag(DATASET_CONTEXT_TAG, "train")])


def log_after_fit(
    client: MlflowxClient, run_id: str, config: AutologConfig, estimator: Any, data: FitData
) -> None:
    search = is_search(estimator)
    if search and hasattr(estimator, "best_params_"):
        with attempt(config, "logging the best params"):
            log_params(client, run_id, best_params(estimator))
    if config.log_models:
        with attempt(config, "logging the model"):
            log_model(config, estimator, "model", data, config.registered_model_name)
    if data.y is not None:
        metrics = training_metrics(config, estimator, data)
        with attempt(config, "logging the training metrics"):
            log_metrics(client, run_id, metrics)
    with attempt(config, "logging estimator.html"):
        client.log_text(run_id, _estimator_html(estimator), "estimator.html")


def best_params(search: Any) -> dict[str, Any]:
    return {f"best_{k}": v for k, v in search.best_params_.items()}


# ------------------------------------------------------------------------ model
def log_model(
    config: AutologConfig, model: Any, name: str, data: FitData, registered: str | None
) -> None:
    import mlflowx.sklearn  # looked up on each call, so a wrapped log_model is honoured

    options: dict[str, Any] = {}
    if config.serialization_format == "skops":
        # The user just trained this model: declare the types it holds, so that saving it
        # succeeds. Loading still needs the loader to trust them.
        options["skops_trusted_types"] = _untrusted_types(model) or None
    params = estimator_params(model)
    if is_search(model) and hasattr(model, "best_params_"):
        params |= best_params(model)
    mlflowx.sklearn.log_model(
        model,
        name=name,
        serialization_format=config.serialization_format,
        signature=_signature(config, model, data) if config.log_model_signatures else False,
        input_example=data.example if config.log_input_examples else None,
        registered_model_name=registered,
        params={
            _text(k, MAX_ENTITY_KEY_LENGTH): _text(v, MAX_PARAM_VAL_LENGTH)
            for k, v in params.items()
        },
        **options,
    )


def _untrusted_types(model: Any) -> list[str]:
    import skops.io

    from mlflowx.models.skops_trust import untrusted

    return untrusted(skops.io.get_untrusted_types(data=skops.io.dumps(model)))


def _signature(config: AutologConfig, model: Any, data: FitData) -> Any:
    """The signature inferred from the input example and the model's output on it; None (with
    a warning) when that fails, as MLflow does."""
    from mlflowx.models.signature import infer_signature

    if data.example is None:
        return None
    with attempt(config, "inferring the model signature"):
        if hasattr(model, "predict"):
            output = model.predict(deepcopy(data.example))
        elif hasattr(model, "transform"):
            output = model.transform(deepcopy(data.example))
        else:  # nothing to infer an output from (a search with refit=False, say)
            return None
        return infer_signature(data.example, output)
    return None


# ------------------------------------------------------------------------ metrics
def training_metrics(config: AutologConfig, estimator: Any, data: FitData) -> dict[str, float]:
    """MLflow's ``training_*`` metrics: per estimator kind, then ``training_score``. A metric
    that cannot be computed is skipped with a warning."""
    from sklearn.base import is_classifier, is_regressor

    metrics: dict[str, float] = {}
    if is_search(estimator) and not hasattr(estimator, "best_estimator_"):
        return metrics  # refit=False: the search cannot predict or score
    can_predict = hasattr(estimator, "predict")
    if can_predict and is_classifier(estimator):
        metrics |= _classifier_metrics(config, estimator, data)
    elif can_predict and is_regressor(estimator):
        metrics |= _regressor_metrics(config, estimator, data)
    if hasattr(estimator, "score"):
        with attempt(config, f"computing {TRAINING_PREFIX}score"):
            score_args = [data.X, data.y]
            if "sample_weight" in inspect.signature(estimator.score).parameters:
                score_args.append(data.sample_weight)
            metrics[f"{TRAINING_PREFIX}score"] = float(estimator.score(*score_args))
    return metrics


def _compute(
    config: AutologConfig, out: dict[str, float], name: str, fn: Any, *args: Any, **kwargs: Any
) -> None:
    # y_true and the prediction go positionally: scikit-learn renames those keywords
    # (log_loss's y_pred became y_proba in 1.9).
    with attempt(config, f"computing {TRAINING_PREFIX}{name}"):
        out[f"{TRAINING_PREFIX}{name}"] = float(fn(*args, **kwargs))


def _classifier_metrics(config: AutologConfig, est: Any, data: FitData) -> dict[str, float]:
    from sklearn import metrics as m

    y, weights, pos_label = data.y, data.sample_weight, config.pos_label
    out: dict[str, float] = {}
    with attempt(config, "predicting on the training data"):
        y_pred = est.predict(data.X)
        label: dict[str, Any] = {"average": "weighted" if pos_label is None else "binary"}
        if pos_label is not None:
            label["pos_label"] = pos_label
        for name, fn in (
            ("precision_score", m.precision_score),
            ("recall_score", m.recall_score),
            ("f1_score", m.f1_score),
        ):
            _compute(config, out, name, fn, y, y_pred, sample_weight=weights, **label)
        _compute(config, out, "accuracy_score", m.accuracy_score, y, y_pred, sample_weight=weights)
    if hasattr(est, "predict_proba"):
        with attempt(config, "predicting probabilities on the training data"):
            proba = est.predict_proba(data.X)
            _compute(config, out, "log_loss", m.log_loss, y, proba, sample_weight=weights)
            # binary: the score of the greater label, as roc_auc_score expects
            score = proba[:, 1] if proba.ndim == 2 and proba.shape[1] == 2 else proba
            _compute(
                config,
                out,
                "roc_auc",
                m.roc_auc_score,
                y,
                score,
                average="weighted",
                sample_weight=weights,
                multi_class="ovo",
            )
    return out


def _regressor_metrics(config: AutologConfig, est: Any, data: FitData) -> dict[str, float]:
    from sklearn import metrics as m

    out: dict[str, float] = {}
    with attempt(config, "predicting on the training data"):
        y_pred = est.predict(data.X)
        for name, fn in (
            ("mean_squared_error", m.mean_squared_error),
            ("mean_absolute_error", m.mean_absolute_error),
            ("r2_score", m.r2_score),
        ):
            _compute(
                config,
                out,
                name,
                fn,
                data.y,
                y_pred,
                sample_weight=data.sample_weight,
                multioutput="uniform_average",
            )
        mse = out.get(f"{TRAINING_PREFIX}mean_squared_error")
        if mse is not None:
            out[f"{TRAINING_PREFIX}root_mean_squared_error"] = math.sqrt(mse)
    return out


def _estimator_html(estimator: Any) -> str:
    from sklearn.utils import estimator_html_repr

    # charset declared so the collapse toggles render (MLflow's page, same layout)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n  <head>\n    <meta charset="UTF-8"/>\n  </head>\n'
        f"  <body>\n    {estimator_html_repr(estimator)}\n  </body>\n</html>\n"
    )
