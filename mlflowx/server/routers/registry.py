"""``/registered-models/*`` and ``/model-versions/*``: the model registry."""

from __future__ import annotations

import json
import posixpath
from pathlib import Path
from typing import Annotated
from urllib.parse import unquote, urlsplit

from fastapi import Depends, Query, Request

from mlflowx.exceptions import InvalidParameter, NotImplementedByBackend
from mlflowx.protocol import registry as p
from mlflowx.protocol.endpoints import Empty
from mlflowx.protocol.models import kv_dict
from mlflowx.server import auth
from mlflowx.server.deps import Store, WireRouter, require
from mlflowx.store.locations import check_source, decode_until_stable
from mlflowx.store.model_registry.base import (
    SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
    SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD,
    RegistryStore,
)
from mlflowx.store.tracking.base import TrackingStore
from mlflowx.utils.uri import parse_model_uri

router = WireRouter(tags=["model registry"])
#: A logged model's tag listing the registered versions made from it (JSON).
MODEL_VERSIONS_TAG = "mlflow.modelVersions"
#: Page size for reading a whole version search (filtered for a user who may not read all).
_SCAN_PAGE = 10_000


async def _registry_store(request: Request) -> RegistryStore:  # async: no threadpool hop
    store: RegistryStore | None = getattr(request.app.state, "registry_store", None)
    if store is None:
        raise NotImplementedByBackend("This server has no model registry store")
    return store


Registry = Annotated[RegistryStore, Depends(_registry_store)]


def _max_results(value: int | None, default: int) -> int:
    return default if value is None else value


def _version(value: str | int | None) -> str:
    return require(None if value is None else str(value), "version")


# ----------------------------------------------------------------------- source validation
def _bad_source(source: str, what: str) -> InvalidParameter:
    return InvalidParameter(
        f"Invalid model version source: '{source}'. The {what} request parameter must identify "
        "the resource that contains the source."
    )


def _within(path: str, root: str) -> bool:
    path, root = posixpath.normpath(path), posixpath.normpath(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


def validate_source(source: str, run_id: str | None, tracking: TrackingStore) -> None:
    """MLflow's server-side checks: a version's source must be where its run keeps artifacts.

    A local path or an ``mlflow-artifacts:`` URI must lie inside the artifact location of the
    run named by ``run_id``; a ``runs:/`` URI must name that same run; no source may climb out
    of its location with ``..`` (percent-encoded any number of times), nor carry a fragment.
    """
    check_source(source)
    parts = urlsplit(source)
    scheme = parts.scheme.lower()
    local = scheme in ("", "file") or (len(scheme) == 1 and source[1:2] == ":")
    if not local and ".." in decode_until_stable(parts.path).split("/"):
        raise InvalidParameter(
            f"Invalid model version source: '{source}'. If supplying a source as an http, s3, "
            "or other remote URI, you must not use relative path references such as '..'."
        )
    if local:
        if run_id:
            artifact_uri = tracking.get_run(run_id).info.artifact_uri or ""
            root = urlsplit(artifact_uri)
            path = unquote(parts.path) if scheme == "file" else source
            if root.scheme in ("", "file") and _within(
                str(Path(path).resolve()), str(Path(unquote(root.path)).resolve())
            ):
                return
        raise InvalidParameter(
            f"Invalid model version source: '{source}'. To use a local path as a model version "
            "source, the run_id request parameter has to be specified and the local path has to "
            "be contained within the artifact directory of the run specified by the run_id."
        )
    if scheme == "runs":
        source_run = parts.path.lstrip("/").split("/", 1)[0]
        if parts.netloc or not run_id or source_run != run_id:
            raise _bad_source(source, "run_id")
    elif scheme == "models":
        if parts.netloc or parse_model_uri(source).model_id is not None:
            raise _bad_source(source, "model_id")
    elif scheme == "mlflow-artifacts":
        run_root = (tracking.get_run(run_id).info.artifact_uri or "") if run_id else ""
        if not run_root or not _within(parts.path or "/", urlsplit(run_root).path or "/"):
            raise _bad_source(source, "run_id")


# ----------------------------------------------------------------------- registered models
@router.post(p.CREATE_REGISTERED_MODEL.path)
def create_registered_model(
    body: p.CreateRegisteredModel, registry: Registry
) -> p.RegisteredModelResponse:
    rm = registry.create_registered_model(
        require(body.name, "name"), kv_dict(body.tags), body.description
    )
    return p.RegisteredModelResponse(registered_model=p.RegisteredModelJ.of(rm))


@router.get(p.GET_REGISTERED_MODEL.path)
def get_registered_model(
    query: Annotated[p.ModelName, Query()], registry: Registry
) -> p.RegisteredModelResponse:
    rm = registry.get_registered_model(require(query.name, "name"))
    return p.RegisteredModelResponse(registered_model=p.RegisteredModelJ.of(rm))


@router.post(p.RENAME_REGISTERED_MODEL.path)
def rename_registered_model(
    body: p.RenameRegisteredModel, registry: Registry
) -> p.RegisteredModelResponse:
    rm = registry.rename_registered_model(
        require(body.name, "name"), require(body.new_name, "new_name")
    )
    return p.RegisteredModelResponse(registered_model=p.RegisteredModelJ.of(rm))


@router.patch(p.UPDATE_REGISTERED_MODEL.path)
def update_registered_model(
    body: p.UpdateRegisteredModel, registry: Registry
) -> p.RegisteredModelResponse:
    rm = registry.update_registered_model(require(body.name, "name"), body.description)
    return p.RegisteredModelResponse(registered_model=p.RegisteredModelJ.of(rm))


@router.delete(p.DELETE_REGISTERED_MODEL.path)
def delete_registered_model(body: p.ModelName, registry: Registry) -> Empty:
    registry.delete_registered_model(require(body.name, "name"))
    return Empty()


@router.get(p.SEARCH_REGISTERED_MODELS.path)
def search_registered_models(
    query: Annotated[p.SearchRequest, Query()], registry: Registry, request: Request
) -> p.SearchRegisteredModelsResponse:
    max_results = _max_results(query.max_results, SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT)
    found, token = auth.visible_page(
        request,
        "registered_model",
        lambda n, t: registry.search_registered_models(query.filter or None, n, query.order_by, t),
        max_results,
        query.page_token,
        key=lambda rm: rm.name,
        limit=SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD,
        scan_size=SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD,
    )
    return p.SearchRegisteredModelsResponse(
        registered_models=[p.RegisteredModelJ.of(rm) for rm in found], next_page_token=token
    )


@router.post(p.GET_LATEST_VERSIONS.path)
def get_latest_versions(body: p.GetLatestVersions, registry: Registry) -> p.ModelVersionsResponse:
    versions = registry.get_latest_versions(require(body.name, "name"), body.stages)
    return p.ModelVersionsResponse(model_versions=[p.ModelVersionJ.of(mv) for mv in versions])


@router.get(p.GET_LATEST_VERSIONS.path)
def get_latest_versions_get(
    query: Annotated[p.GetLatestVersions, Query()], registry: Registry
) -> p.ModelVersionsResponse:
    return get_latest_versions(query, registry)


@router.post(p.SET_REGISTERED_MODEL_TAG.path)
def set_registered_model_tag(body: p.SetRegisteredModelTag, registry: Registry) -> Empty:
    registry.set_registered_model_tag(
        require(body.name, "name"), require(body.key, "key"), body.value or ""
    )
    return Empty()


@router.delete(p.DELETE_REGISTERED_MODEL_TAG.path)
def delete_registered_model_tag(body: p.DeleteRegisteredModelTag, registry: Registry) -> Empty:
    registry.delete_registered_model_tag(require(body.name, "name"), require(body.key, "key"))
    return Empty()


@router.post(p.SET_REGISTERED_MODEL_ALIAS.path)
def set_registered_model_alias(body: p.SetRegisteredModelAlias, registry: Registry) -> Empty:
    registry.set_registered_model_alias(
        require(body.name, "name"), require(body.alias, "alias"), _version(body.version)
    )
    return Empty()


@router.delete(p.DELETE_REGISTERED_MODEL_ALIAS.path)
def delete_registered_model_alias(body: p.AliasRequest, registry: Registry) -> Empty:
    registry.delete_registered_model_alias(require(body.name, "name"), require(body.alias, "alias"))
    return Empty()


@router.get(p.GET_MODEL_VERSION_BY_ALIAS.path)
def get_model_version_by_alias(
    query: Annotated[p.AliasRequest, Query()], registry: Registry
) -> p.ModelVersionResponse:
    mv = registry.get_model_version_by_alias(
        require(query.name, "name"), require(query.alias, "alias")
    )
    return p.ModelVersionResponse(model_version=p.ModelVersionJ.of(mv))


# ------------------------------------------------------------------------------- versions
@router.post(p.CREATE_MODEL_VERSION.path)
def create_model_version(
    body: p.CreateModelVersion, registry: Registry, tracking: Store
) -> p.ModelVersionResponse:
    name = require(body.name, "name")
    source = require(body.source, "source")
    run_id = body.run_id or None
    if not body.model_id:  # a logged model's source is its own location
        validate_source(source, run_id, tracking)
    mv = registry.create_model_version(
        name,
        source,
        run_id,
        kv_dict(body.tags),
        body.run_link or None,
        body.description,
        body.model_id or None,
    )
    if mv.model_id:
        _link_logged_model(tracking, mv.model_id, mv.name, mv.version)
    return p.ModelVersionResponse(model_version=p.ModelVersionJ.of(mv))


def _link_logged_model(tracking: TrackingStore, model_id: str, name: str, version: str) -> None:
    """Record the version on its logged model (tag ``mlflow.modelVersions``), as MLflow does."""
    # The version as a number: MLflow's server writes the registry's integer.
    versions: list[dict[str, str | int]] = [{"name": name, "version": int(version)}]
    existing = tracking.get_logged_model(model_id).tags.get(MODEL_VERSIONS_TAG)
    if existing:
        known = json.loads(existing)
        versions = known if versions[0] in known else [*known, *versions]
    tracking.set_logged_model_tags(model_id, {MODEL_VERSIONS_TAG: json.dumps(versions)})


@router.get(p.GET_MODEL_VERSION.path)
def get_model_version(
    query: Annotated[p.VersionRequest, Query()], registry: Registry
) -> p.ModelVersionResponse:
    mv = registry.get_model_version(require(query.name, "name"), _version(query.version))
    return p.ModelVersionResponse(model_version=p.ModelVersionJ.of(mv))


@router.patch(p.UPDATE_MODEL_VERSION.path)
def update_model_version(body: p.UpdateModelVersion, registry: Registry) -> p.ModelVersionResponse:
    mv = registry.update_model_version(
        require(body.name, "name"), _version(body.version), body.description
    )
    return p.ModelVersionResponse(model_version=p.ModelVersionJ.of(mv))


@router.post(p.TRANSITION_MODEL_VERSION_STAGE.path)
def transition_model_version_stage(
    body: p.TransitionModelVersionStage, registry: Registry
) -> p.ModelVersionResponse:
    mv = registry.transition_model_version_stage(
        require(body.name, "name"),
        _version(body.version),
        require(body.stage, "stage"),
        body.archive_existing_versions,
    )
    return p.ModelVersionResponse(model_version=p.ModelVersionJ.of(mv))


@router.delete(p.DELETE_MODEL_VERSION.path)
def delete_model_version(body: p.VersionRequest, registry: Registry) -> Empty:
    registry.delete_model_version(require(body.name, "name"), _version(body.version))
    return Empty()


@router.get(p.GET_MODEL_VERSION_DOWNLOAD_URI.path)
def get_model_version_download_uri(
    query: Annotated[p.VersionRequest, Query()], registry: Registry
) -> p.DownloadUriResponse:
    uri = registry.get_model_version_download_uri(
        require(query.name, "name"), _version(query.version)
    )
    return p.DownloadUriResponse(artifact_uri=uri)


@router.get(p.SEARCH_MODEL_VERSIONS.path)
def search_model_versions(
    query: Annotated[p.SearchRequest, Query()], registry: Registry, request: Request
) -> p.SearchModelVersionsResponse:
    max_results = _max_results(query.max_results, SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT)
    found, token = auth.visible_page(
        request,
        "registered_model",
        lambda n, t: registry.search_model_versions(query.filter or None, n, query.order_by, t),
        max_results,
        query.page_token,
        key=lambda mv: mv.name,
        limit=SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD,
        scan_size=_SCAN_PAGE,
    )
    return p.SearchModelVersionsResponse(
        model_versions=[p.ModelVersionJ.of(mv) for mv in found], next_page_token=token
    )


@router.post(p.SET_MODEL_VERSION_TAG.path)
def set_model_version_tag(body: p.SetModelVersionTag, registry: Registry) -> Empty:
    registry.set_model_version_tag(
        require(body.name, "name"),
        _version(body.version),
        require(body.key, "key"),
        body.value or "",
    )
    return Empty()


@router.delete(p.DELETE_MODEL_VERSION_TAG.path)
def delete_model_version_tag(body: p.DeleteModelVersionTag, registry: Registry) -> Empty:
    registry.delete_model_version_tag(
        require(body.name, "name"), _version(body.version), require(body.key, "key")
    )
    return Empty()
