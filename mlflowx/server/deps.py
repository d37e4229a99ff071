"""Request-scoped access to the server's stores, and the router class every resource uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from mlflowx.exceptions import InvalidParameter
from mlflowx.store.tracking.base import TrackingStore


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
