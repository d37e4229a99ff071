"""Request counts and latencies per route in Prometheus' text format at ``/metrics``
(``mlflowx server --expose-prometheus DIR``, as MLflow's option).

The uvicorn workers are separate processes: each writes its samples under ``DIR`` (the
``PROMETHEUS_MULTIPROC_DIR`` of ``prometheus_client``'s multiprocess mode, set before any worker
imports it) and ``/metrics`` adds up every worker's files, so a scrape sees the whole server.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["METRICS_PATH", "MULTIPROC_ENV", "install", "outer", "prepare_directory"]

METRICS_PATH = "/metrics"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: The files ``prometheus_client`` writes in multiprocess mode (only these are removed).
_SAMPLE_FILES = ("counter_*.db", "gauge_*.db", "histogram_*.db", "summary_*.db")


def prepare_directory(directory: str) -> str:
    """Create ``directory`` and drop samples a previous server left there (their counts would
    add to this one's); returns its absolute path."""
    path = Path(directory).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    for pattern in _SAMPLE_FILES:
        for stale in path.glob(pattern):
            stale.unlink()
    return str(path)


def install(app: FastAPI, directory: str) -> None:
    """Count and time every request of ``app`` and serve the totals at ``/metrics``.

    Multiprocess mode needs ``PROMETHEUS_MULTIPROC_DIR`` set to ``directory`` before the
    process imports ``prometheus_client`` (``mlflowx server`` sets it for its workers); an app
    built without it (in-process, one worker) keeps its samples in memory instead.
    """
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        CollectorRegistry,
        Counter,
        Histogram,
        generate_latest,
        multiprocess,
    )

    shared = os.environ.get(MULTIPROC_ENV) == directory
    # Shared: the samples go to files and each scrape collects them (no registry here).
    own = None if shared else CollectorRegistry()
    requests = Counter(
        "mlflowx_http_requests_total",
        "HTTP requests served, by method, route template and status code.",
        ["method", "route", "status"],
        registry=own,
    )
    latency = Histogram(
        "mlflowx_http_request_duration_seconds",
        "Time to answer an HTTP request, by method and route template.",
        ["method", "route"],
        registry=own,
    )

    @app.get(METRICS_PATH, include_in_schema=False)
    def metrics() -> Response:
        registry = own
        if registry is None:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    # Innermost, where the matched route is known; outermost (added last), see ``outer``.
    app.add_middleware(_RouteLabel)
    app.state.request_metrics = (requests, latency)


def outer(app: FastAPI) -> None:
    """Add the timing middleware outside every other one (call after the app's own
    middleware), so requests refused before routing (401, 403, 413) count too."""
    requests, latency = app.state.request_metrics
    app.add_middleware(RequestMetrics, requests=requests, latency=latency)


_BOX = "mlflowx.route"


class _RouteLabel:
    """Hand the matched route up to :class:`RequestMetrics` (inner middlewares may copy the
    scope; the box they share is the same dict)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            box = scope.get(_BOX)
            route = _template(scope)
            if box is not None and route:
                box["route"] = route


def _template(scope: Scope) -> str | None:
    """The matched route's path template, with the prefix its router was included under
    (FastAPI keeps the router's own, unprefixed route in the scope: the prefix is the part of
    the request path before the template's segments)."""
    route = scope.get("route")
    if route is None:  # a mount (``/static``): its path is what it added to the root path
        mounted, app_root = scope.get("root_path", ""), scope.get("app_root_path", "")
        if mounted != app_root and mounted.startswith(app_root):
            return str(mounted[len(app_root) :])
        return None
    template = getattr(route, "path", None)
    if not isinstance(template, str) or not isinstance(route, Route) or ":path}" in template:
        return template  # mounts and catch-all paths are registered in full
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    extra = path.count("/") - template.count("/")
    if extra <= 0:
        return template
    return "/".join(path.split("/")[: extra + 1]) + template


class RequestMetrics:
    """Pure ASGI: the route label is the matched template (``/logged-models/{model_id}``), so
    ids never become labels; a path no route matched counts as ``<unmatched>``."""

    def __init__(self, app: ASGIApp, *, requests: object, latency: object) -> None:
        self.app = app
        self.requests = requests
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        box: dict[str, str] = {}
        scope = {**scope, _BOX: box}

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = box.get("route", "<unmatched>")
            method = scope["method"]
            self.requests.labels(method, route, str(status)).inc()  # type: ignore[attr-defined]
            self.latency.labels(method, route).observe(  # type: ignore[attr-defined]
                time.perf_counter() - start
            )
