"""``mlflowx.register_model``: a registry call that reads the tracking side (the run's
artifacts, its logged models), so it sits above both clients."""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Mapping
from typing import Any

from mlflowx.entities import LoggedModel, ModelVersion
from mlflowx.exceptions import AlreadyExists, NotFound
from mlflowx.registry.client import DEFAULT_AWAIT_MAX_SLEEP_SECONDS, RegistryClient
from mlflowx.tracking.client import MlflowxClient
from mlflowx.utils.uri import join_uri, parse_model_uri, parse_runs_uri

__all__ = ["register_model"]

log = logging.getLogger(__name__)


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
            As in MLflow 3, a ``runs:/`` URI is stored resolved: the run's artifact location
            when an ``MLmodel`` file is there, else ``models:/<model_id>`` of the model logged
            by that run under that name (the latest step's, if several).
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
        source, run_id, model_id = _resolve_runs_uri(source)
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


def _resolve_runs_uri(uri: str) -> tuple[str, str, str | None]:
    """``runs:/<run_id>/<path>`` -> (source, run id, logged model id), as MLflow 3 registers it.

    The run's own artifacts win when ``<path>`` holds an ``MLmodel`` file; otherwise the
    model is the logged model named ``<path>`` whose source run is this run (MLflow 3's
    ``log_model`` keeps the files with the logged model, not the run).
    """
    run_id, path = parse_runs_uri(uri)
    tracking = MlflowxClient()
    run = tracking.get_run(run_id)
    listed = tracking.list_artifacts(run_id, path)
    if not path or any(posixpath.basename(f.path) == "MLmodel" for f in listed):
        root = run.info.artifact_uri or ""
        return (join_uri(root, path) if path else root), run_id, None
    candidates: list[LoggedModel] = []
    token: str | None = None
    while True:
        # The filter narrows the search on the server; the names are compared here again.
        by_name = None if "'" in path else f"name = '{path}'"
        page = tracking.search_logged_models([run.info.experiment_id], by_name, page_token=token)
        candidates += [m for m in page if m.source_run_id == run_id and m.name == path]
        token = page.token
        if not token:
            break
    if not candidates:
        raise NotFound(
            f"Unable to find a logged_model with artifact_path {path} under run {run_id}"
        )
    steps = {o.model_id: o.step for o in run.outputs.model_outputs}
    chosen = max(candidates, key=lambda m: steps.get(m.model_id, -1))
    log.warning(
        "Run with id %s has no artifacts at artifact path %r, registering model based on "
        "models:/%s instead",
        run_id,
        path,
        chosen.model_id,
    )
    return f"models:/{chosen.model_id}", run_id, chosen.model_id
