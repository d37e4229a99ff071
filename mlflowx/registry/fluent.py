"""MLflow's fluent registry calls (``mlflowx.search_registered_models``...); ``register_model``,
which reads the tracking side too, is :mod:`mlflowx.tracking.registration`'s."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from mlflowx.entities import ModelVersion, PagedList, RegisteredModel
from mlflowx.exceptions import InvalidParameter
from mlflowx.registry.client import RegistryClient

__all__ = [
    "search_model_versions",
    "search_registered_models",
    "set_model_version_tag",
]

T = TypeVar("T")

log = logging.getLogger(__name__)


def _all_pages(
    fetch: Callable[[int, str | None], PagedList[T]], max_results: int | None
) -> list[T]:
    """Every item of a paged search, or the first ``max_results``."""
    items: list[T] = []
    token: str | None = None
    while True:
        want = 1000 if max_results is None else min(1000, max_results - len(items))
        if want <= 0:
            return items
        page = fetch(want, token)
        items.extend(page)
        token = page.token
        if not token:
            return items


def search_registered_models(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[RegisteredModel]:
    """Registered models matching ``filter_string`` (e.g. ``"name LIKE 'iris%'"``), every page
    or at most ``max_results``."""
    client = RegistryClient()
    return _all_pages(
        lambda n, token: client.search_registered_models(filter_string, n, order_by, token),
        max_results,
    )


def search_model_versions(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[ModelVersion]:
    """Model versions matching ``filter_string`` (e.g. ``"name = 'iris'"``), every page or at
    most ``max_results``."""
    client = RegistryClient()
    return _all_pages(
        lambda n, token: client.search_model_versions(filter_string, n, order_by, token),
        max_results,
    )


def set_model_version_tag(
    name: str,
    version: str | None = None,
    key: str | None = None,
    value: Any = None,
) -> None:
    """Set the tag ``key`` of version ``version`` of the registered model ``name``."""
    if version is None or key is None:
        raise InvalidParameter(
            f"set_model_version_tag needs a version and a key for the model {name!r}"
        )
    RegistryClient().set_model_version_tag(name, version, key, value)
