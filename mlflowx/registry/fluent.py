"""MLflow's fluent registry call: ``mlflowx.register_model``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlflowx.entities import ModelVersion
from mlflowx.exceptions import AlreadyExists
from mlflowx.registry.client import DEFAULT_AWAIT_MAX_SLEEP_SECONDS, RegistryClient
from mlflowx.registry.uri import parse_model_uri, parse_runs_uri

__all__ = ["register_model"]


def register_model(
    model_uri: str,
    name: str,
    await_registration_for: int = DEFAULT_AWAIT_MAX_SLEEP_SECONDS,
    *,
    tags: Mapping[str, Any] | None = None,
) -> ModelVersion:
    """Register ``model_uri`` as a new version of the model ``name`` (created if missing).

    Args:
        model_uri: where the model is: ``runs:/<run_id>/<path>`` (the version keeps the run as
            its lineage), ``models:/<model_id>``, ``models:/<name>/<version>`` or any URI.
        name: the registered model; versions are numbered from 1.
        await_registration_for: accepted for MLflow compatibility; versions are READY at once.
        tags: tags for the new version.

    Returns:
        The new version.
    """
    client = RegistryClient()
    try:
        client.create_registered_model(name)
    except AlreadyExists:
        pass
    source = str(model_uri)
    run_id = model_id = None
    if source.startswith("runs:"):
        run_id, _ = parse_runs_uri(source)
    elif source.startswith("models:"):
        model_id = parse_model_uri(source).model_id
    return client.create_model_version(
        name,
        source,
        run_id=run_id,
        tags=tags,
        await_creation_for=await_registration_for,
        model_id=model_id,
    )
