"""mlflowx: an MLflow-compatible ML lifecycle platform built natively on Prefect 3.

``import mlflowx as mlflow`` runs MLflow-style tracking code unchanged.
"""

import typing

from mlflowx import data
from mlflowx.entities import (
    Experiment,
    LifecycleStage,
    Metric,
    Param,
    Run,
    RunStatus,
    RunTag,
    ViewType,
)
from mlflowx.exceptions import MlflowxError
from mlflowx.registry import get_registry_uri, set_registry_uri
from mlflowx.registry.fluent import (
    search_model_versions,
    search_registered_models,
    set_model_version_tag,
)
from mlflowx.tracking import MlflowxClient, get_tracking_uri, is_tracking_uri_set, set_tracking_uri
from mlflowx.tracking.fluent import (
    ActiveRun,
    active_run,
    create_experiment,
    delete_experiment,
    delete_run,
    delete_tag,
    end_run,
    flush_async_logging,
    get_artifact_uri,
    get_experiment,
    get_experiment_by_name,
    get_run,
    last_active_run,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_image,
    log_input,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    log_text,
    restore_run,
    search_experiments,
    search_runs,
    set_experiment,
    set_experiment_tag,
    set_tag,
    set_tags,
    start_run,
)
from mlflowx.tracking.fluent_more import (
    delete_experiment_tag,
    delete_logged_model_tag,
    finalize_logged_model,
    flush_artifact_async_logging,
    get_logged_model,
    get_parent_run,
    initialize_logged_model,
    last_logged_model,
    load_table,
    log_inputs,
    log_model_params,
    log_outputs,
    log_stream,
    log_table,
    restore_experiment,
    search_logged_models,
    set_experiment_tags,
    set_logged_model_tags,
)
from mlflowx.tracking.registration import register_model

__version__ = "0.1.0"

#: MLflow's name for the client, so ``from mlflow import MlflowClient`` code ports unchanged.
MlflowClient = MlflowxClient
MlflowException = MlflowxError

#: Autolog integrations: flavor (its library's import name) -> the mlflowx module with ``autolog``.
#: Looked up by name, as MLflow does: flavors sit above the core layers that import ``mlflowx``.
_AUTOLOG_INTEGRATIONS = {
    "sklearn": "mlflowx.sklearn",
    "xgboost": "mlflowx.xgboost",
    "lightgbm": "mlflowx.lightgbm",
}


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    silent: bool = False,
    extra_tags: dict[str, str] | None = None,
    exclude_flavors: list[str] | None = None,
) -> None:
    """Enable (or ``disable``) autologging for every supported library that is installed:
    scikit-learn, XGBoost and LightGBM (:func:`mlflowx.sklearn.autolog`,
    :func:`mlflowx.xgboost.autolog`, :func:`mlflowx.lightgbm.autolog`), each given the switches
    it has. ``exclude_flavors`` skips some."""
    import inspect
    from importlib import import_module
    from importlib.util import find_spec

    switches: dict[str, object] = {
        "log_input_examples": log_input_examples,
        "log_model_signatures": log_model_signatures,
        "log_models": log_models,
        "log_datasets": log_datasets,
        "disable": disable,
        "exclusive": exclusive,
        "silent": silent,
        "extra_tags": extra_tags,
    }
    for flavor, module in _AUTOLOG_INTEGRATIONS.items():
        if flavor in (exclude_flavors or ()) or find_spec(flavor) is None:
            continue
        enable = import_module(module).autolog
        accepted = inspect.signature(enable).parameters
        enable(**{k: v for k, v in switches.items() if k in accepted})


if typing.TYPE_CHECKING:  # what ``__getattr__`` below provides, typed for type checkers
    from mlflowx import artifacts as artifacts
    from mlflowx import client as client
    from mlflowx import keras as keras
    from mlflowx import lightgbm as lightgbm
    from mlflowx import models as models
    from mlflowx import onnx as onnx
    from mlflowx import projects as projects
    from mlflowx import pyfunc as pyfunc
    from mlflowx import pytorch as pytorch
    from mlflowx import sklearn as sklearn
    from mlflowx import statsmodels as statsmodels
    from mlflowx import types as types
    from mlflowx import xgboost as xgboost
    from mlflowx.models.evaluation import evaluate as evaluate
    from mlflowx.models.evaluation.thresholds import (
        validate_evaluation_results as validate_evaluation_results,
    )
    from mlflowx.orchestration import flow as flow
    from mlflowx.orchestration import task as task
    from mlflowx.projects import run as run

#: Names provided on first use (module ``__getattr__``) so that ``import mlflowx`` stays light:
#: name -> (module, attribute or None for the module itself). Looked up by name: these sit in
#: layers above the core ones that import ``mlflowx``.
_LAZY: dict[str, tuple[str, str | None]] = {
    "artifacts": ("mlflowx.artifacts", None),
    "client": ("mlflowx.client", None),
    "evaluate": ("mlflowx.models.evaluation", "evaluate"),
    "flow": ("mlflowx.orchestration", "flow"),
    "lightgbm": ("mlflowx.lightgbm", None),
    "keras": ("mlflowx.keras", None),
    "models": ("mlflowx.models", None),
    "onnx": ("mlflowx.onnx", None),
    "projects": ("mlflowx.projects", None),
    "pyfunc": ("mlflowx.pyfunc", None),
    "pytorch": ("mlflowx.pytorch", None),
    "run": ("mlflowx.projects", "run"),
    "sklearn": ("mlflowx.sklearn", None),
    "statsmodels": ("mlflowx.statsmodels", None),
    "task": ("mlflowx.orchestration", "task"),
    "types": ("mlflowx.types", None),
    "validate_evaluation_results": (
        "mlflowx.models.evaluation.thresholds",
        "validate_evaluation_results",
    ),
    "xgboost": ("mlflowx.xgboost", None),
}


def __getattr__(name: str) -> object:
    """MLflow's lazily available names: subpackages (``mlflowx.pyfunc``, ``mlflowx.sklearn``,
    ``mlflowx.models``, ``mlflowx.artifacts`` ...), ``evaluate``, ``run`` (MLprojects), and
    ``flow``/``task`` (tracked Prefect flows and tasks), imported on first use so that
    ``import mlflowx`` imports neither pandas nor Prefect."""
    if name in _LAZY:
        from importlib import import_module

        module_name, attribute = _LAZY[name]
        module = import_module(module_name)
        return module if attribute is None else getattr(module, attribute)
    raise AttributeError(f"module 'mlflowx' has no attribute {name!r}")


__all__ = [
    "ActiveRun",
    "Experiment",
    "LifecycleStage",
    "Metric",
    "MlflowClient",
    "MlflowException",
    "MlflowxClient",
    "MlflowxError",
    "Param",
    "Run",
    "RunStatus",
    "RunTag",
    "ViewType",
    "__version__",
    "active_run",
    "autolog",
    "create_experiment",
    "data",
    "delete_experiment",
    "delete_experiment_tag",
    "delete_logged_model_tag",
    "delete_run",
    "delete_tag",
    "end_run",
    "evaluate",
    "finalize_logged_model",
    "flow",
    "flush_artifact_async_logging",
    "flush_async_logging",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_logged_model",
    "get_parent_run",
    "get_registry_uri",
    "get_run",
    "get_tracking_uri",
    "initialize_logged_model",
    "is_tracking_uri_set",
    "last_active_run",
    "last_logged_model",
    "load_table",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_inputs",
    "log_metric",
    "log_metrics",
    "log_model_params",
    "log_outputs",
    "log_param",
    "log_params",
    "log_stream",
    "log_table",
    "log_text",
    "pyfunc",
    "register_model",
    "restore_experiment",
    "restore_run",
    "run",
    "search_experiments",
    "search_logged_models",
    "search_model_versions",
    "search_registered_models",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_logged_model_tags",
    "set_model_version_tag",
    "set_registry_uri",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
    "task",
    "validate_evaluation_results",
]
