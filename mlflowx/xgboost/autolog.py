"""``mlflowx.xgboost.autolog()``: log ``xgboost.train`` and the scikit-learn API's ``fit``.

What is logged, and how runs are chosen, is in :mod:`mlflowx.models.boosting_autolog`. XGBoost
is imported only when autologging is enabled.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable, Mapping
from typing import Any

from mlflowx.models.boosting_autolog import (
    BoostingConfig,
    MetricsBuffer,
    Patches,
    TrainHooks,
    attempt,
    autolog_run,
    current_run,
    first_rows,
    log_early_stopping,
    log_importance,
    log_params,
    log_tags,
    log_trained_model,
    wrap_train,
)
from mlflowx.tracking.client import MlflowxClient

__all__ = ["autolog"]

_config: BoostingConfig | None = None
_patches = Patches()
# Arguments of xgboost.train that are data or code, not params (as MLflow leaves them out).
_NOT_PARAMS = {"dtrain", "evals", "obj", "evals_result", "xgb_model", "callbacks", "custom_metric"}
_SKLEARN_CLASSES = (
    "XGBModel",
    "XGBClassifier",
    "XGBRegressor",
    "XGBRanker",
    "XGBRFClassifier",
    "XGBRFRegressor",
)


def autolog(
    importance_types: Iterable[str] | None = None,
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    model_format: str = "ubj",
    extra_tags: Mapping[str, Any] | None = None,
) -> None:
    """Enable (or, with ``disable=True``, remove) autologging for XGBoost.

    Each outermost ``xgboost.train`` or scikit-learn-API ``fit`` logs its params, the evaluation
    metrics of every iteration (``<eval name>-<metric>``, ``step`` = iteration; with early
    stopping also ``best_iteration`` and ``stopped_iteration``), the feature importances
    (``feature_importance_<type>.json`` and ``.png``) and the model (``model``).

    Args:
        importance_types: XGBoost importance types to log (default ``["weight"]``).
        log_input_examples: save the first rows of the training data as the input example
            (scikit-learn API with a DataFrame or array; a DMatrix has none).
        log_model_signatures: infer the signature from those rows and the model's output.
        log_models: log the trained model.
        disable: restore XGBoost's original functions.
        exclusive: log nothing into runs the user started; only into runs autolog starts.
        silent: no autolog warnings.
        registered_model_name: also register each logged model under this name.
        model_format: the file format of the logged models (``ubj`` or ``json``).
        extra_tags: tags for the runs autolog starts.
    """
    global _config
    if disable:
        _config = None
        _patches.restore()
        return
    import xgboost as xgb
    import xgboost.sklearn

    _config = BoostingConfig(
        flavor="xgboost",
        importance_types=tuple(importance_types or ("weight",)),
        log_input_examples=log_input_examples,
        log_model_signatures=log_model_signatures,
        log_models=log_models,
        exclusive=exclusive,
        silent=silent,
        registered_model_name=registered_model_name,
        extra_tags={str(k): str(v) for k, v in (extra_tags or {}).items()},
        model_options={"model_format": model_format},
    )
    _patches.patch(xgb, "train", _wrap_train)
    _patches.patch(xgboost.sklearn, "train", _wrap_train)
    for name in _SKLEARN_CLASSES:
        _patches.patch(getattr(xgboost.sklearn, name), "fit", _wrap_fit)


def _callback(buffer: MetricsBuffer) -> Any:
    import xgboost as xgb

    class _LogMetrics(xgb.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            buffer.record(
                {
                    f"{data}-{metric}": values[-1]
                    if not isinstance(values[-1], tuple)
                    else values[-1][0]
                    for data, metrics in evals_log.items()
                    for metric, values in metrics.items()
                },
                epoch,
            )
            return False

    return _LogMetrics()


def _with_callback(original: Any, args: tuple[Any, ...], kwargs: dict[str, Any], cb: Any) -> Any:
    bound = inspect.signature(original).bind(*args, **kwargs)
    bound.arguments["callbacks"] = [*(bound.arguments.get("callbacks") or []), cb]
    return bound


def _wrap_train(original: Any) -> Any:
    hooks = TrainHooks(lambda: _config, frozenset(_NOT_PARAMS), _train_logging_metrics, _after)
    return wrap_train(original, hooks)


def _train_logging_metrics(
    config: BoostingConfig, run_id: str, original: Any, args: tuple[Any, ...], kw: dict[str, Any]
) -> Any:
    buffer = MetricsBuffer(config, run_id)
    try:
        bound = _with_callback(original, args, kw, _callback(buffer))
    except TypeError:  # a bad call: XGBoost itself will say so
        return original(*args, **kw)
    try:
        booster = original(*bound.args, **bound.kwargs)
    finally:
        buffer.flush()
    if bound.arguments.get("early_stopping_rounds"):
        with attempt(config, "logging the early-stopping metrics"):
            best = int(booster.best_iteration)
            log_early_stopping(buffer, len(buffer.iterations) - 1, best, best)
    return booster


def _wrap_fit(original: Any) -> Any:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        config = _config
        if config is None or current_run() is not None:
            return original(self, *args, **kwargs)
        with autolog_run(config) as run_id:
            if not run_id:
                return original(self, *args, **kwargs)
            client = MlflowxClient()
            with attempt(config, "logging the params"):
                log_params(client, run_id, self.get_params())
                cls = type(self)
                log_tags(
                    client,
                    run_id,
                    {
                        "estimator_name": cls.__name__,
                        "estimator_class": f"{cls.__module__}.{cls.__name__}",
                    },
                )
            example = first_rows(args[0] if args else kwargs.get("X"))
            result = original(self, *args, **kwargs)
            _after(config, client, run_id, self.get_booster(), self, example)
            return result

    return fit


def _after(
    config: BoostingConfig,
    client: MlflowxClient,
    run_id: str,
    booster: Any,
    model: Any,
    example: Any,
) -> None:
    for kind in config.importance_types:
        with attempt(config, f"logging the {kind} feature importance"):
            log_importance(client, run_id, kind, booster.get_score(importance_type=kind))
    if config.log_models:
        import mlflowx.xgboost

        with attempt(config, "logging the model"):
            log_trained_model(config, mlflowx.xgboost.log_model, model, example)
