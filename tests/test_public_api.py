"""The public surface: ``__all__`` sorted and complete, and a light ``import mlflowx``."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import mlflowx


def test_all_is_sorted_and_complete() -> None:
    assert mlflowx.__all__ == sorted(mlflowx.__all__)
    # Subpackages appear as attributes once imported anywhere; only ``data`` is public API.
    # ``flow`` and ``task`` are lazy (module ``__getattr__``): they would import Prefect.
    lazy = {"flow", "task"}
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
