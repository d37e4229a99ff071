"""Request-scoped access to the server's stores, and the router class every resource uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from mlflowx.exceptions import InvalidParameter
from mlflowx.store.tracking.base import TrackingStore


async def reject_nul_characters(request: Request) -> None:
    """Refuse NUL characters in path, query and JSON body values.

    PostgreSQL cannot store them (SQLite can), and the API answers the same on every backend.
    Bodies are checked only when their bytes hold an escaped NUL (JSON cannot carry a raw one);
    FastAPI has already read and parsed them, so this costs one byte search per request.
    """
    found = any("\x00" in v for v in request.path_params.values()) or (
        b"%00" in request.scope["query_string"]
        and any("\x00" in v for _, v in request.query_params.multi_items())
    )
    if not found and request.method != "GET" and b"\\u0000" in await request.body():
        try:
            found = _holds_nul(await request.json())
        except ValueError:
            return  # not JSON: the body's own validation answers
    if found:
        raise InvalidParameter("Request values must not contain NUL (\\u0000) characters")


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _tracking_store(request: Request) -> TrackingStore:
    store: TrackingStore = request.app.state.tracking_store
    return store


Store = Annotated[TrackingStore, Depends(_tracking_store)]


class WireRouter(APIRouter):
    """Responses leave out unset fields, as protobuf's JSON does (no ``"end_time": null``)."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        kwargs["response_model_exclude_none"] = True
        kwargs["response_model_by_alias"] = True
        super().add_api_route(path, endpoint, **kwargs)


def require(value: str | None, name: str) -> str:
    """MLflow's message for a required field that is absent or empty."""
    if not value:
        raise InvalidParameter(
            f"Missing value for required parameter '{name}'. See the API docs for more "
            "information about request parameters."
        )
    return value
