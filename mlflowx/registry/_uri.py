"""Which registry URI is in force: explicit, then the environment, then the tracking URI."""

from __future__ import annotations

import os
import threading
from pathlib import Path

__all__ = ["get_registry_uri", "resolve_registry_uri", "set_registry_uri"]

_lock = threading.Lock()
_registry_uri: str | None = None


def set_registry_uri(uri: str | Path | None) -> None:
    """Keep the model registry at ``uri`` for this process (``None``: back to the default).

    Args:
        uri: a database URI (``sqlite:///...``, ``postgresql://...``), an ``http(s)://``
            tracking server, as for tracking URIs (a folder, MLflow's file store, is refused:
            ``mlflowx import`` copies it).
    """
    from mlflowx.tracking._uri import _normalize

    global _registry_uri
    with _lock:
        _registry_uri = None if uri is None else _normalize(uri)


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
    from mlflowx.tracking._uri import _normalize, get_tracking_uri

    if registry_uri:
        return _normalize(registry_uri)
    if _registry_uri is not None:
        return _registry_uri
    env = os.environ.get("MLFLOWX_REGISTRY_URI") or os.environ.get("MLFLOW_REGISTRY_URI")
    if env:
        return _normalize(env)
    return _normalize(tracking_uri) if tracking_uri else get_tracking_uri()
