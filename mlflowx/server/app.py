"""The tracking server application: MLflow's REST API on FastAPI."""

from __future__ import annotations

import os
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from mlflowx import settings, ui
from mlflowx.exceptions import InvalidParameter
from mlflowx.protocol import endpoints as p
from mlflowx.server import auth, errors, graphql, metrics
from mlflowx.server.auth import AuthConfig
from mlflowx.server.deps import reject_lone_surrogates, reject_nul_characters, write_limiter
from mlflowx.server.limits import BodyLimit
from mlflowx.server.routers import (
    artifacts,
    experiments,
    gc,
    logged_models,
    multipart,
    registry,
    runs,
    server_info,
)
from mlflowx.settings import env_flag
from mlflowx.store.auth import SqlAuthStore
from mlflowx.store.locations import LocationPolicy, check_location
from mlflowx.store.model_registry.base import RegistryStore
from mlflowx.store.tracking.base import TrackingStore
from mlflowx.utils.http_security import HttpPolicy, HttpSecurity

__all__ = ["DEFAULT_MAX_ARTIFACT_BYTES", "DEFAULT_MAX_BODY_BYTES", "create_app"]

#: JSON API bodies above this are refused (413) before or while they are read (MLflow's
#: batches are far smaller).
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
#: One artifact upload through the proxy (``mlflowx server --max-artifact-size``).
DEFAULT_MAX_ARTIFACT_BYTES = 5 * 1024**3

API_PREFIX = "/api/2.0/mlflow"
AJAX_PREFIX = "/ajax-api/2.0/mlflow"


def create_app(
    tracking_store: TrackingStore,
    artifacts_destination: str | None = None,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_artifact_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES,
    registry_store: RegistryStore | None = None,
    auth_config: AuthConfig | None = None,
    http_policy: HttpPolicy | None = None,
    metrics_dir: str | None = None,
    static_prefix: str = "",
) -> FastAPI:
    """Build the server around a tracking store.

    Args:
        tracking_store: where experiments and runs live.
        artifacts_destination: where proxied artifacts (``mlflow-artifacts:/...``) are stored;
            ``None`` turns the artifact proxy off.
        max_body_bytes: the largest JSON request body (413 above it).
        max_artifact_bytes: the largest artifact one upload may write (413 above it; the
            upload is streamed to the store and discarded).
        registry_store: the model registry; by default a SQL tracking store's database.
        auth_config: turns authentication and permissions on (users live in the SQL
            tracking store's database); ``None``: every caller may do everything.
        http_policy: allowed Host names and CORS origins; ``None`` checks no Host (in-process
            clients) and allows no cross-origin write. Security headers are always sent.
        metrics_dir: turns on ``/metrics`` (Prometheus): the directory where the workers
            keep their samples (``mlflowx server --expose-prometheus``).
        static_prefix: serve everything (API, UI, health) under this path, e.g. ``/mlflow``
            (``mlflowx server --static-prefix``); other paths answer 404.
    """
    from mlflowx import __version__

    app = FastAPI(
        title="mlflowx tracking server",
        version=__version__,
        description="MLflow's REST API (tracking and artifact proxy), served by mlflowx.",
        docs_url=None,  # the UI serves /docs from its vendored Swagger UI (no CDN)
        redoc_url=None,
    )
    app.state.tracking_store = tracking_store
    app.state.artifacts_destination = artifacts_destination
    app.state.location_policy = _location_policy(tracking_store, artifacts_destination)
    app.state.max_artifact_bytes = max_artifact_bytes
    app.state.registry_store = registry_store or _default_registry_store(tracking_store)
    app.state.inline_writes = tracking_store.inline_writes
    app.state.write_limiter = write_limiter(tracking_store)
    errors.install(app)

    checks = [Depends(reject_nul_characters), Depends(reject_lone_surrogates)]
    # Runs first: routes are matched in order, and run writes are most of the traffic.
    for router in (runs.router, experiments.router, logged_models.router, registry.router):
        app.include_router(router, prefix=API_PREFIX, dependencies=checks)
    app.include_router(artifacts.router)
    app.include_router(multipart.router)
    app.include_router(gc.router)
    app.include_router(server_info.router)
    app.include_router(graphql.router)

    if static_prefix:
        app.add_middleware(_RootPath)
    if metrics_dir is not None:
        metrics.install(app, metrics_dir)  # its route label: innermost, next to the routes
    # Middleware runs outermost-last-added: host/origin checks, the /ajax-api alias, body
    # limits, then authentication (which may read the limited body) right before the routes.
    if auth_config is not None:
        auth.install(app, _auth_store(tracking_store), auth_config, inline=app.state.inline_writes)
    # Artifact uploads stream to disk with their own limit; everything else is small JSON.
    app.add_middleware(
        BodyLimit, max_bytes=max_body_bytes, exempt_prefix="/api/2.0/mlflow-artifacts/"
    )
    # The web UI's /ajax-api/... is the same API: one set of routes, reached by rewriting the path.
    app.add_middleware(AjaxAlias)
    app.add_middleware(HttpSecurity, policy=http_policy or HttpPolicy(allowed_hosts=None))
    if static_prefix:
        app.add_middleware(StaticPrefix, prefix=static_prefix)
    if metrics_dir is not None:
        metrics.outer(app)  # timing outside every check: refused requests count too
    _document_raw_bodies(app, [p.LogBatch])

    @app.get("/health", include_in_schema=False)
    def health() -> PlainTextResponse:
        return PlainTextResponse("OK")

    @app.get("/version", include_in_schema=False)
    def version() -> PlainTextResponse:
        return PlainTextResponse(__version__)

    ui.mount(app)
    return app


def _location_policy(
    tracking_store: TrackingStore, artifacts_destination: str | None
) -> LocationPolicy:
    """What the server accepts as (and reads from) an artifact location: the settings'
    schemes and hosts, with local locations kept inside the server's own artifact roots (the
    proxy's destination, the store's roots and ``MLFLOWX_ALLOWED_ARTIFACT_ROOTS``)."""
    if artifacts_destination is not None:
        check_location(artifacts_destination, what="artifacts destination")
    roots = (
        artifacts_destination,
        tracking_store.default_artifact_root,
        *tracking_store.local_artifact_roots,
        *settings.allowed_artifact_roots(),
    )
    return LocationPolicy.from_settings().confined_to(roots)


class AjaxAlias:
    """Serve ``/ajax-api/2.0/mlflow/...`` as ``/api/2.0/mlflow/...`` (a pure ASGI rewrite)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(AJAX_PREFIX + "/"):
            path = API_PREFIX + scope["path"][len(AJAX_PREFIX) :]
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)


class StaticPrefix:
    """Serve the app under ``prefix`` (MLflow's ``--static-prefix``): ``<prefix>/api/...`` is
    ``/api/...`` to every middleware (host checks, auth rules, the ``/ajax-api`` alias); a path
    outside the prefix is a 404. :class:`_RootPath` puts the prefix back as ``root_path`` for
    the routes (the UI builds its links from it)."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path != self.prefix and not path.startswith(self.prefix + "/"):
            response = JSONResponse(
                {
                    "error_code": "ENDPOINT_NOT_FOUND",
                    "message": f"Not found: this server's paths start with {self.prefix}/",
                },
                status_code=404,
            )
            await response(scope, receive, send)
            return
        inner = path[len(self.prefix) :] or "/"
        scope = {**scope, "path": inner, "raw_path": inner.encode(), _PREFIX: self.prefix}
        await self.app(scope, receive, send)


_PREFIX = "mlflowx.static_prefix"


class _RootPath:
    """Innermost: the ASGI form Starlette's routing expects (``path`` with the prefix,
    ``root_path`` the prefix), so mounts such as ``/static`` resolve their files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        prefix = scope.get(_PREFIX)
        if prefix:
            # In place: the middlewares outside read the matched route from this scope.
            scope["root_path"] = scope.get("root_path", "") + prefix
            scope["path"] = prefix + scope["path"]
            scope["raw_path"] = scope["path"].encode()
        await self.app(scope, receive, send)


def _document_raw_bodies(app: FastAPI, models: list[type[BaseModel]]) -> None:
    """Add the schemas of bodies read with ``deps.parse_body`` to the OpenAPI document.

    Their endpoints reference ``#/components/schemas/<Model>``; FastAPI does not know these
    models, so their schemas (and the models they use, under ``<Model>.<Name>``) go in here.
    """

    build = app.openapi  # FastAPI's own: builds the document once and keeps it

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schemas = build().setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                name = model.__name__
                template = f"#/components/schemas/{name}.{{model}}"
                schema = model.model_json_schema(ref_template=template)
                for sub, sub_schema in schema.pop("$defs", {}).items():
                    schemas[f"{name}.{sub}"] = sub_schema
                schemas[name] = schema
        document: dict[str, Any] = app.openapi_schema  # type: ignore[assignment]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def app_from_env() -> FastAPI:
    """The app uvicorn workers build (``mlflowx server`` passes its options by environment)."""
    from mlflowx.store.tracking.sql import SqlTrackingStore

    backend = os.environ["MLFLOWX_SERVER_BACKEND_STORE_URI"]
    destination = os.environ.get("MLFLOWX_SERVER_ARTIFACTS_DESTINATION") or None
    default_root = os.environ.get("MLFLOWX_SERVER_DEFAULT_ARTIFACT_ROOT") or None
    max_artifact = os.environ.get("MLFLOWX_SERVER_MAX_ARTIFACT_BYTES")
    store = SqlTrackingStore(backend, default_artifact_root=default_root)
    auth_config = None
    if env_flag("MLFLOWX_SERVER_AUTH"):
        auth_config = AuthConfig.from_env(os.environ.get("MLFLOWX_SERVER_AUTH_CONFIG") or None)
    hosts = os.environ.get("MLFLOWX_SERVER_ALLOWED_HOSTS")
    policy = HttpPolicy.of(
        None if hosts is None else [hosts], [os.environ.get("MLFLOWX_SERVER_CORS_ORIGINS", "")]
    )
    registry_uri = os.environ.get("MLFLOWX_SERVER_REGISTRY_STORE_URI") or None
    return create_app(
        store,
        destination,
        max_artifact_bytes=int(max_artifact) if max_artifact else DEFAULT_MAX_ARTIFACT_BYTES,
        registry_store=_registry_store(registry_uri) if registry_uri else None,
        metrics_dir=os.environ.get("MLFLOWX_SERVER_METRICS_DIR") or None,
        static_prefix=os.environ.get("MLFLOWX_SERVER_STATIC_PREFIX", ""),
        auth_config=auth_config,
        http_policy=policy,
    )


def _auth_store(tracking_store: TrackingStore) -> SqlAuthStore:
    from mlflowx.store.tracking.sql import SqlTrackingStore

    if not isinstance(tracking_store, SqlTrackingStore):
        raise InvalidParameter("Authentication needs a SQL tracking store (users live in it)")
    return SqlAuthStore(tracking_store.db)


def _registry_store(uri: str) -> RegistryStore:
    """A registry in its own database (``mlflowx server --registry-store-uri``)."""
    from mlflowx.store.model_registry.sql import SqlRegistryStore

    return SqlRegistryStore(uri)


def _default_registry_store(tracking_store: TrackingStore) -> RegistryStore | None:
    """The registry in a SQL tracking store's database (sharing its connections), else none."""
    from mlflowx.store.model_registry.sql import SqlRegistryStore
    from mlflowx.store.tracking.sql import SqlTrackingStore

    if isinstance(tracking_store, SqlTrackingStore):
        return SqlRegistryStore(tracking_store.uri, db=tracking_store.db)
    return None
