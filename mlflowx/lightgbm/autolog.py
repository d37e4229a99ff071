"""``mlflowx.lightgbm.autolog()``: log ``lightgbm.train`` and the scikit-learn API's ``fit``.

What is logged, and how runs are chosen, is in :mod:`mlflowx.models.boosting_autolog`. LightGBM
is imported only when autologging is enabled.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
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
# Arguments of lightgbm.train that are data or code, not params (as MLflow leaves them out).
_NOT_PARAMS = {"train_set", "valid_sets", "valid_names", "feval", "init_model", "callbacks"}
_SKLEARN_CLASSES = ("LGBMModel", "LGBMClassifier", "LGBMRegressor", "LGBMRanker")


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    extra_tags: Mapping[str, Any] | None = None,
) -> None:
    """Enable (or, with ``disable=True``, remove) autologging for LightGBM.

    Each outermost ``lightgbm.train`` or scikit-learn-API ``fit`` logs its params, the
    evaluation metrics of every iteration (``<valid name>-<metric>``, ``step`` = iteration; ``@``
    in a metric name becomes ``_at_``; with early stopping also ``best_iteration`` and
    ``stopped_iteration``), the ``split`` and ``gain`` feature importances
    (``feature_importance_<type>.json`` and ``.png``) and the model (``model``).

    Args:
        log_input_examples: save the first rows of the training data as the input example
            (scikit-learn API with a DataFrame or array; a Dataset has none).
        log_model_signatures: infer the signature from those rows and the model's output.
        log_models: log the trained model (a scikit-learn-API model with skops).
        disable: restore LightGBM's original functions.
        exclusive: log nothing into runs the user started; only into runs autolog starts.
        silent: no autolog warnings.
        registered_model_name: also register each logged model under this name.
        extra_tags: tags for the runs autolog starts.
    """
    global _config
    if disable:
        _config = None
        _patches.restore()
        return
    import lightgbm as lgb
    import lightgbm.sklearn

    _config = BoostingConfig(
        flavor="lightgbm",
        importance_types=("split", "gain"),
        log_input_examples=log_input_examples,
        log_model_signatures=log_model_signatures,
        log_models=log_models,
        exclusive=exclusive,
        silent=silent,
        registered_model_name=registered_model_name,
        extra_tags={str(k): str(v) for k, v in (extra_tags or {}).items()},
    )
    _patches.patch(lgb, "train", _wrap_train)
    _patches.patch(lightgbm.sklearn, "train", _wrap_train)
    for name in _SKLEARN_CLASSES:
        _patches.patch(getattr(lightgbm.sklearn, name), "fit", _wrap_fit)


def _callback(buffer: MetricsBuffer) -> Any:
    def log_metrics(env: Any) -> None:
        buffer.record(
            {
                f"{item[0]}-{item[1]}".replace("@", "_at_"): item[2]
                for item in env.evaluation_result_list
            },
            env.iteration,
        )

    return log_metrics


def _wrap_train(original: Any) -> Any:
    hooks = TrainHooks(lambda: _config, frozenset(_NOT_PARAMS), _train_logging_metrics, _after)
    return wrap_train(original, hooks)


def _train_logging_metrics(
    config: BoostingConfig, run_id: str, original: Any, args: tuple[Any, ...], kw: dict[str, Any]
) -> Any:
    buffer = MetricsBuffer(config, run_id)
    try:
        bound = inspect.signature(original).bind(*args, **kw)
    except TypeError:  # a bad call: LightGBM itself will say so
        return original(*args, **kw)
    bound.arguments["callbacks"] = [*(bound.arguments.get("callbacks") or []), _callback(buffer)]
    try:
        booster = original(*bound.args, **bound.kwargs)
    finally:
        buffer.flush()
    best = getattr(booster, "best_iteration", 0)
    if best > 0:  # early stopping ran; LightGBM counts iterations from 1
        with attempt(config, "logging the early-stopping metrics"):
            log_early_stopping(buffer, len(buffer.iterations), best, best - 1)
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
            _after(config, client, run_id, self.booster_, self, example)
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
    names = booster.feature_name()
    for kind in config.importance_types:
        with attempt(config, f"logging the {kind} feature importance"):
            values = booster.feature_importance(importance_type=kind)
            log_importance(client, run_id, kind, dict(zip(names, values, strict=True)))
    if config.log_models:
        import mlflowx.lightgbm

        with attempt(config, "logging the model"):
            log_trained_model(config, mlflowx.lightgbm.log_model, model, example)
