"""MLflow's own stores (a file store folder, an MLflow database): refused, pointing to import.

mlflowx keeps tracking data in its own database schema. A folder (MLflow's ``./mlruns`` file
store, or any ``file:`` URI) and a database created by MLflow (``mlflow.db``, whose Alembic
revisions are MLflow's 12-hex ids) cannot be used in place; ``mlflowx import`` copies them.
"""

from __future__ import annotations

import re

from mlflowx.exceptions import InvalidParameter, InvalidState

__all__ = [
    "file_store_refused",
    "is_mlflow_revision",
    "mlflow_database_refused",
    "safe_uri",
]

_MLFLOW_REVISION = re.compile(r"[0-9a-f]{12}")
_DEFAULT_TARGET = "sqlite:///mlflowx.db"


def is_mlflow_revision(revision: str | None) -> bool:
    """An Alembic revision of MLflow's schema (mlflowx's are named ``0001_initial`` and on)."""
    return bool(revision) and _MLFLOW_REVISION.fullmatch(str(revision)) is not None


def file_store_refused(uri: str) -> InvalidParameter:
    return InvalidParameter(
        f"The tracking URI {uri!r} names a folder (MLflow's file store, such as ./mlruns); "
        "mlflowx keeps tracking data in a database (sqlite:///path/to/mlflowx.db, "
        "postgresql://...) or on a server (http://...). To bring MLflow runs from that folder "
        f"over, copy them: mlflowx import {_source(uri)} --to {_DEFAULT_TARGET}; then use "
        f"{_DEFAULT_TARGET} as the tracking URI."
    )


def mlflow_database_refused(uri: str, revision: str | None) -> InvalidState:
    return InvalidState(
        f"The database {uri} is an MLflow database (MLflow schema revision {revision!r}); "
        "mlflowx does not open or migrate MLflow's schema. Copy its experiments, runs, "
        f"models and registry into an mlflowx store: mlflowx import {uri} --to "
        f"{_DEFAULT_TARGET}."
    )


def _source(uri: str) -> str:
    if uri.startswith("file://"):
        return uri[len("file://") :] or "."
    if uri.startswith("file:"):
        return uri[len("file:") :] or "."
    return uri


def safe_uri(uri: str) -> str:
    """``uri`` with its password masked, for messages."""
    from urllib.parse import urlsplit

    password = urlsplit(uri).password
    return uri.replace(f":{password}@", ":***@") if password else uri
