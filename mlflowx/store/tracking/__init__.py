"""Tracking stores chosen by URI scheme; one store object per URI per process."""

from __future__ import annotations

from mlflowx.store.schemes import SchemeRegistry
from mlflowx.store.tracking.base import TrackingStore

__all__ = ["TrackingStore", "get_tracking_store", "reset_store_cache", "tracking_stores"]

tracking_stores: SchemeRegistry[TrackingStore] = SchemeRegistry(
    "tracking store", "mlflowx.tracking_stores"
)


@tracking_stores.register("sqlite", "postgresql", "postgres", "mysql", "mssql")
def _sql(uri: str) -> TrackingStore:
    from mlflowx.store.tracking.sql import SqlTrackingStore  # lazy: REST users skip SQL

    return SqlTrackingStore(uri)


def get_tracking_store(uri: str) -> TrackingStore:
    """The process-wide store for ``uri`` (created on first use, then reused)."""
    return tracking_stores.cached(uri)


def reset_store_cache() -> None:
    """Close and forget every cached store (tests, and after a fork)."""
    tracking_stores.clear_cache()


@tracking_stores.register("http", "https")
def _rest(uri: str) -> TrackingStore:
    from mlflowx.store.tracking.rest import RestTrackingStore  # lazy: pydantic + httpx

    return RestTrackingStore(uri)


@tracking_stores.register("file")
def _file(uri: str) -> TrackingStore:
    from mlflowx.store.mlflow_stores import file_store_refused

    raise file_store_refused(uri)
