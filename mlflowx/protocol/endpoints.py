"""The MLflow REST API's tracking endpoints: method, path, request and response models.

One declaration serves the server (routes and validation), the REST client, and the OpenAPI
document. Paths are relative to ``/api/2.0/mlflow`` (and ``/ajax-api/2.0/mlflow``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import Field, StringConstraints

from mlflowx import entities as e
from mlflowx.protocol.models import (
    DatasetInputJ,
    ExperimentJ,
    Int64,
    KeyValue,
    MetricJ,
    ModelInputJ,
    RunInfoJ,
    RunJ,
    WireModel,
)

Req = TypeVar("Req", bound=WireModel)
Resp = TypeVar("Resp", bound=WireModel)

Id = Annotated[str, StringConstraints(min_length=1, max_length=256)]
# Enums travel by name (protobuf JSON) but numbers are accepted too; the domain parses them.
ViewTypeName = Annotated[str, StringConstraints(max_length=20)] | int
RunStatusName = Annotated[str, StringConstraints(max_length=20)] | int


@dataclass(frozen=True)
class Endpoint(Generic[Req, Resp]):
    method: Literal["GET", "POST", "PATCH", "DELETE"]
    path: str
    request: type[Req]
    response: type[Resp]
    #: Safe to repeat after a timeout or a 5xx (every tracking write here is made idempotent).
    idempotent: bool = True


class Empty(WireModel):
    pass


# ---------------------------------------------------------------------------- experiments
class CreateExperiment(WireModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    artifact_location: Annotated[str, StringConstraints(max_length=2000)] | None = None
    tags: list[KeyValue] = Field(default_factory=list, max_length=1000)


class CreateExperimentResponse(WireModel):
    experiment_id: str


class SearchExperiments(WireModel):
    max_results: Int64 | None = None
    page_token: str | None = None
    filter: str | None = None
    order_by: list[str] = Field(default_factory=list)
    view_type: ViewTypeName | None = None


class SearchExperimentsResponse(WireModel):
    experiments: list[ExperimentJ] = Field(default_factory=list)
    next_page_token: str | None = None


class GetExperiment(WireModel):
    experiment_id: Id


class ExperimentResponse(WireModel):
    experiment: ExperimentJ


class GetExperimentByName(WireModel):
    experiment_name: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class UpdateExperiment(WireModel):
    experiment_id: Id
    new_name: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class ExperimentId(WireModel):
    experiment_id: Id


class SetExperimentTag(WireModel):
    experiment_id: Id
    key: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    value: str = ""


class DeleteExperimentTag(WireModel):
    experiment_id: Id
    key: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


# ---------------------------------------------------------------------------- runs
class CreateRun(WireModel):
    experiment_id: Id | None = None
    user_id: str | None = None
    run_name: str | None = None
    start_time: Int64 | None = None
    tags: list[KeyValue] = Field(default_factory=list, max_length=1000)


class RunResponse(WireModel):
    run: RunJ


class UpdateRun(WireModel):
    run_id: Id | None = None
    run_uuid: Id | None = None
    status: RunStatusName | None = None
    end_time: Int64 | None = None
    run_name: str | None = None


class UpdateRunResponse(WireModel):
    run_info: RunInfoJ


class RunId(WireModel):
    run_id: Id


class GetRun(WireModel):
    run_id: Id | None = None
    run_uuid: Id | None = None


class SearchRuns(WireModel):
    experiment_ids: list[Id] = Field(default_factory=list, max_length=1000)
    filter: str | None = None
    run_view_type: ViewTypeName | None = None
    max_results: Annotated[int, Field(ge=-(2**31), le=2**31 - 1)] | None = None
    order_by: list[str] = Field(default_factory=list)
    page_token: str | None = None


class SearchRunsResponse(WireModel):
    runs: list[RunJ] = Field(default_factory=list)
    next_page_token: str | None = None


class LogMetric(WireModel):
    run_id: Id | None = None
    run_uuid: Id | None = None
    key: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    value: float
    timestamp: Int64
    step: Int64 | None = None
    model_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


class LogParam(WireModel):
    run_id: Id | None = None
    run_uuid: Id | None = None
    key: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    value: str


class SetTag(WireModel):
    run_id: Id | None = None
    run_uuid: Id | None = None
    key: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    value: str


class DeleteTag(WireModel):
    run_id: Id
    key: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class LogBatch(WireModel):
    # Sizes are checked by the store, with MLflow's messages (at most 1000 metrics ...).
    run_id: Id
    metrics: list[MetricJ] = Field(default_factory=list)
    params: list[KeyValue] = Field(default_factory=list)
    tags: list[KeyValue] = Field(default_factory=list)


class LogInputs(WireModel):
    run_id: Id
    datasets: list[DatasetInputJ] = Field(default_factory=list, max_length=1000)
    models: list[ModelInputJ] = Field(default_factory=list, max_length=1000)


class GetMetricHistory(WireModel):
    run_id: Id | None = None
    run_uuid: Id | None = None
    metric_key: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    page_token: str | None = None
    max_results: Annotated[int, Field(ge=-(2**31), le=2**31 - 1)] | None = None


class GetMetricHistoryResponse(WireModel):
    metrics: list[MetricJ] = Field(default_factory=list)
    next_page_token: str | None = None


class GetMetricHistoryBulk(WireModel):
    """``run_id`` repeated: MLflow's UI endpoint names each run as ``run_id=``."""

    run_id: list[Id] = Field(default_factory=list, max_length=1000)
    metric_key: Annotated[str, StringConstraints(max_length=1000)] | None = None
    max_results: Annotated[int, Field(ge=-(2**31), le=2**31 - 1)] | None = None


class GetMetricHistoryBulkInterval(WireModel):
    run_ids: list[Id] = Field(default_factory=list, max_length=1000)
    metric_key: Annotated[str, StringConstraints(max_length=1000)] | None = None
    start_step: Int64 | None = None
    end_step: Int64 | None = None
    max_results: Annotated[int, Field(ge=-(2**31), le=2**31 - 1)] | None = None


class MetricsResponse(WireModel):
    metrics: list[MetricJ] = Field(default_factory=list)


class SearchDatasets(WireModel):
    experiment_ids: list[Id] = Field(default_factory=list, max_length=1000)


class DatasetSummaryJ(WireModel):
    experiment_id: str
    name: str
    digest: str
    context: str | None = None

    @classmethod
    def of(cls, d: e.DatasetSummary) -> DatasetSummaryJ:
        return cls(experiment_id=d.experiment_id, name=d.name, digest=d.digest, context=d.context)

    def entity(self) -> e.DatasetSummary:
        return e.DatasetSummary(self.experiment_id, self.name, self.digest, self.context)


class SearchDatasetsResponse(WireModel):
    dataset_summaries: list[DatasetSummaryJ] = Field(default_factory=list)


# ---------------------------------------------------------------------------- the table
CREATE_EXPERIMENT = Endpoint(
    "POST", "/experiments/create", CreateExperiment, CreateExperimentResponse, idempotent=False
)
SEARCH_EXPERIMENTS = Endpoint(
    "POST", "/experiments/search", SearchExperiments, SearchExperimentsResponse
)
GET_EXPERIMENT = Endpoint("GET", "/experiments/get", GetExperiment, ExperimentResponse)
GET_EXPERIMENT_BY_NAME = Endpoint(
    "GET", "/experiments/get-by-name", GetExperimentByName, ExperimentResponse
)
UPDATE_EXPERIMENT = Endpoint("POST", "/experiments/update", UpdateExperiment, Empty)
DELETE_EXPERIMENT = Endpoint("POST", "/experiments/delete", ExperimentId, Empty, idempotent=False)
RESTORE_EXPERIMENT = Endpoint("POST", "/experiments/restore", ExperimentId, Empty, idempotent=False)
SET_EXPERIMENT_TAG = Endpoint("POST", "/experiments/set-experiment-tag", SetExperimentTag, Empty)
DELETE_EXPERIMENT_TAG = Endpoint(
    "POST", "/experiments/delete-experiment-tag", DeleteExperimentTag, Empty, idempotent=False
)
CREATE_RUN = Endpoint("POST", "/runs/create", CreateRun, RunResponse, idempotent=False)
UPDATE_RUN = Endpoint("POST", "/runs/update", UpdateRun, UpdateRunResponse)
DELETE_RUN = Endpoint("POST", "/runs/delete", RunId, Empty)
RESTORE_RUN = Endpoint("POST", "/runs/restore", RunId, Empty)
GET_RUN = Endpoint("GET", "/runs/get", GetRun, RunResponse)
SEARCH_RUNS = Endpoint("POST", "/runs/search", SearchRuns, SearchRunsResponse)
LOG_METRIC = Endpoint("POST", "/runs/log-metric", LogMetric, Empty)
LOG_PARAM = Endpoint("POST", "/runs/log-parameter", LogParam, Empty)
SET_TAG = Endpoint("POST", "/runs/set-tag", SetTag, Empty)
DELETE_TAG = Endpoint("POST", "/runs/delete-tag", DeleteTag, Empty, idempotent=False)
LOG_BATCH = Endpoint("POST", "/runs/log-batch", LogBatch, Empty)
LOG_INPUTS = Endpoint("POST", "/runs/log-inputs", LogInputs, Empty)
GET_METRIC_HISTORY = Endpoint(
    "GET", "/metrics/get-history", GetMetricHistory, GetMetricHistoryResponse
)
GET_METRIC_HISTORY_BULK = Endpoint(
    "GET", "/metrics/get-history-bulk", GetMetricHistoryBulk, MetricsResponse
)
#: Only under ``/ajax-api`` on MLflow's server (the UI's dataset filter).
SEARCH_DATASETS = Endpoint(
    "POST", "/experiments/search-datasets", SearchDatasets, SearchDatasetsResponse
)
GET_METRIC_HISTORY_BULK_INTERVAL = Endpoint(
    "GET", "/metrics/get-history-bulk-interval", GetMetricHistoryBulkInterval, MetricsResponse
)
