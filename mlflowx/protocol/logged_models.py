"""Wire shapes and endpoints of MLflow 3's logged models and run outputs."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from mlflowx import entities as e
from mlflowx.protocol.endpoints import Empty, Endpoint, Id
from mlflowx.protocol.models import Int64, KeyValue, MetricJ, WireModel, kv_dict, kv_list

__all__ = [
    "CREATE_LOGGED_MODEL",
    "LOG_OUTPUTS",
    "SEARCH_LOGGED_MODELS",
    "CreateLoggedModel",
    "LoggedModelJ",
]

Name = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class LoggedModelInfoJ(WireModel):
    model_id: str
    experiment_id: str
    name: str
    creation_timestamp_ms: Int64 | None = None
    last_updated_timestamp_ms: Int64 | None = None
    artifact_uri: str
    status: str = e.LoggedModelStatus.PENDING.value
    model_type: str | None = None
    source_run_id: str | None = None
    status_message: str | None = None
    tags: list[KeyValue] = Field(default_factory=list)


class LoggedModelDataJ(WireModel):
    params: list[KeyValue] = Field(default_factory=list)
    metrics: list[MetricJ] = Field(default_factory=list)


class LoggedModelJ(WireModel):
    info: LoggedModelInfoJ
    data: LoggedModelDataJ = Field(default_factory=LoggedModelDataJ)

    @classmethod
    def of(cls, m: e.LoggedModel) -> LoggedModelJ:
        return cls(
            info=LoggedModelInfoJ(
                model_id=m.model_id,
                experiment_id=m.experiment_id,
                name=m.name,
                creation_timestamp_ms=m.creation_timestamp,
                last_updated_timestamp_ms=m.last_updated_timestamp,
                artifact_uri=m.artifact_location,
                status=m.status.value,
                model_type=m.model_type,
                source_run_id=m.source_run_id,
                status_message=m.status_message,
                tags=kv_list(m.tags),
            ),
            data=LoggedModelDataJ(
                params=kv_list(m.params), metrics=[MetricJ.of(x) for x in m.metrics]
            ),
        )

    def entity(self) -> e.LoggedModel:
        i = self.info
        return e.LoggedModel(
            model_id=i.model_id,
            experiment_id=i.experiment_id,
            name=i.name,
            artifact_location=i.artifact_uri,
            creation_timestamp=i.creation_timestamp_ms or 0,
            last_updated_timestamp=i.last_updated_timestamp_ms or 0,
            status=e.LoggedModelStatus.parse(i.status),
            source_run_id=i.source_run_id or None,
            model_type=i.model_type or None,
            status_message=i.status_message or None,
            tags=kv_dict(i.tags),
            params={p.key: p.value for p in self.data.params},
            metrics=[x.entity() for x in self.data.metrics],
        )


class CreateLoggedModel(WireModel):
    experiment_id: Id
    name: Name | None = None
    model_type: str | None = None
    source_run_id: str | None = None
    params: list[KeyValue] = Field(default_factory=list)
    tags: list[KeyValue] = Field(default_factory=list)


class LoggedModelResponse(WireModel):
    model: LoggedModelJ


class FinalizeLoggedModel(WireModel):
    model_id: str | None = None
    status: Annotated[str, StringConstraints(max_length=40)] | int


class SetLoggedModelTags(WireModel):
    model_id: str | None = None
    tags: list[KeyValue] = Field(default_factory=list)


class LogLoggedModelParams(WireModel):
    model_id: str | None = None
    params: list[KeyValue] = Field(default_factory=list)


class SearchOrderBy(WireModel):
    field_name: Annotated[str, StringConstraints(max_length=250)]
    ascending: bool = True
    dataset_name: str | None = None
    dataset_digest: str | None = None


class SearchLoggedModels(WireModel):
    experiment_ids: list[Id] = Field(default_factory=list)
    filter: str | None = None
    max_results: Annotated[int, Field(ge=-(2**31), le=2**31 - 1)] | None = None
    order_by: list[SearchOrderBy] = Field(default_factory=list)
    page_token: str | None = None


class SearchLoggedModelsResponse(WireModel):
    models: list[LoggedModelJ] = Field(default_factory=list)
    next_page_token: str | None = None


class ModelOutputJ(WireModel):
    model_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    step: Int64 = 0


class LogOutputs(WireModel):
    run_id: Id
    models: list[ModelOutputJ] = Field(default_factory=list)


CREATE_LOGGED_MODEL = Endpoint(
    "POST", "/logged-models", CreateLoggedModel, LoggedModelResponse, idempotent=False
)
SEARCH_LOGGED_MODELS = Endpoint(
    "POST", "/logged-models/search", SearchLoggedModels, SearchLoggedModelsResponse
)
LOG_OUTPUTS = Endpoint("POST", "/runs/outputs", LogOutputs, Empty)
