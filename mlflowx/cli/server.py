"""``mlflowx server`` and ``mlflowx ui``: the tracking server (MLflow's REST API, the artifact
proxy and the web UI)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from mlflowx.cli._options import AllowedHosts, CorsOrigins


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
    registry_store_uri: Annotated[
        str | None,
        typer.Option(
            "--registry-store-uri",
            envvar="MLFLOWX_REGISTRY_STORE_URI",
            help="SQL store URI of the model registry (default: the backend store).",
        ),
    ] = None,
    default_artifact_root: Annotated[
        str | None,
        typer.Option(
            "--default-artifact-root",
            help="Where new experiments put their artifacts (default: mlflow-artifacts:/ through "
            "the proxy with --serve-artifacts, else the local artifact root). A direct URI "
            "(s3://...) means clients write there themselves, as with MLflow.",
        ),
    ] = None,
    allowed_artifact_schemes: Annotated[
        str | None,
        typer.Option(
            "--allowed-artifact-schemes",
            envvar="MLFLOWX_ALLOWED_ARTIFACT_SCHEMES",
            help="Artifact location schemes allowed besides local paths, file, mlflow-artifacts, "
            "s3, gs/gcs and az/abfs/abfss (comma-separated, e.g. http,https).",
        ),
    ] = None,
    allowed_artifact_hosts: Annotated[
        str | None,
        typer.Option(
            "--allowed-artifact-hosts",
            envvar="MLFLOWX_ALLOWED_ARTIFACT_HOSTS",
            help="Hosts (name or name:port, * for any) that artifact locations may name "
            "(mlflow-artifacts://host/, http://host/...), comma-separated.",
        ),
    ] = None,
    allowed_artifact_roots: Annotated[
        str | None,
        typer.Option(
            "--allowed-artifact-roots",
            envvar="MLFLOWX_ALLOWED_ARTIFACT_ROOTS",
            help="Local directories (os.pathsep-separated) where clients may place experiments, "
            "besides the artifacts destination and the default artifact root.",
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
    auth: Annotated[
        bool,
        typer.Option(
            "--auth/--no-auth",
            envvar="MLFLOWX_AUTH",
            help="Require users (HTTP Basic or API tokens) and apply per-experiment and "
            "per-registered-model permissions; see `mlflowx auth --help`.",
        ),
    ] = False,
    auth_config: Annotated[
        str | None,
        typer.Option(
            "--auth-config",
            envvar="MLFLOWX_AUTH_CONFIG",
            help="An MLflow basic_auth.ini-style file ([mlflow] default_permission, "
            "admin_username, admin_password).",
            show_default=False,
        ),
    ] = None,
    static_prefix: Annotated[
        str | None,
        typer.Option(
            "--static-prefix",
            envvar="MLFLOWX_STATIC_PREFIX",
            help="Serve the UI and the API under this path (e.g. /mlflow: the API is then at "
            "/mlflow/api/2.0/mlflow/...), as behind a reverse proxy.",
            show_default=False,
        ),
    ] = None,
    expose_prometheus: Annotated[
        str | None,
        typer.Option(
            "--expose-prometheus",
            envvar="MLFLOWX_EXPOSE_PROMETHEUS",
            help="Serve request counts and latencies per route at /metrics (Prometheus text "
            "format); the workers keep their samples in this directory (created if needed).",
            show_default=False,
        ),
    ] = None,
    allowed_hosts: AllowedHosts = None,
    cors_allowed_origins: CorsOrigins = None,
) -> None:
    """Serve the MLflow REST API and the web UI; the official ``mlflow`` client works unchanged."""
    from mlflowx import settings
    from mlflowx.exceptions import InvalidParameter
    from mlflowx.server.limits import parse_size
    from mlflowx.store.locations import check_location
    from mlflowx.store.tracking.sql import SqlTrackingStore
    from mlflowx.utils.http_security import default_allowed_hosts, is_loopback
    from mlflowx.utils.uvicorn_setup import serve

    # The workers (and the checks below) read these from the environment.
    for name, value in (
        (settings.ALLOWED_ARTIFACT_SCHEMES_ENV, allowed_artifact_schemes),
        (settings.ALLOWED_ARTIFACT_HOSTS_ENV, allowed_artifact_hosts),
        (settings.ALLOWED_ARTIFACT_ROOTS_ENV, allowed_artifact_roots),
    ):
        if value is not None:
            os.environ[name] = value
    for option, given in (
        ("--artifacts-destination", artifacts_destination),
        ("--default-artifact-root", default_artifact_root),
    ):
        if given is not None:
            check_location(given, what=option)  # a clear error now, not a failing worker
    try:
        max_artifact_bytes = parse_size(max_artifact_size)
    except InvalidParameter as exc:
        raise typer.BadParameter(exc.message, param_hint="--max-artifact-size") from None
    if static_prefix is not None:
        _check_static_prefix(static_prefix)
    backend = backend_store_uri or settings.default_tracking_uri()
    destination = None
    if serve_artifacts:
        destination = artifacts_destination or settings.default_artifact_root()
        # As MLflow: the proxy unless the operator names another root for new experiments.
        root = default_artifact_root or "mlflow-artifacts:/"
    else:
        root = default_artifact_root or settings.default_artifact_root()
    # Open the store once here: schema problems (and, with --auth, a database without users
    # and no admin password) stop the server before any worker starts.
    store = SqlTrackingStore(backend, default_artifact_root=root)
    try:
        if auth:
            from mlflowx.server.auth import AuthConfig, ensure_admin
            from mlflowx.store.auth import SqlAuthStore

            ensure_admin(SqlAuthStore(store.db), AuthConfig.from_env(auth_config))
    finally:
        store.close()
    if registry_store_uri:
        from mlflowx.store.model_registry.sql import SqlRegistryStore

        SqlRegistryStore(registry_store_uri).close()  # its schema problems stop us here too
    metrics_dir = ""
    if expose_prometheus:
        from mlflowx.server.metrics import MULTIPROC_ENV, prepare_directory

        metrics_dir = prepare_directory(expose_prometheus)
        # Before any worker imports prometheus_client: its samples then go to files there.
        os.environ[MULTIPROC_ENV] = metrics_dir
    hosts = allowed_hosts or ",".join(default_allowed_hosts(host))
    os.environ["MLFLOWX_SERVER_AUTH"] = "1" if auth else ""
    os.environ["MLFLOWX_SERVER_AUTH_CONFIG"] = auth_config or ""
    os.environ["MLFLOWX_SERVER_ALLOWED_HOSTS"] = hosts
    os.environ["MLFLOWX_SERVER_CORS_ORIGINS"] = cors_allowed_origins or ""
    os.environ["MLFLOWX_SERVER_BACKEND_STORE_URI"] = backend
    os.environ["MLFLOWX_SERVER_ARTIFACTS_DESTINATION"] = destination or ""
    os.environ["MLFLOWX_SERVER_DEFAULT_ARTIFACT_ROOT"] = root
    os.environ["MLFLOWX_SERVER_MAX_ARTIFACT_BYTES"] = str(max_artifact_bytes)
    os.environ["MLFLOWX_SERVER_REGISTRY_STORE_URI"] = registry_store_uri or ""
    os.environ["MLFLOWX_SERVER_STATIC_PREFIX"] = static_prefix or ""
    os.environ["MLFLOWX_SERVER_METRICS_DIR"] = metrics_dir
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}{static_prefix or ''}"
    typer.echo(f"mlflowx server on {url} (store {backend}, artifacts {destination})")
    typer.echo(f"Web UI: {url}/   API docs: {url}/docs")
    if not auth and not is_loopback(host):
        typer.echo(
            f"WARNING: listening on {host} without --auth: anyone who can reach this port can "
            "read, change and delete every experiment, run, artifact and model. Turn on "
            "--auth, or bind 127.0.0.1 behind an authenticating proxy.",
            err=True,
        )
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


def _check_static_prefix(prefix: str) -> None:
    """MLflow's rules for ``--static-prefix``, with its messages."""
    for bad, message in (
        (not prefix.startswith("/"), "--static-prefix must begin with a '/'."),
        (prefix.endswith("/"), "--static-prefix should not end with a '/'."),
        ("{" in prefix or "}" in prefix, "--static-prefix must not contain '{' or '}'."),
    ):
        if bad:
            raise typer.BadParameter(message, param_hint="--static-prefix")
