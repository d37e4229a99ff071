"""Which tracking URI is in force: explicit, then the environment, then the embedded default."""

from __future__ import annotations

import threading
from contextvars import ContextVar
from pathlib import Path

from mlflowx import settings
from mlflowx.store.mlflow_stores import file_store_refused
from mlflowx.store.registry import scheme_of

_lock = threading.Lock()
_tracking_uri: str | None = None
#: A URI in force for the current context only (set by a tracked Prefect flow or task run).
context_tracking_uri: ContextVar[str | None] = ContextVar("mlflowx_tracking_uri", default=None)


def _normalize(uri: str | Path) -> str:
    text = str(uri)
    # A bare path or a file: URI means MLflow's file store (./mlruns): refused with the way to
    # import it, rather than silently starting a new, empty store somewhere.
    if scheme_of(text) == "file":
        raise file_store_refused(text)
    return text


def set_tracking_uri(uri: str | Path | None) -> None:
    """Set the tracking URI for this process (``None`` returns to the default)."""
    global _tracking_uri
    with _lock:
        _tracking_uri = None if uri is None else _normalize(uri)


def get_tracking_uri() -> str:
    """The tracking URI in force: set_tracking_uri, then MLFLOWX_/MLFLOW_TRACKING_URI, then the
    embedded SQLite file under ``$MLFLOWX_HOME`` (or the working directory). A tracked Prefect
    flow run's own URI comes first inside that run."""
    scoped = context_tracking_uri.get()
    if scoped is not None:
        return scoped
    if _tracking_uri is not None:
        return _tracking_uri
    env = settings.tracking_uri_from_env()
    return _normalize(env) if env else settings.default_tracking_uri()


def is_tracking_uri_set() -> bool:
    return _tracking_uri is not None or settings.tracking_uri_from_env() is not None
