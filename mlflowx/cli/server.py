"""``mlflowx server`` and ``mlflowx ui``: the tracking server (MLflow's REST API, the artifact
proxy and the web UI)."""

from __future__ import annotations

import os
from typing import Annotated

import typer


def server(
    backend_store_uri: Annotated[
        str | None,
        typer.Option(
            "--backend-store-uri",
            envvar="MLFLOWX_BACKEND_STORE_URI",
            help="SQL store URI (default: the embedded SQLite file under $MLFLOWX_HOME or .).",
        ),
    ] = None,
    artifacts_destination: Annotated[
        str | None,
        typer.Option(
            "--artifacts-destination",
            envvar="MLFLOWX_ARTIFACTS_DESTINATION",
            help="Where proxied artifacts are stored: a path or an fsspec URL (s3://...).",
        ),
    ] = None,
    serve_artifacts: Annotated[
        bool,
        typer.Option(
            "--serve-artifacts/--no-serve-artifacts",
            help="Proxy artifacts through the server (clients need no store credentials).",
        ),
    ] = True,
    default_artifact_root: Annotated[
        str | None,
        typer.Option(
            "--default-artifact-root",
            help="With --no-serve-artifacts: where new experiments put their artifacts.",
        ),
    ] = None,
    max_artifact_size: Annotated[
        str,
        typer.Option(
            "--max-artifact-size",
            envvar="MLFLOWX_MAX_ARTIFACT_SIZE",
            help="Largest artifact one upload through the proxy may be: bytes, or with a unit "
            "K, M, G, T (powers of 1024). Larger uploads are refused with 413.",
        ),
    ] = "5G",
    host: Annotated[str, typer.Option("--host", "-h")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p")] = 5000,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1)] = 1,
    log_level: Annotated[str, typer.Option("--log-level")] = "warning",
) -> None:
    """Serve the MLflow REST API and the web UI; the official ``mlflow`` client works unchanged."""
    from mlflowx import settings
    from mlflowx.exceptions import InvalidParameter
    from mlflowx.server.limits import parse_size
    from mlflowx.store.tracking.sql import SqlTrackingStore
    from mlflowx.utils.uvicorn_setup import serve

    try:
        max_artifact_bytes = parse_size(max_artifact_size)
    except InvalidParameter as exc:
        raise typer.BadParameter(exc.message, param_hint="--max-artifact-size") from None
    backend = backend_store_uri or settings.default_tracking_uri()
    destination = None
    if serve_artifacts:
        destination = artifacts_destination or settings.default_artifact_root()
        root = "mlflow-artifacts:/"
    else:
        root = default_artifact_root or settings.default_artifact_root()
    # Open the store once here: schema problems stop the server before any worker starts.
    SqlTrackingStore(backend, default_artifact_root=root).close()
    os.environ["MLFLOWX_SERVER_BACKEND_STORE_URI"] = backend
    os.environ["MLFLOWX_SERVER_ARTIFACTS_DESTINATION"] = destination or ""
    os.environ["MLFLOWX_SERVER_DEFAULT_ARTIFACT_ROOT"] = root
    os.environ["MLFLOWX_SERVER_MAX_ARTIFACT_BYTES"] = str(max_artifact_bytes)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"
    typer.echo(f"mlflowx server on {url} (store {backend}, artifacts {destination})")
    typer.echo(f"Web UI: {url}/   API docs: {url}/docs")
    serve(
        "mlflowx.server.app:app_from_env",
        workers=workers,
        preload=("mlflowx.server.app",),  # imported once; forked workers only build the app
        host=host,
        port=port,
        http="mlflowx.utils.uvicorn_setup:NoDelayHttpProtocol",
        ws="none",  # no WebSocket routes: skip importing a WebSocket implementation
        log_level=log_level,
        timeout_graceful_shutdown=10,
        server_header=False,
    )
