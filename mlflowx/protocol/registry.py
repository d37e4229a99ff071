"""The MLflow REST API's model registry: JSON shapes and endpoints (paths under
``/api/2.0/mlflow``), read by the server's router and the REST registry store alike."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from mlflowx import entities as e
from mlflowx.protocol.endpoints import Empty, Endpoint
from mlflowx.protocol.models import Int64, KeyValue, WireModel, kv_dict, kv_list

__all__ = ["ModelVersionJ", "RegisteredModelAliasJ", "RegisteredModelJ"]

Name = Annotated[str, StringConstraints(max_length=1000)]
Version = Annotated[str, StringConstraints(max_length=40)] | int
TagKey = Annotated[str, StringConstraints(max_length=1000)]


# ------------------------------------------------------------------------------------ shapes
class ModelVersionJ(WireModel):
    name: str
    version: str
    creation_timestamp: Int64 | None = None
    last_updated_timestamp: Int64 | None = None
    user_id: str | None = None
    current_stage: str | None = None
    description: str | None = None
    source: str | None = None
    run_id: str | None = None
    status: str | None = None
    status_message: str | None = None
    tags: list[KeyValue] = Field(default_factory=list)
    run_link: str | None = None
    aliases: list[str] = Field(default_factory=list)
    model_id: str | None = None

    @classmethod
    def of(cls, mv: e.ModelVersion) -> ModelVersionJ:
        return cls(
            name=mv.name,
            version=mv.version,
            creation_timestamp=mv.creation_timestamp,
            last_updated_timestamp=mv.last_updated_timestamp,
            user_id=mv.user_id,
            current_stage=mv.current_stage,
            description=mv.description,
            source=mv.source,
            run_id=mv.run_id,
            status=mv.status,
            status_message=mv.status_message,
            tags=kv_list(mv.tags),
            run_link=mv.run_link,
            aliases=list(mv.aliases),
            model_id=mv.model_id,
        )

    def entity(self) -> e.ModelVersion:
        return e.ModelVersion(
            name=self.name,
            version=self.version,
            creation_timestamp=self.creation_timestamp,
            last_updated_timestamp=self.last_updated_timestamp,
            description=self.description,
            user_id=self.user_id or None,
            current_stage=self.current_stage or e.ModelVersionStage.NONE.value,
            source=self.source,
            run_id=self.run_id or None,
            status=self.status or e.ModelVersionStatus.READY.value,
            status_message=self.status_message,
            tags=kv_dict(self.tags),
            run_link=self.run_link or None,
            aliases=list(self.aliases),
            model_id=self.model_id or None,
        )


class RegisteredModelAliasJ(WireModel):
    alias: str
    version: str


class RegisteredModelJ(WireModel):
    name: str
    creation_timestamp: Int64 | None = None
    last_updated_timestamp: Int64 | None = None
    description: str | None = None
    latest_versions: list[ModelVersionJ] = Field(default_factory=list)
    tags: list[KeyValue] = Field(default_factory=list)
    aliases: list[RegisteredModelAliasJ] = Field(default_factory=list)

    @classmethod
    def of(cls, rm: e.RegisteredModel) -> RegisteredModelJ:
        return cls(
            name=rm.name,
            creation_timestamp=rm.creation_timestamp,
            last_updated_timestamp=rm.last_updated_timestamp,
            description=rm.description,
            latest_versions=[ModelVersionJ.of(mv) for mv in rm.latest_versions],
            tags=kv_list(rm.tags),
            aliases=[RegisteredModelAliasJ(alias=a, version=v) for a, v in rm.aliases.items()],
        )

    def entity(self) -> e.RegisteredModel:
        return e.RegisteredModel(
            name=self.name,
            creation_timestamp=self.creation_timestamp,
            last_updated_timestamp=self.last_updated_timestamp,
            description=self.description,
            latest_versions=[mv.entity() for mv in self.latest_versions],
            tags=kv_dict(self.tags),
            aliases={a.alias: a.version for a in self.aliases},
        )


# ---------------------------------------------------------------------------- registered models
class CreateRegisteredModel(WireModel):
    name: Name | None = None
    tags: list[KeyValue] = Field(default_factory=list, max_length=1000)
    description: str | None = None


class RegisteredModelResponse(WireModel):
    registered_model: RegisteredModelJ


class ModelName(WireModel):
    name: Name | None = None


class RenameRegisteredModel(WireModel):
    name: Name | None = None
    new_name: Name | None = None


class UpdateRegisteredModel(WireModel):
    name: Name | None = None
    description: str | None = None


class SearchRequest(WireModel):
    filter: str | None = None
    max_results: Int64 | None = None
    order_by: list[str] = Field(default_factory=list)
    page_token: str | None = None


class SearchRegisteredModelsResponse(WireModel):
    registered_models: list[RegisteredModelJ] = Field(default_factory=list)
    next_page_token: str | None = None


class GetLatestVersions(WireModel):
    name: Name | None = None
    stages: list[str] = Field(default_factory=list)


class ModelVersionsResponse(WireModel):
    model_versions: list[ModelVersionJ] = Field(default_factory=list)


class SetRegisteredModelTag(WireModel):
    name: Name | None = None
    key: TagKey | None = None
    value: str | None = None


class DeleteRegisteredModelTag(WireModel):
    name: Name | None = None
    key: TagKey | None = None


class SetRegisteredModelAlias(WireModel):
    name: Name | None = None
    alias: Name | None = None
    version: Version | None = None


class AliasRequest(WireModel):
    name: Name | None = None
    alias: Name | None = None


# ------------------------------------------------------------------------------------ versions
class CreateModelVersion(WireModel):
    name: Name | None = None
    source: str | None = None
    run_id: str | None = None
    tags: list[KeyValue] = Field(default_factory=list, max_length=1000)
    run_link: str | None = None
    description: str | None = None
    model_id: str | None = None


class ModelVersionResponse(WireModel):
    model_version: ModelVersionJ


class VersionRequest(WireModel):
    name: Name | None = None
    version: Version | None = None


class UpdateModelVersion(WireModel):
    name: Name | None = None
    version: Version | None = None
    description: str | None = None


class TransitionModelVersionStage(WireModel):
    name: Name | None = None
    version: Version | None = None
    stage: str | None = None
    archive_existing_versions: bool = False


class DownloadUriResponse(WireModel):
    artifact_uri: str


class SearchModelVersionsResponse(WireModel):
    model_versions: list[ModelVersionJ] = Field(default_factory=list)
    next_page_token: str | None = None


class SetModelVersionTag(WireModel):
    name: Name | None = None
    version: Version | None = None
    key: TagKey | None = None
    value: str | None = None


class DeleteModelVersionTag(WireModel):
    name: Name | None = None
    version: Version | None = None
    key: TagKey | None = None


# ------------------------------------------------------------------------------------ the table
CREATE_REGISTERED_MODEL = Endpoint(
    "POST",
    "/registered-models/create",
    CreateRegisteredModel,
    RegisteredModelResponse,
    idempotent=False,
)
GET_REGISTERED_MODEL = Endpoint("GET", "/registered-models/get", ModelName, RegisteredModelResponse)
RENAME_REGISTERED_MODEL = Endpoint(
    "POST",
    "/registered-models/rename",
    RenameRegisteredModel,
    RegisteredModelResponse,
    idempotent=False,
)
UPDATE_REGISTERED_MODEL = Endpoint(
    "PATCH", "/registered-models/update", UpdateRegisteredModel, RegisteredModelResponse
)
DELETE_REGISTERED_MODEL = Endpoint(
    "DELETE", "/registered-models/delete", ModelName, Empty, idempotent=False
)
SEARCH_REGISTERED_MODELS = Endpoint(
    "GET", "/registered-models/search", SearchRequest, SearchRegisteredModelsResponse
)
GET_LATEST_VERSIONS = Endpoint(
    "POST", "/registered-models/get-latest-versions", GetLatestVersions, ModelVersionsResponse
)
SET_REGISTERED_MODEL_TAG = Endpoint(
    "POST", "/registered-models/set-tag", SetRegisteredModelTag, Empty
)
DELETE_REGISTERED_MODEL_TAG = Endpoint(
    "DELETE", "/registered-models/delete-tag", DeleteRegisteredModelTag, Empty
)
SET_REGISTERED_MODEL_ALIAS = Endpoint(
    "POST", "/registered-models/alias", SetRegisteredModelAlias, Empty
)
DELETE_REGISTERED_MODEL_ALIAS = Endpoint("DELETE", "/registered-models/alias", AliasRequest, Empty)
GET_MODEL_VERSION_BY_ALIAS = Endpoint(
    "GET", "/registered-models/alias", AliasRequest, ModelVersionResponse
)
CREATE_MODEL_VERSION = Endpoint(
    "POST", "/model-versions/create", CreateModelVersion, ModelVersionResponse, idempotent=False
)
GET_MODEL_VERSION = Endpoint("GET", "/model-versions/get", VersionRequest, ModelVersionResponse)
UPDATE_MODEL_VERSION = Endpoint(
    "PATCH", "/model-versions/update", UpdateModelVersion, ModelVersionResponse
)
TRANSITION_MODEL_VERSION_STAGE = Endpoint(
    "POST",
    "/model-versions/transition-stage",
    TransitionModelVersionStage,
    ModelVersionResponse,
)
DELETE_MODEL_VERSION = Endpoint(
    "DELETE", "/model-versions/delete", VersionRequest, Empty, idempotent=False
)
GET_MODEL_VERSION_DOWNLOAD_URI = Endpoint(
    "GET", "/model-versions/get-download-uri", VersionRequest, DownloadUriResponse
)
SEARCH_MODEL_VERSIONS = Endpoint(
    "GET", "/model-versions/search", SearchRequest, SearchModelVersionsResponse
)
SET_MODEL_VERSION_TAG = Endpoint("POST", "/model-versions/set-tag", SetModelVersionTag, Empty)
DELETE_MODEL_VERSION_TAG = Endpoint(
    "DELETE", "/model-versions/delete-tag", DeleteModelVersionTag, Empty
)
