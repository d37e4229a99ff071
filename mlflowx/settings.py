"""Configuration read from the environment, at the edges only.

pydantic-settings would be the natural tool, but importing it costs about 0.35 s here and
``import mlflowx`` has a 0.25 s budget, so this reads the few variables it needs directly.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "allowed_artifact_hosts",
    "allowed_artifact_roots",
    "allowed_artifact_schemes",
    "default_artifact_root",
    "default_tracking_uri",
    "home",
    "prefect_ui_url",
    "tracking_uri_from_env",
    "ui_url",
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


#: Storage locations that operators may widen (see ``mlflowx.store.locations``).
ALLOWED_ARTIFACT_SCHEMES_ENV = "MLFLOWX_ALLOWED_ARTIFACT_SCHEMES"
ALLOWED_ARTIFACT_HOSTS_ENV = "MLFLOWX_ALLOWED_ARTIFACT_HOSTS"
ALLOWED_ARTIFACT_ROOTS_ENV = "MLFLOWX_ALLOWED_ARTIFACT_ROOTS"


def _csv(name: str) -> frozenset[str]:
    return frozenset(x.strip().lower() for x in os.environ.get(name, "").split(",") if x.strip())


def allowed_artifact_schemes() -> frozenset[str]:
    """``$MLFLOWX_ALLOWED_ARTIFACT_SCHEMES``: storage schemes allowed besides the defaults,
    comma-separated (``http,https,ftp``)."""
    return _csv(ALLOWED_ARTIFACT_SCHEMES_ENV)


def allowed_artifact_hosts() -> frozenset[str]:
    """``$MLFLOWX_ALLOWED_ARTIFACT_HOSTS``: hosts (``name`` or ``name:port``, ``*`` for any)
    that storage locations may name, comma-separated."""
    return _csv(ALLOWED_ARTIFACT_HOSTS_ENV)


def allowed_artifact_roots() -> tuple[str, ...]:
    """``$MLFLOWX_ALLOWED_ARTIFACT_ROOTS``: local directories, separated by ``os.pathsep``,
    where a tracking server's clients may place experiments besides the server's own roots."""
    raw = os.environ.get(ALLOWED_ARTIFACT_ROOTS_ENV, "")
    return tuple(x.strip() for x in raw.split(os.pathsep) if x.strip())


def tracking_uri_from_env() -> str | None:
    """``MLFLOWX_TRACKING_URI``, falling back to MLflow's ``MLFLOW_TRACKING_URI``."""
    return os.environ.get("MLFLOWX_TRACKING_URI") or os.environ.get("MLFLOW_TRACKING_URI") or None


def ui_url(tracking_uri: str | None = None) -> str | None:
    """Where people open the web UI, for links into it: ``$MLFLOWX_UI_URL``, else a tracking
    server's own address (an ``http(s)://`` tracking URI), else none."""
    explicit = os.environ.get("MLFLOWX_UI_URL", "").strip()
    if explicit:
        return explicit.rstrip("/")
    if tracking_uri and tracking_uri.startswith(("http://", "https://")):
        return tracking_uri.rstrip("/")
    return None


def prefect_ui_url() -> str | None:
    """Prefect's UI (``$PREFECT_UI_URL``), for links from runs and versions to flow runs."""
    return os.environ.get("PREFECT_UI_URL", "").strip().rstrip("/") or None


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}
