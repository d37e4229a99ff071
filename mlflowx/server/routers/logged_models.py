"""``/logged-models/*`` and ``/runs/outputs`` (MLflow 3's logged models)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response

from mlflowx.entities import LoggedModelStatus, ModelOutput
from mlflowx.protocol import logged_models as p
from mlflowx.protocol.endpoints import Empty
from mlflowx.protocol.models import kv_dict
from mlflowx.server.deps import Store, WireRouter, require
from mlflowx.server.routers.artifacts import (
    FileInfoJ,
    ListRunArtifactsResponse,
    preview_response,
    repo_for_uri,
)
from mlflowx.store.artifacts.base import safe_artifact_path

router = WireRouter(tags=["logged-models"])
_STATUS_NUMBERS = {
    1: "LOGGED_MODEL_PENDING",
    2: "LOGGED_MODEL_READY",
    3: "LOGGED_MODEL_UPLOAD_FAILED",
}


@router.post(p.CREATE_LOGGED_MODEL.path)
def create_logged_model(body: p.CreateLoggedModel, store: Store) -> p.LoggedModelResponse:
    model = store.create_logged_model(
        body.experiment_id,
        body.name or "",  # the store generates one, as MLflow does
        body.source_run_id or None,
        body.model_type or None,
        {x.key: x.value for x in body.params},
        {x.key: x.value for x in body.tags},
    )
    return p.LoggedModelResponse(model=p.LoggedModelJ.of(model))


@router.post(p.SEARCH_LOGGED_MODELS.path)
def search_logged_models(body: p.SearchLoggedModels, store: Store) -> p.SearchLoggedModelsResponse:
    order = [f"{o.field_name} {'ASC' if o.ascending else 'DESC'}" for o in body.order_by]
    page = store.search_logged_models(
        body.experiment_ids,
        body.filter or None,
        100 if body.max_results is None else body.max_results,
        order,
        body.page_token or None,
    )
    return p.SearchLoggedModelsResponse(
        models=[p.LoggedModelJ.of(m) for m in page], next_page_token=page.token
    )


@router.get("/logged-models/{model_id}")
def get_logged_model(model_id: str, store: Store) -> p.LoggedModelResponse:
    return p.LoggedModelResponse(model=p.LoggedModelJ.of(store.get_logged_model(model_id)))


@router.patch("/logged-models/{model_id}")
def finalize_logged_model(
    model_id: str, body: p.FinalizeLoggedModel, store: Store
) -> p.LoggedModelResponse:
    status = (
        _STATUS_NUMBERS.get(body.status, str(body.status))
        if isinstance(body.status, int)
        else body.status
    )
    model = store.finalize_logged_model(model_id, LoggedModelStatus.parse(status))
    return p.LoggedModelResponse(model=p.LoggedModelJ.of(model))


@router.delete("/logged-models/{model_id}")
def delete_logged_model(model_id: str, store: Store) -> Empty:
    store.delete_logged_model(model_id)
    return Empty()


@router.patch("/logged-models/{model_id}/tags")
def set_logged_model_tags(
    model_id: str, body: p.SetLoggedModelTags, store: Store
) -> p.LoggedModelResponse:
    store.set_logged_model_tags(model_id, kv_dict(body.tags))
    return p.LoggedModelResponse(model=p.LoggedModelJ.of(store.get_logged_model(model_id)))


@router.delete("/logged-models/{model_id}/tags/{tag_key}")
def delete_logged_model_tag(model_id: str, tag_key: str, store: Store) -> Empty:
    store.delete_logged_model_tag(model_id, tag_key)
    return Empty()


@router.post("/logged-models/{model_id}/params")
def log_logged_model_params(model_id: str, body: p.LogLoggedModelParams, store: Store) -> Empty:
    store.log_logged_model_params(model_id, {x.key: x.value for x in body.params})
    return Empty()


@router.get("/logged-models/{model_id}/artifacts/directories")
def list_logged_model_artifacts(
    model_id: str,
    request: Request,
    store: Store,
    artifact_directory_path: Annotated[str | None, Query(max_length=4096)] = None,
) -> ListRunArtifactsResponse:
    model = store.get_logged_model(model_id)
    files = repo_for_uri(request, model.artifact_location).list_artifacts(
        safe_artifact_path(artifact_directory_path)
    )
    return ListRunArtifactsResponse(
        root_uri=model.artifact_location,
        files=[FileInfoJ(path=f.path, is_dir=f.is_dir, file_size=f.file_size) for f in files],
    )


@router.get("/logged-models/{model_id}/artifacts/files")
def get_logged_model_artifact(
    model_id: str,
    request: Request,
    store: Store,
    artifact_file_path: Annotated[str | None, Query(max_length=4096)] = None,
) -> Response:
    """One file of a logged model (MLflow's route, which its UI and client read)."""
    model = store.get_logged_model(model_id)
    repo = repo_for_uri(request, model.artifact_location)
    return preview_response(request, repo, require(artifact_file_path, "artifact_file_path"))


@router.post(p.LOG_OUTPUTS.path)
def log_outputs(body: p.LogOutputs, store: Store) -> Empty:
    store.log_outputs(body.run_id, [ModelOutput(m.model_id, m.step) for m in body.models])
    return Empty()
