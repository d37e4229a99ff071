"""The public surface: ``__all__`` sorted and complete, and a light ``import mlflowx``."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import pytest

import mlflowx
from tests.mlflow_names import (
    CLIENT_EXCLUDED,
    EXCLUDED,
    MODELS_EXCLUDED,
    mlflow_client_methods,
    mlflow_models_names,
    mlflow_public_names,
)


def test_all_is_sorted_and_complete() -> None:
    assert mlflowx.__all__ == sorted(mlflowx.__all__)
    # Subpackages appear as attributes once imported anywhere; ``data`` and (as in MLflow's
    # ``__all__``) ``pyfunc`` are listed. The lazy names (module ``__getattr__``) would import
    # pandas, scikit-learn or Prefect: ``flow``, ``task``, ``evaluate``, ``run``...
    lazy = {"evaluate", "flow", "pyfunc", "run", "task", "validate_evaluation_results"}
    assert lazy <= set(mlflowx._LAZY)
    public = {
        n
        for n in dir(mlflowx)
        if not n.startswith("_") and not isinstance(getattr(mlflowx, n), types.ModuleType)
    }
    assert public | lazy | {"data", "__version__"} == set(mlflowx.__all__)


def test_mlflow_fluent_names_exist() -> None:
    for name in (
        "start_run",
        "end_run",
        "active_run",
        "last_active_run",
        "log_param",
        "log_params",
        "log_metric",
        "log_metrics",
        "set_tag",
        "set_tags",
        "delete_tag",
        "log_artifact",
        "log_artifacts",
        "log_text",
        "log_dict",
        "log_figure",
        "log_image",
        "log_input",
        "get_run",
        "search_runs",
        "set_experiment",
        "create_experiment",
        "get_experiment_by_name",
        "search_experiments",
        "set_tracking_uri",
        "get_tracking_uri",
        "MlflowClient",
    ):
        assert callable(getattr(mlflowx, name)), name


def test_import_pulls_no_heavy_dependency() -> None:
    code = (
        "import sys, json, mlflowx\n"
        "heavy = ['sqlalchemy', 'sqlmodel', 'alembic', 'pandas', 'numpy', 'sklearn', 'prefect',"
        " 'fastapi', 'pydantic', 'fsspec', 'mlflow', 'httpx']\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_sqlite_logging_path_pulls_no_sqlalchemy(tmp_path: object) -> None:
    code = (
        "import sys, json, mlflowx as mlflow\n"
        f"mlflow.set_tracking_uri('sqlite:///{tmp_path}/x.db')\n"
        "mlflow.MlflowClient()  # warm\n"
        "import mlflowx.store.tracking.sql  # store module itself\n"
        "print(json.dumps([m for m in ('sqlmodel', 'pandas') if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_every_mlflow_public_name_exists_or_is_excluded() -> None:
    """MLflow's top-level names (``__all__``, its lazily loaded flavor modules and the public
    submodules its ``__init__`` imports) exist in mlflowx, or are excluded with a reason."""
    names = mlflow_public_names()
    missing = sorted(n for n in names - set(EXCLUDED) if not hasattr(mlflowx, n))
    assert missing == [], f"MLflow names missing from mlflowx (add them or exclude them): {missing}"
    # The exclusion list holds only names MLflow has and mlflowx lacks: no stale entries.
    assert sorted(n for n in EXCLUDED if n not in names) == []
    assert sorted(n for n in EXCLUDED if n in dir(mlflowx) or n in mlflowx._LAZY) == []


@pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated")
def test_every_mlflow_models_name_exists_or_is_excluded() -> None:
    import mlflowx.models

    names = mlflow_models_names()
    missing = sorted(n for n in names - set(MODELS_EXCLUDED) if not hasattr(mlflowx.models, n))
    assert missing == [], f"mlflow.models names missing from mlflowx.models: {missing}"
    assert sorted(n for n in MODELS_EXCLUDED if n not in names) == []
    assert sorted(n for n in MODELS_EXCLUDED if hasattr(mlflowx.models, n)) == []


def test_every_mlflow_client_method_exists_or_is_excluded(tmp_path: object) -> None:
    client = mlflowx.MlflowClient(f"sqlite:///{tmp_path}/c.db")
    methods = mlflow_client_methods()
    missing = sorted(n for n in methods - set(CLIENT_EXCLUDED) if not hasattr(client, n))
    assert missing == [], f"MlflowClient methods missing from mlflowx: {missing}"
    assert sorted(n for n in CLIENT_EXCLUDED if n not in methods) == []
    assert sorted(n for n in CLIENT_EXCLUDED if hasattr(client, n)) == []


def test_mlflow_submodule_names_are_lazy_and_real() -> None:
    code = (
        "import sys, json, mlflowx as mlflow\n"
        "before = [m for m in ('mlflowx.pyfunc', 'mlflowx.sklearn', 'mlflowx.models', 'pandas',"
        " 'mlflowx.artifacts', 'mlflowx.projects') if m in sys.modules]\n"
        "import mlflowx.tracking\n"
        "ok = [mlflow.pyfunc.load_model is not None, callable(mlflow.sklearn.log_model),"
        " mlflow.tracking.MlflowClient is mlflow.MlflowClient,"
        " mlflow.client.MlflowClient is mlflow.MlflowClient,"
        " callable(mlflow.artifacts.download_artifacts), callable(mlflow.models.Model.load),"
        " mlflow.evaluate.__module__ == 'mlflowx.models.evaluation',"
        " callable(mlflow.validate_evaluation_results)]\n"
        "print(json.dumps([before, ok]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, ok = json.loads(out.stdout)
    assert before == []
    assert all(ok), ok
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        mlflowx.not_a_name  # noqa: B018


#: Names of MLflow's API submodules that code imports directly (``from mlflow.x import y``).
SUBMODULE_NAMES = {
    "artifacts": ["download_artifacts", "list_artifacts", "load_dict", "load_image", "load_text"],
    "client": ["MlflowClient"],
    "data": ["from_numpy", "from_pandas"],
    "entities": ["Experiment", "LoggedModel", "LoggedModelOutput", "Metric", "Param", "Run"],
    "exceptions": ["MlflowException"],
    "keras": ["load_model", "log_model", "save_model"],
    "models": [
        "Model",
        "ModelSignature",
        "convert_input_example_to_serving_input",
        "evaluate",
        "get_model_info",
        "infer_signature",
        "predict",
        "set_model",
        "set_signature",
        "update_model_requirements",
        "validate_serving_input",
    ],
    "onnx": ["load_model", "log_model", "save_model"],
    "projects": ["run"],
    "pyfunc": ["PyFuncModel", "PythonModel", "load_model", "log_model", "save_model"],
    "pytorch": [
        "load_model",
        "load_state_dict",
        "log_model",
        "log_state_dict",
        "save_model",
        "save_state_dict",
    ],
    "sklearn": ["autolog", "load_model", "log_model", "save_model"],
    "statsmodels": ["load_model", "log_model", "save_model"],
    "tracking": ["MlflowClient", "get_registry_uri", "get_tracking_uri", "set_tracking_uri"],
    "types": ["ColSpec", "DataType", "ParamSchema", "ParamSpec", "Schema", "TensorSpec"],
}


# Importing mlflow.pyfunc warns about its own type hints; checked, not ours to fix.
@pytest.mark.filterwarnings("ignore:.*inferred as AnyType:UserWarning")
@pytest.mark.parametrize("module", sorted(SUBMODULE_NAMES))
def test_mlflow_submodule_names(module: str) -> None:
    import importlib

    if module == "keras":
        # mlflow.keras imports Keras at once, on its default backend (TensorFlow, not
        # installed here) unless Keras was imported on another one before.
        from mlflowx.models.flavors.keras import import_keras

        import_keras()
    theirs = importlib.import_module(f"mlflow.{module}")
    ours = importlib.import_module(f"mlflowx.{module}")
    for name in SUBMODULE_NAMES[module]:
        assert hasattr(theirs, name), f"mlflow.{module}.{name} is gone: update this list"
        assert hasattr(ours, name), f"mlflowx.{module}.{name} is missing"
