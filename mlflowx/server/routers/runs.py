"""``/runs/*`` and ``/metrics/get-history``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from mlflowx.entities import Metric, ModelInput, Param, RunStatus, RunTag, ViewType
from mlflowx.protocol import endpoints as p
from mlflowx.protocol.metrics_json import metrics_response_json
from mlflowx.protocol.models import MetricJ, RunInfoJ, RunJ
from mlflowx.server.deps import (
    Store,
    WireRouter,
    empty,
    parse_body,
    raw_body_openapi,
    require,
    tracking_store,
    write,
    write_metric,
)
from mlflowx.store.tracking.base import HISTORY_INTERVAL_MAX_RESULTS

router = WireRouter(tags=["runs"])

# Writes are ``async`` endpoints that call the store through ``deps.write`` (inline on SQLite)
# and answer a pre-encoded ``{}``; reads stay plain functions, run in FastAPI's threadpool.


@router.post(p.CREATE_RUN.path)
async def create_run(body: p.CreateRun, request: Request) -> p.RunResponse:
    tags = [RunTag(t.key, t.value) for t in body.tags]
    user = body.user_id or next((t.value for t in tags if t.key == "mlflow.user"), None)
    store = tracking_store(request)
    run = await write(
        request,
        store.create_run,
        body.experiment_id or "0",
        user,
        body.start_time,
        tags,
        body.run_name or None,
    )
    return p.RunResponse(run=RunJ.of(run))


@router.get(p.GET_RUN.path)
def get_run(query: Annotated[p.GetRun, Query()], store: Store) -> p.RunResponse:
    run_id = require(query.run_id or query.run_uuid, "run_id")
    return p.RunResponse(run=RunJ.of(store.get_run(run_id)))


@router.post(p.UPDATE_RUN.path)
async def update_run(body: p.UpdateRun, request: Request) -> p.UpdateRunResponse:
    run_id = require(body.run_id or body.run_uuid, "run_id")
    status = RunStatus.parse(_status_name(body.status)) if body.status else None
    store = tracking_store(request)
    info = await write(
        request, store.update_run_info, run_id, status, body.end_time, body.run_name or None
    )
    return p.UpdateRunResponse(run_info=RunInfoJ.of(info))


@router.post(p.DELETE_RUN.path, response_model=p.Empty)
async def delete_run(body: p.RunId, request: Request) -> Response:
    await write(request, tracking_store(request).delete_run, body.run_id)
    return empty()


@router.post(p.RESTORE_RUN.path, response_model=p.Empty)
async def restore_run(body: p.RunId, request: Request) -> Response:
    await write(request, tracking_store(request).restore_run, body.run_id)
    return empty()


@router.post(p.SEARCH_RUNS.path)
def search_runs(body: p.SearchRuns, store: Store) -> p.SearchRunsResponse:
    page = store.search_runs(
        body.experiment_ids,
        body.filter,
        ViewType.parse(body.run_view_type),
        1000 if body.max_results is None else body.max_results,
        body.order_by,
        body.page_token or None,
    )
    return p.SearchRunsResponse(runs=[RunJ.of(r) for r in page], next_page_token=page.token)


@router.post(p.LOG_METRIC.path, response_model=p.Empty)
async def log_metric(body: p.LogMetric, request: Request) -> Response:
    run_id = require(body.run_id or body.run_uuid, "run_id")
    metric = Metric(
        body.key,
        body.value,
        body.timestamp,
        body.step or 0,
        model_id=body.model_id or None,
        dataset_name=body.dataset_name or None,
        dataset_digest=body.dataset_digest or None,
    )
    await write_metric(request, run_id, metric)
    return empty()


@router.post(p.LOG_PARAM.path, response_model=p.Empty)
async def log_param(body: p.LogParam, request: Request) -> Response:
    run_id = require(body.run_id or body.run_uuid, "run_id")
    await write(request, tracking_store(request).log_param, run_id, Param(body.key, body.value))
    return empty()


@router.post(p.SET_TAG.path, response_model=p.Empty)
async def set_tag(body: p.SetTag, request: Request) -> Response:
    run_id = require(body.run_id or body.run_uuid, "run_id")
    await write(request, tracking_store(request).set_tag, run_id, RunTag(body.key, body.value))
    return empty()


@router.post(p.DELETE_TAG.path, response_model=p.Empty)
async def delete_tag(body: p.DeleteTag, request: Request) -> Response:
    await write(request, tracking_store(request).delete_tag, body.run_id, body.key)
    return empty()


@router.post(p.LOG_BATCH.path, response_model=p.Empty, openapi_extra=raw_body_openapi(p.LogBatch))
async def log_batch(request: Request) -> Response:
    # Up to 1,000 metrics: parsed in one pass, handed to the store as parsed (it checks them).
    body = await parse_body(request, p.LogBatch)
    store = tracking_store(request)
    await write(request, store.log_batch, body.run_id, body.metrics, body.params, body.tags)
    return empty()


@router.post(p.LOG_INPUTS.path, response_model=p.Empty)
async def log_inputs(body: p.LogInputs, request: Request) -> Response:
    datasets = [d.entity() for d in body.datasets]
    models = [ModelInput(m.model_id) for m in body.models]
    await write(request, tracking_store(request).log_inputs, body.run_id, datasets, models)
    return empty()


@router.get(p.GET_METRIC_HISTORY.path, response_model=p.GetMetricHistoryResponse)
def get_metric_history(query: Annotated[p.GetMetricHistory, Query()], store: Store) -> Response:
    """Encoded point by point (:func:`metrics_response_json`): a history can be millions."""
    run_id = require(query.run_id or query.run_uuid, "run_id")
    page = store.get_metric_history(
        run_id, query.metric_key, query.max_results or None, query.page_token or None
    )
    return Response(metrics_response_json(page, page.token), media_type="application/json")


@router.get(p.GET_METRIC_HISTORY_BULK.path)
def get_metric_history_bulk(
    query: Annotated[p.GetMetricHistoryBulk, Query()], store: Store
) -> p.MetricsResponse:
    points = store.get_metric_history_bulk(query.run_id, query.metric_key or "", query.max_results)
    return p.MetricsResponse(metrics=[MetricJ.of(m) for m in points])


@router.get(p.GET_METRIC_HISTORY_BULK_INTERVAL.path)
def get_metric_history_bulk_interval(
    query: Annotated[p.GetMetricHistoryBulkInterval, Query()], store: Store
) -> p.MetricsResponse:
    points = store.get_metric_history_bulk_interval(
        query.run_ids,
        query.metric_key or "",
        HISTORY_INTERVAL_MAX_RESULTS if query.max_results is None else query.max_results,
        query.start_step,
        query.end_step,
    )
    return p.MetricsResponse(metrics=[MetricJ.of(m) for m in points])


def _status_name(value: str | int) -> str:
    """Protobuf JSON may carry an enum as its number (RunStatus: RUNNING = 1 ...)."""
    if isinstance(value, int):
        names = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]
        return names[value - 1] if 1 <= value <= len(names) else str(value)
    return value
