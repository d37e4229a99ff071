"""``mlflowx server --auth``: users, API tokens, and MLflow's per-resource permissions.

Off by default (no cost then). On, every request but ``/health``, ``/version`` and the UI's
static code must carry HTTP Basic credentials (a password, or a token as the password) or a
bearer token; each route's rule (``rules.py``) says what it needs on which experiment or
registered model; searches return only what the caller may read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from fastapi import FastAPI, Request

from mlflowx.entities import PagedList
from mlflowx.exceptions import InvalidParameter
from mlflowx.server.auth.config import AuthConfig
from mlflowx.server.auth.guard import Guard
from mlflowx.server.auth.middleware import AuthMiddleware
from mlflowx.server.auth.routes import router
from mlflowx.store.auth import SqlAuthStore
from mlflowx.store.search import decode_page_token, encode_page_token
from mlflowx.utils import validation as v

__all__ = ["AuthConfig", "ensure_admin", "install", "paged", "readable", "scan", "visible_page"]

T = TypeVar("T")


def install(app: FastAPI, store: SqlAuthStore, config: AuthConfig, *, inline: bool) -> None:
    """Add the auth routes and the middleware that guards every route (call this after the
    other routes are added and before the middleware that must run first)."""
    ensure_admin(store, config)
    guard = Guard(store, config)
    app.state.auth_guard = guard
    app.include_router(router)
    app.add_middleware(AuthMiddleware, guard=guard, inline=inline)


def ensure_admin(store: SqlAuthStore, config: AuthConfig) -> None:
    """A database without users gets the configured admin; without a password for it, the
    server does not start (there is no default password to forget to change)."""
    if store.has_users():
        return
    if not config.admin_password:
        raise InvalidParameter(
            "Authentication is on but no user exists yet. Set MLFLOWX_AUTH_ADMIN_PASSWORD "
            f"(the admin user '{config.admin_username}' is created with it at start), or "
            "create one first: mlflowx auth create-user NAME --admin"
        )
    store.create_user(config.admin_username, config.admin_password, is_admin=True)


def readable(request: Request, kind: str) -> Callable[[str], bool] | None:
    """Which experiments (``experiment``) or registered models (``registered_model``) the
    caller may read; ``None`` when auth is off or they may read every one."""
    guard: Guard | None = getattr(request.app.state, "auth_guard", None)
    user = getattr(request.state, "user", None)
    if guard is None or user is None:
        return None
    return guard.readable(user, kind)


def paged(
    pages: Iterator[list[T]], keep: Callable[[T], bool], max_results: int, token: str | None
) -> tuple[list[T], str | None]:
    """One page of the items of ``pages`` that ``keep`` passes, with a token for the next.

    Used for searches by users who may not read everything: the store's pages are read
    whole and filtered, so pages stay full and tokens stay valid (experiments and registered
    models number in the thousands, not millions).
    """
    offset = decode_page_token(token)
    kept: list[T] = []
    for page in pages:
        kept.extend(item for item in page if keep(item))
        if len(kept) > offset + max_results:
            break
    window = kept[offset : offset + max_results]
    more = len(kept) > offset + max_results
    return window, encode_page_token(offset + max_results) if more else None


def scan(fetch: Callable[[str | None], tuple[list[T], str | None]]) -> Iterator[list[T]]:
    """Every page of a search, ``fetch(token)`` giving (items, next token)."""
    token: str | None = None
    while True:
        items, token = fetch(token)
        yield items
        if not token:
            return


def visible_page(
    request: Request,
    kind: str,
    search: Callable[[int, str | None], PagedList[T]],
    max_results: int,
    token: str | None,
    *,
    key: Callable[[T], str],
    limit: int,
    scan_size: int,
) -> tuple[list[T], str | None]:
    """One page of a search (``search(max_results, token)``) as the caller may see it: the
    store's own page when they may read every experiment or model (``kind``), else the
    readable items (``key`` names each one's experiment or model) in full pages, read
    ``scan_size`` at a time; ``max_results`` is checked against ``limit`` as the store would."""
    keep = readable(request, kind)
    if keep is None:
        page = search(max_results, token or None)
        return list(page), page.token
    v.validate_max_results(max_results, limit)

    def fetch(next_token: str | None) -> tuple[list[T], str | None]:
        page = search(scan_size, next_token)
        return list(page), page.token

    return paged(scan(fetch), lambda item: keep(key(item)), max_results, token)
