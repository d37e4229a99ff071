"""Autologging shared by the gradient-boosting flavors (XGBoost, LightGBM), as MLflow does it.

Each framework's ``train`` function and the ``fit`` of its scikit-learn classes are patched.
The outermost call logs to the active run (or a run it starts and ends): the training params,
every iteration's evaluation metrics (``<data>-<metric>`` at ``step=iteration``, from a callback
added to the call), ``feature_importance_<type>.json`` and ``.png``, and the fitted model
(``model``). A ``train`` call inside an autologged ``fit`` only adds the metrics callback. A
failure while logging becomes a ``UserWarning``; training itself is never changed.
"""

from __future__ import annotations

import functools
import inspect
import json
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from mlflowx.entities import Metric, Param, RunStatus, RunTag, now_ms
from mlflowx.tracking import fluent
from mlflowx.tracking.client import MlflowxClient
from mlflowx.utils.validation import (
    MAX_ENTITY_KEY_LENGTH,
    MAX_METRICS_PER_BATCH,
    MAX_PARAM_VAL_LENGTH,
    MAX_PARAMS_TAGS_PER_BATCH,
)

__all__ = [
    "AUTOLOGGING_TAG",
    "BoostingConfig",
    "MetricsBuffer",
    "Patches",
    "TrainHooks",
    "attempt",
    "autolog_run",
    "current_run",
    "first_rows",
    "log_early_stopping",
    "log_importance",
    "log_params",
    "log_tags",
    "log_trained_model",
    "warn",
    "wrap_train",
]

AUTOLOGGING_TAG = "mlflow.autologging"
INPUT_EXAMPLE_ROWS = 5
#: No autologged call is running; "" means one is running but logs nothing (exclusive mode).
_run: ContextVar[str | None] = ContextVar("mlflowx_boosting_autolog_run", default=None)


@dataclass(frozen=True)
class BoostingConfig:
    """The switches of ``mlflowx.xgboost.autolog``/``mlflowx.lightgbm.autolog``."""

    flavor: str
    importance_types: tuple[str, ...]
    log_input_examples: bool = False
    log_model_signatures: bool = True
    log_models: bool = True
    exclusive: bool = False
    silent: bool = False
    registered_model_name: str | None = None
    extra_tags: Mapping[str, str] = field(default_factory=dict)
    model_options: Mapping[str, Any] = field(default_factory=dict)


def warn(config: BoostingConfig, message: str) -> None:
    if not config.silent:
        warnings.warn(f"mlflowx autolog: {message}", UserWarning, stacklevel=3)


@contextmanager
def attempt(config: BoostingConfig, what: str) -> Iterator[None]:
    """Run a logging step; a failure becomes a warning instead of reaching the training."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, UserWarning) and str(exc).startswith("mlflowx autolog:"):
            raise
        warn(config, f"{what} failed: {type(exc).__name__}: {exc}")


def current_run() -> str | None:
    """The run the enclosing autologged call logs to ("" for none); None outside any."""
    return _run.get()


@contextmanager
def autolog_run(config: BoostingConfig) -> Iterator[str]:
    """The run of the outermost training call: the active one, or one started here and ended
    (FINISHED, FAILED or KILLED) with the call. Yields "" when nothing is to be logged."""
    active = fluent.active_run()
    run_id, owned = "", False
    if active is not None:
        run_id = "" if config.exclusive else active.info.run_id
    else:
        with attempt(config, "starting a run"):
            tags = {AUTOLOGGING_TAG: config.flavor, **config.extra_tags}
            run_id, owned = fluent.start_run(tags=tags).info.run_id, True
    token = _run.set(run_id)
    status = RunStatus.FINISHED
    try:
        yield run_id
    except BaseException as exc:
        status = RunStatus.KILLED if isinstance(exc, KeyboardInterrupt) else RunStatus.FAILED
        raise
    finally:
        _run.reset(token)
        if owned:
            with attempt(config, "ending the run"):
                fluent.end_run(status.value)


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


class MetricsBuffer:
    """Per-iteration metrics, written in batches (one write per iteration would cost a
    round trip each on a remote server)."""

    def __init__(self, config: BoostingConfig, run_id: str) -> None:
        self.config, self.run_id = config, run_id
        self._pending: list[Metric] = []
        self._lock = threading.Lock()
        #: Every iteration's metrics, in order.
        self.iterations: list[dict[str, float]] = []

    def record(self, metrics: Mapping[str, float], step: int) -> None:
        t = now_ms()
        with self._lock:
            self.iterations.append({k: float(v) for k, v in metrics.items()})
            self._pending += [Metric(k, float(v), t, step) for k, v in metrics.items()]
            full = len(self._pending) >= MAX_METRICS_PER_BATCH
        if full:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending:
            return
        with attempt(self.config, "logging the iteration metrics"):
            client = MlflowxClient()
            for start in range(0, len(pending), MAX_METRICS_PER_BATCH):
                client.log_batch(
                    self.run_id, metrics=pending[start : start + MAX_METRICS_PER_BATCH]
                )


def log_early_stopping(buffer: MetricsBuffer, stopped: int, best: int, best_index: int) -> None:
    """As MLflow: ``stopped_iteration``, ``best_iteration``, and the best iteration's metrics
    again at the step after the last one."""
    extra = len(buffer.iterations)
    buffer.record({"stopped_iteration": stopped, "best_iteration": best}, 0)
    buffer.iterations.pop()
    if 0 <= best_index < extra:
        buffer.record(buffer.iterations[best_index], extra)
    buffer.flush()


def log_importance(
    client: MlflowxClient, run_id: str, importance_type: str, importance: Mapping[str, float]
) -> None:
    """``feature_importance_<type>.json`` and a horizontal bar chart of it (``.png``)."""
    from matplotlib.figure import Figure

    values = {str(k): float(v) for k, v in importance.items()}
    stem = f"feature_importance_{importance_type}"
    client.log_text(run_id, json.dumps(values, indent=2), f"{stem}.json")
    ranked = sorted(values.items(), key=lambda kv: kv[1])
    figure = Figure(figsize=(6.4, max(2.0, 0.3 * len(ranked) + 1.0)), layout="tight")
    ax = figure.subplots()
    ax.barh(range(len(ranked)), [v for _, v in ranked], align="center", height=0.5)
    ax.set_yticks(range(len(ranked)), [k for k, _ in ranked])
    ax.set_xlabel("Importance")
    ax.set_title(f"Feature Importance ({importance_type})")
    client.log_figure(run_id, figure, f"{stem}.png")


def log_trained_model(
    config: BoostingConfig, log_model: Callable[..., Any], model: Any, example: Any
) -> None:
    """Log ``model`` as ``model`` with the example and signature the switches ask for."""
    from mlflowx.models.signature import infer_signature

    signature: Any = False
    if config.log_model_signatures and example is not None:
        with attempt(config, "inferring the model signature"):
            signature = infer_signature(example, model.predict(example))
    log_model(
        model,
        "model",
        signature=signature,
        input_example=example if config.log_input_examples else None,
        registered_model_name=config.registered_model_name,
        **config.model_options,
    )


def first_rows(data: Any) -> Any:
    """The first rows of training data for an example, or None (a DMatrix, a file path)."""
    import sys
    from copy import deepcopy

    pd = sys.modules.get("pandas")
    np = sys.modules.get("numpy")
    ok = (pd is not None and isinstance(data, pd.DataFrame)) or (
        np is not None and isinstance(data, np.ndarray)
    )
    return deepcopy(data[:INPUT_EXAMPLE_ROWS]) if ok else None


class Patches:
    """Module functions and class methods replaced by wrappers, and restored exactly."""

    def __init__(self) -> None:
        self._saved: dict[tuple[int, str], tuple[Any, str, Any]] = {}
        self._lock = threading.Lock()

    def patch(self, owner: Any, attr: str, make: Callable[[Any], Any]) -> None:
        with self._lock:
            key = (id(owner), attr)
            if key in self._saved or attr not in vars(owner):
                return
            original = vars(owner)[attr]
            self._saved[key] = (owner, attr, original)
            setattr(owner, attr, make(original))

    def restore(self) -> None:
        with self._lock:
            for owner, attr, original in self._saved.values():
                setattr(owner, attr, original)
            self._saved.clear()

    @property
    def installed(self) -> bool:
        return bool(self._saved)


def log_tags(client: MlflowxClient, run_id: str, tags: Mapping[str, str]) -> None:
    client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])


@dataclass(frozen=True)
class TrainHooks:
    """What differs between frameworks when their ``train`` function is autologged."""

    config: Callable[[], BoostingConfig | None]
    not_params: frozenset[str]
    #: (config, run id, original train, args, kwargs) -> the booster, per-iteration metrics logged
    train_logging_metrics: Callable[..., Any]
    #: (config, client, run id, booster, model, input example): importance, model, tags
    after: Callable[..., None]


def wrap_train(original: Any, hooks: TrainHooks) -> Any:
    """``original`` (``xgboost.train``, ``lightgbm.train``) autologged: in a run of its own (the
    call's params, per-iteration metrics, then ``hooks.after``), or, inside an autologged fit,
    only the metrics."""

    @functools.wraps(original)
    def train(*args: Any, **kwargs: Any) -> Any:
        config = hooks.config()
        outer = current_run()
        if config is None or outer == "":
            return original(*args, **kwargs)
        if outer is not None:  # inside an autologged fit: only the metrics
            return hooks.train_logging_metrics(config, outer, original, args, kwargs)
        with autolog_run(config) as run_id:
            if not run_id:
                return original(*args, **kwargs)
            client = MlflowxClient()
            with attempt(config, "logging the params"):
                bound = inspect.signature(original).bind(*args, **kwargs)
                bound.apply_defaults()
                values = dict(bound.arguments)
                params = dict(values.pop("params", None) or {})
                params |= {k: v for k, v in values.items() if k not in hooks.not_params}
                log_params(client, run_id, params)
            booster = hooks.train_logging_metrics(config, run_id, original, args, kwargs)
            hooks.after(config, client, run_id, booster, booster, None)
            return booster

    return train
