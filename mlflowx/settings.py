"""Configuration read from the environment, at the edges only.

pydantic-settings would be the natural tool, but importing it costs about 0.35 s here and
``import mlflowx`` has a 0.25 s budget, so this reads the few variables it needs directly.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "default_artifact_root",
    "default_tracking_uri",
    "home",
    "tracking_uri_from_env",
]


def home() -> Path:
    """Where the embedded store lives: ``$MLFLOWX_HOME`` or the working directory."""
    return Path(os.environ.get("MLFLOWX_HOME") or os.getcwd()).resolve()


def default_tracking_uri() -> str:
    """The embedded default: one SQLite file under :func:`home`."""
    return f"sqlite:///{home() / 'mlflowx.db'}"


def default_artifact_root() -> str:
    """Where artifacts go when neither the store nor the experiment says otherwise."""
    return str(home() / "mlartifacts")


def tracking_uri_from_env() -> str | None:
    """``MLFLOWX_TRACKING_URI``, falling back to MLflow's ``MLFLOW_TRACKING_URI``."""
    return os.environ.get("MLFLOWX_TRACKING_URI") or os.environ.get("MLFLOW_TRACKING_URI") or None


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}
