"""The tracking server application: MLflow's REST API on FastAPI."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from mlflowx.server import errors
from mlflowx.server.routers import artifacts, experiments, runs
from mlflowx.store.tracking.base import TrackingStore

__all__ = ["DEFAULT_MAX_ARTIFACT_BYTES", "DEFAULT_MAX_BODY_BYTES", "create_app"]

#: JSON API bodies above this are refused before they are read (MLflow's batches are far smaller).
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_ARTIFACT_BYTES = 5 * 1024**3

API_PREFIX = "/api/2.0/mlflow"
AJAX_PREFIX = "/ajax-api/2.0/mlflow"


def create_app(
    tracking_store: TrackingStore,
    artifacts_destination: str | None = None,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_artifact_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES,
) -> FastAPI:
    """Build the server around a tracking store.

    Args:
        tracking_store: where experiments and runs live.
        artifacts_destination: where proxied artifacts (``mlflow-artifacts:/...``) are stored;
            ``None`` turns the artifact proxy off.
    """
    from mlflowx import __version__

    app = FastAPI(
        title="mlflowx tracking server",
        version=__version__,
        description="MLflow's REST API (tracking and artifact proxy), served by mlflowx.",
    )
    app.state.tracking_store = tracking_store
    app.state.artifacts_destination = artifacts_destination
    app.state.max_artifact_bytes = max_artifact_bytes
    errors.install(app)

    for router in (experiments.router, runs.router):
        app.include_router(router, prefix=API_PREFIX)
        app.include_router(router, prefix=AJAX_PREFIX, include_in_schema=False)
    app.include_router(artifacts.router)

    @app.middleware("http")
    async def _limit_body(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # Artifact uploads stream with their own limit; everything else is small JSON.
        if not request.url.path.startswith("/api/2.0/mlflow-artifacts/"):
            length = request.headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > max_body_bytes):
                return JSONResponse(
                    {
                        "error_code": "INVALID_PARAMETER_VALUE",
                        "message": f"Request body of {length} bytes exceeds the limit of "
                        f"{max_body_bytes} bytes",
                    },
                    status_code=413,
                )
        return await call_next(request)

    @app.get("/health", include_in_schema=False)
    def health() -> PlainTextResponse:
        return PlainTextResponse("OK")

    @app.get("/version", include_in_schema=False)
    def version() -> PlainTextResponse:
        return PlainTextResponse(__version__)

    @app.get("/", include_in_schema=False)
    def root() -> dict[str, str | None]:
        return {
            "name": "mlflowx",
            "version": __version__,
            "api": API_PREFIX,
            "artifacts": "/api/2.0/mlflow-artifacts/artifacts" if artifacts_destination else None,
            "openapi": "/openapi.json",
            "docs": "/docs",
        }

    return app


def app_from_env() -> FastAPI:
    """The app uvicorn workers build (``mlflowx server`` passes its options by environment)."""
    from mlflowx.store.tracking.sql import SqlTrackingStore

    backend = os.environ["MLFLOWX_SERVER_BACKEND_STORE_URI"]
    destination = os.environ.get("MLFLOWX_SERVER_ARTIFACTS_DESTINATION") or None
    default_root = os.environ.get("MLFLOWX_SERVER_DEFAULT_ARTIFACT_ROOT") or None
    store = SqlTrackingStore(backend, default_artifact_root=default_root)
    return create_app(store, destination)
