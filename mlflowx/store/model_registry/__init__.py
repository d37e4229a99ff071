"""Model registry stores chosen by URI scheme (the same schemes as tracking stores)."""

from __future__ import annotations

from mlflowx.store.model_registry.base import RegistryStore
from mlflowx.store.schemes import SchemeRegistry

__all__ = ["RegistryStore", "get_registry_store", "registry_stores", "reset_registry_store_cache"]

registry_stores: SchemeRegistry[RegistryStore] = SchemeRegistry(
    "model registry store", "mlflowx.registry_stores"
)


@registry_stores.register("sqlite", "postgresql", "postgres", "mysql", "mssql")
def _sql(uri: str) -> RegistryStore:
    from mlflowx.store.model_registry.sql import SqlRegistryStore  # lazy: REST users skip SQL

    return SqlRegistryStore(uri)


@registry_stores.register("http", "https")
def _rest(uri: str) -> RegistryStore:
    from mlflowx.store.model_registry.rest import RestRegistryStore  # lazy: pydantic + httpx

    return RestRegistryStore(uri)


def get_registry_store(uri: str) -> RegistryStore:
    """The process-wide registry store for ``uri`` (created on first use, then reused)."""
    return registry_stores.cached(uri)


def reset_registry_store_cache() -> None:
    """Close and forget every cached store (tests, and after a fork)."""
    registry_stores.clear_cache()
