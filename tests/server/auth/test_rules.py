"""Every route of the server has an auth rule (a new endpoint cannot be left open by
accident), and the rules' paths are real routes."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from mlflowx.server import create_app
from mlflowx.server.auth import AuthConfig
from mlflowx.server.auth.rules import rule_for, templates
from mlflowx.store.tracking.sql import SqlTrackingStore


def _routes(tmp_path: Path) -> set[tuple[str, str]]:
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'db.db'}")
    app = create_app(
        store,
        str(tmp_path),
        auth_config=AuthConfig(admin_password="password1"),
        metrics_dir=str(tmp_path / "prometheus"),  # with every optional route
    )
    found: set[tuple[str, str]] = set()

    def walk(routes: list[object]) -> None:
        for route in routes:
            if isinstance(route, APIRoute | Route):
                for method in route.methods or ():
                    if method != "HEAD":
                        found.add((method, route.path))
            elif isinstance(route, Mount):
                found.add(("GET", route.path + "/{path:path}"))
            else:  # FastAPI's included routers
                inner = getattr(route, "original_router", None) or getattr(route, "router", None)
                if inner is not None:
                    context = getattr(route, "include_context", None)
                    prefix = getattr(context, "prefix", "") or ""
                    for sub in inner.routes:
                        for method in getattr(sub, "methods", None) or ():
                            if method != "HEAD":
                                found.add((method, prefix + sub.path))

    walk(list(app.routes))
    store.close()
    return found


def _concrete(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", template)


def test_every_route_has_a_rule_and_every_rule_a_route(tmp_path: Path) -> None:
    routes = _routes(tmp_path)
    assert len(routes) > 80  # the walk found the API, not just the app's own routes
    missing = sorted((m, p) for m, p in routes if rule_for(m, _concrete(p)) is None)
    assert not missing, f"routes without an auth rule (admins only): {missing}"
    ruled = {(m, t) for m, t in templates()}
    stale = sorted(ruled - routes)
    assert not stale, f"rules for routes that do not exist: {stale}"


def test_unknown_paths_are_for_admins_only() -> None:
    assert rule_for("GET", "/api/2.0/mlflow/something-new") is None
    assert rule_for("POST", "/api/2.0/mlflow/experiments/get") is None  # wrong method
    found = rule_for("HEAD", "/api/2.0/mlflow/experiments/get")
    assert found is not None
    assert found[0].need == "read"
