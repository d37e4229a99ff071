"""The web UI: a single-page app shipped as static files inside the package.

``mount(app)`` serves the app shell at ``/``, its assets under ``/static/``, the OpenAPI
explorer at ``/docs`` from the vendored Swagger UI (no CDN), and ``ui-config`` (what the
pages need to know about this server). The pages read the REST API under ``/ajax-api/``.
Nothing here needs more than the server extra (FastAPI/Starlette): the scoring image, which
has no server, ships these files but never serves them.
"""

from __future__ import annotations

import html
import os
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from mlflowx import settings

__all__ = ["STATIC_DIR", "UI_CONFIG_PATH", "mount"]

STATIC_DIR = Path(str(files("mlflowx.ui") / "static"))
UI_CONFIG_PATH = "/ajax-api/2.0/mlflowx/ui-config"

#: The shell is tiny and names the assets; it is never cached so that an upgrade shows at once.
_NO_CACHE = {"Cache-Control": "no-cache"}


class _Assets(StaticFiles):
    """Static files that browsers revalidate (ETag/Last-Modified), with ES modules typed
    as JavaScript whatever the host's ``mimetypes`` table says."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        name = str(full_path)
        if name.endswith((".js", ".mjs")):
            response.headers["content-type"] = "text/javascript; charset=utf-8"
        elif name.endswith(".css"):
            response.headers["content-type"] = "text/css; charset=utf-8"
        response.headers["cache-control"] = "no-cache"
        response.headers["x-content-type-options"] = "nosniff"
        return response


def shell_html() -> str:
    """The app shell with every module preloaded: the browser fetches them all at once instead
    of discovering them import by import (what a bundler would do, without a build step)."""
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    modules = [*sorted((STATIC_DIR / "js").rglob("*.js")), STATIC_DIR / "vendor/uplot/uPlot.esm.js"]
    links = "".join(
        f'  <link rel="modulepreload" href="/static/{m.relative_to(STATIC_DIR).as_posix()}">\n'
        for m in modules
    )
    return html.replace("</head>", links + "</head>", 1)


def with_prefix(shell: str, prefix: str) -> str:
    """The shell for a server under ``prefix`` (``mlflowx server --static-prefix``): its asset
    links under the prefix, and the prefix on ``<html data-prefix>`` for the API calls."""
    if not prefix:
        return shell
    quoted = html.escape(prefix, quote=True)
    shell = shell.replace('"/static/', f'"{quoted}/static/')
    return shell.replace("<html ", f'<html data-prefix="{quoted}" ', 1)


def mount(app: FastAPI) -> None:
    """Add the UI's routes to the tracking server ``app`` (built with ``docs_url=None``)."""
    from mlflowx import __version__

    app.mount("/static", _Assets(directory=STATIC_DIR), name="static")
    shell_page = shell_html()

    @app.get("/", include_in_schema=False)
    def shell(request: Request) -> HTMLResponse:
        prefix = request.scope.get("root_path", "")
        return HTMLResponse(with_prefix(shell_page, prefix), headers=_NO_CACHE)

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        prefix = request.scope.get("root_path", "")
        vendor = f"{prefix}/static/vendor/swagger-ui"
        return get_swagger_ui_html(
            openapi_url=prefix + (app.openapi_url or "/openapi.json"),
            title=f"{app.title} - API",
            swagger_js_url=f"{vendor}/swagger-ui-bundle.js",
            swagger_css_url=f"{vendor}/swagger-ui.css",
            swagger_favicon_url=f"{prefix}/static/favicon.svg",
        )

    @app.get(UI_CONFIG_PATH, include_in_schema=False)
    def ui_config(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "version": __version__,
                "artifact_proxy": request.app.state.artifacts_destination is not None,
                "registry": request.app.state.registry_store is not None,
                "prefect_ui_url": settings.prefect_ui_url(),
            },
            headers=_NO_CACHE,
        )
