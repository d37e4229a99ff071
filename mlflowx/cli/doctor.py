"""``mlflowx doctor``: versions, the URIs in use and whether the services they name answer
(MLflow's ``mlflow doctor``), to paste into a bug report."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from mlflowx.cli._options import TrackingUri

DEPENDENCIES = (
    "prefect", "fastapi", "uvicorn", "pydantic", "sqlalchemy", "sqlmodel", "alembic", "psycopg",
    "httpx", "fsspec", "typer", "rich", "numpy", "pandas", "scikit-learn", "skops", "docker",
)  # fmt: skip


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def masked(uri: str) -> str:
    """``uri`` with its password replaced by ``***``."""
    parts = urlsplit(uri)
    if parts.password:
        return uri.replace(f":{parts.password}@", ":***@", 1)
    return uri


def _store_state(uri: str) -> list[tuple[str, str]]:
    """The schema revision of a SQL store, or whether a server answers; never creates a store."""
    scheme = urlsplit(uri).scheme
    if scheme in ("http", "https"):
        import httpx

        try:
            response = httpx.get(uri.rstrip("/") + "/health", timeout=5)
            return [("tracking server", f"HTTP {response.status_code} from /health")]
        except httpx.HTTPError as exc:
            return [("tracking server", f"unreachable ({exc.__class__.__name__}: {exc})")]
    if scheme.startswith("sqlite"):
        from mlflowx.store.sql.db import sqlite_path

        path = sqlite_path(uri)
        if path != ":memory:" and not Path(path).exists():
            return [("schema revision", "(no database yet: created on first use)")]
    from mlflowx.store.sql.schema import HEAD_REVISION, current_revision

    try:
        revision = current_revision(uri)
    except Exception as exc:  # any driver's error: the report must still print
        return [("database", f"unreachable ({exc.__class__.__name__}: {exc})")]
    state = "up to date" if revision == HEAD_REVISION else f"mlflowx needs {HEAD_REVISION}"
    return [("schema revision", f"{revision or '(empty)'} ({state})")]


def _docker_state() -> str:
    try:
        import docker
    except ImportError:
        return "docker SDK not installed"
    try:
        client = docker.from_env(timeout=5)
        version = client.version().get("Version", "?")
        client.close()
    except Exception as exc:  # the daemon is optional: report why it does not answer
        return f"not reachable ({exc.__class__.__name__})"
    return f"reachable (engine {version})"


def doctor(
    mask_envs: Annotated[
        bool,
        typer.Option("--mask-envs", help="Show MLFLOW*/PREFECT* variables' values as ***."),
    ] = False,
    tracking_uri: TrackingUri = None,
) -> None:
    """Print versions, the tracking URI in use, the store's schema revision and whether the
    server, database and Docker answer."""
    from mlflowx import __version__
    from mlflowx.store.uris import get_tracking_uri, normalize_uri, resolve_registry_uri

    uri = normalize_uri(tracking_uri) if tracking_uri else get_tracking_uri()
    lines: list[tuple[str, str]] = [
        ("mlflowx", __version__),
        ("python", sys.version.split()[0]),
        ("platform", platform.platform()),
        *((dist, _version(dist)) for dist in DEPENDENCIES),
        ("tracking URI", masked(uri)),
        ("registry URI", masked(resolve_registry_uri(None, uri))),
        *_store_state(uri),
        ("prefect API", os.environ.get("PREFECT_API_URL") or "(ephemeral: none configured)"),
        ("docker daemon", _docker_state()),
    ]
    for name, value in sorted(os.environ.items()):
        if name.startswith(("MLFLOWX_", "MLFLOW_", "PREFECT_")):
            lines.append((name, "***" if mask_envs else masked(value)))
    width = max(len(name) for name, _ in lines)
    for name, value in lines:
        typer.echo(f"{name + ':':<{width + 1}} {value}")
