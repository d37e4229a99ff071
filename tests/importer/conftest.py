"""MLflow stores written by the real ``mlflow`` package, as sources to import from."""

from __future__ import annotations

import os
import sqlite3
import warnings
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def empty_mlflow_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow database with its schema and nothing else (creating the schema is slow)."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    folder = tmp_path_factory.mktemp("mlflow-db")
    path = folder / "mlflow.db"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLflow's own SQLAlchemy deprecation warnings
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        SqlAlchemyStore(f"sqlite:///{path}", str(folder / "artifacts")).engine.dispose()
    return path


def copy_db(source: Path, target: Path) -> Path:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target
