"""The REST registry store: MLflow's model registry API over HTTP (``http(s)://`` URIs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from mlflowx.entities import ModelVersion, PagedList, RegisteredModel
from mlflowx.protocol import registry as p
from mlflowx.protocol.endpoints import Endpoint
from mlflowx.protocol.models import KeyValue, WireModel, kv_list
from mlflowx.store.http import HttpSession, session_for
from mlflowx.store.model_registry.base import (
    SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
    RegistryStore,
    tag_map,
    validate_model_name,
)

__all__ = ["RestRegistryStore"]

Resp = TypeVar("Resp", bound=WireModel)
API = "/api/2.0/mlflow"


def _tags(tags: Mapping[str, str] | None) -> list[KeyValue]:
    return kv_list(tag_map(tags))


class RestRegistryStore(RegistryStore):
    def __init__(self, uri: str, session: HttpSession | None = None) -> None:
        self.uri = uri.rstrip("/")
        self.session = session or session_for(self.uri)

    def _call(self, endpoint: Endpoint[Any, Resp], body: WireModel) -> Resp:
        if endpoint.method == "GET":
            params = body.model_dump(mode="json", by_alias=True, exclude_none=True)
            response = self.session.request(
                "GET", API + endpoint.path, params=params, idempotent=True
            )
        else:  # MLflow sends DELETE parameters as a JSON body too
            response = self.session.request(
                endpoint.method,
                API + endpoint.path,
                content=body.model_dump_json(by_alias=True, exclude_none=True),
                headers={"Content-Type": "application/json"},
                idempotent=endpoint.idempotent,
            )
        return endpoint.response.model_validate_json(response.content or b"{}")

    # ------------------------------------------------------------------ registered models
    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        body = p.CreateRegisteredModel(
            name=validate_model_name(name), tags=_tags(tags), description=description
        )
        return self._call(p.CREATE_REGISTERED_MODEL, body).registered_model.entity()

    def get_registered_model(self, name: str) -> RegisteredModel:
        body = p.ModelName(name=validate_model_name(name))
        return self._call(p.GET_REGISTERED_MODEL, body).registered_model.entity()

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        body = p.UpdateRegisteredModel(name=name, description=description)
        return self._call(p.UPDATE_REGISTERED_MODEL, body).registered_model.entity()

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        body = p.RenameRegisteredModel(name=name, new_name=new_name)
        return self._call(p.RENAME_REGISTERED_MODEL, body).registered_model.entity()

    def delete_registered_model(self, name: str) -> None:
        self._call(p.DELETE_REGISTERED_MODEL, p.ModelName(name=name))

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        body = p.SearchRequest(
            filter=filter_string or None,
            max_results=max_results,
            order_by=list(order_by or []),
            page_token=page_token or None,
        )
        resp = self._call(p.SEARCH_REGISTERED_MODELS, body)
        return PagedList([x.entity() for x in resp.registered_models], resp.next_page_token or None)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        body = p.GetLatestVersions(
            name=name, stages=[stages] if isinstance(stages, str) else list(stages or [])
        )
        return [mv.entity() for mv in self._call(p.GET_LATEST_VERSIONS, body).model_versions]

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        body = p.SetRegisteredModelTag(name=name, key=key, value=value)
        self._call(p.SET_REGISTERED_MODEL_TAG, body)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._call(p.DELETE_REGISTERED_MODEL_TAG, p.DeleteRegisteredModelTag(name=name, key=key))

    # ------------------------------------------------------------------ versions
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
        storage_location: str | None = None,  # the server looks logged models up itself
    ) -> ModelVersion:
        body = p.CreateModelVersion(
            name=name,
            source=source,
            run_id=run_id,
            tags=_tags(tags),
            run_link=run_link,
            description=description,
            model_id=model_id,
        )
        return self._call(p.CREATE_MODEL_VERSION, body).model_version.entity()

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        body = p.VersionRequest(name=name, version=str(version))
        return self._call(p.GET_MODEL_VERSION, body).model_version.entity()

    def update_model_version(
        self, name: str, version: str | int, description: str | None
    ) -> ModelVersion:
        body = p.UpdateModelVersion(name=name, version=str(version), description=description)
        return self._call(p.UPDATE_MODEL_VERSION, body).model_version.entity()

    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        body = p.TransitionModelVersionStage(
            name=name,
            version=str(version),
            stage=stage,
            archive_existing_versions=archive_existing_versions,
        )
        return self._call(p.TRANSITION_MODEL_VERSION_STAGE, body).model_version.entity()

    def delete_model_version(self, name: str, version: str | int) -> None:
        self._call(p.DELETE_MODEL_VERSION, p.VersionRequest(name=name, version=str(version)))

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        body = p.VersionRequest(name=name, version=str(version))
        return self._call(p.GET_MODEL_VERSION_DOWNLOAD_URI, body).artifact_uri

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        body = p.SearchRequest(
            filter=filter_string or None,
            max_results=max_results,
            order_by=list(order_by or []),
            page_token=page_token or None,
        )
        resp = self._call(p.SEARCH_MODEL_VERSIONS, body)
        return PagedList([x.entity() for x in resp.model_versions], resp.next_page_token or None)

    def set_model_version_tag(self, name: str, version: str | int, key: str, value: str) -> None:
        body = p.SetModelVersionTag(name=name, version=str(version), key=key, value=value)
        self._call(p.SET_MODEL_VERSION_TAG, body)

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        body = p.DeleteModelVersionTag(name=name, version=str(version), key=key)
        self._call(p.DELETE_MODEL_VERSION_TAG, body)

    # ------------------------------------------------------------------ aliases
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        body = p.SetRegisteredModelAlias(name=name, alias=alias, version=str(version))
        self._call(p.SET_REGISTERED_MODEL_ALIAS, body)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._call(p.DELETE_REGISTERED_MODEL_ALIAS, p.AliasRequest(name=name, alias=alias))

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        body = p.AliasRequest(name=name, alias=alias)
        return self._call(p.GET_MODEL_VERSION_BY_ALIAS, body).model_version.entity()
