"""Which tracking and registry URIs are in force: set for the process (or, for tracking, for a
context), then the environment, then the defaults (the embedded SQLite store; the registry
follows tracking). The one place both are resolved, below the clients of both."""

from __future__ import annotations

import threading
from contextvars import ContextVar
from pathlib import Path

from mlflowx import settings
from mlflowx.store.mlflow_stores import file_store_refused
from mlflowx.store.schemes import scheme_of

__all__ = [
    "context_tracking_uri",
    "get_registry_uri",
    "get_tracking_uri",
    "is_tracking_uri_set",
    "normalize_uri",
    "resolve_registry_uri",
    "set_registry_uri",
    "set_tracking_uri",
]

_lock = threading.Lock()
_tracking_uri: str | None = None
#: A URI in force for the current context only (set by a tracked Prefect flow or task run).
context_tracking_uri: ContextVar[str | None] = ContextVar("mlflowx_tracking_uri", default=None)


def normalize_uri(uri: str | Path) -> str:
    """``uri`` as a store URI; a folder or ``file:`` URI (MLflow's file store) is refused."""
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
        _tracking_uri = None if uri is None else normalize_uri(uri)


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
    return normalize_uri(env) if env else settings.default_tracking_uri()


def is_tracking_uri_set() -> bool:
    return _tracking_uri is not None or settings.tracking_uri_from_env() is not None


_registry_uri: str | None = None


def set_registry_uri(uri: str | Path | None) -> None:
    """Keep the model registry at ``uri`` for this process (``None``: back to the default).

    Args:
        uri: a database URI (``sqlite:///...``, ``postgresql://...``), an ``http(s)://``
            tracking server, as for tracking URIs (a folder, MLflow's file store, is refused:
            ``mlflowx import`` copies it).
    """
    global _registry_uri
    with _lock:
        _registry_uri = None if uri is None else normalize_uri(uri)


def get_registry_uri() -> str:
    """The registry URI in force: :func:`set_registry_uri`, then ``MLFLOWX_REGISTRY_URI`` (or
    MLflow's ``MLFLOW_REGISTRY_URI``), then the tracking URI (:func:`mlflowx.get_tracking_uri`)."""
    return resolve_registry_uri()


def resolve_registry_uri(
    registry_uri: str | Path | None = None, tracking_uri: str | None = None
) -> str:
    """The registry a client uses: its own ``registry_uri``, else the one set for the process
    or in the environment, else its tracking URI (else the process's tracking URI), as
    MLflow's ``MlflowClient(tracking_uri, registry_uri)`` resolves it."""
    if registry_uri:
        return normalize_uri(registry_uri)
    if _registry_uri is not None:
        return _registry_uri
    env = settings.env("MLFLOWX_REGISTRY_URI")
    if env:
        return normalize_uri(env)
    return normalize_uri(tracking_uri) if tracking_uri else get_tracking_uri()
