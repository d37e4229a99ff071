"""``/runs/*`` and ``/metrics/get-history``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from mlflowx.entities import Metric, Param, RunStatus, RunTag, ViewType
from mlflowx.protocol import endpoints as p
from mlflowx.protocol.models import MetricJ, RunInfoJ, RunJ
from mlflowx.server.deps import Store, WireRouter, require

router = WireRouter(tags=["runs"])


@router.post(p.CREATE_RUN.path)
def create_run(body: p.CreateRun, store: Store) -> p.RunResponse:
    tags = [RunTag(t.key, t.value) for t in body.tags]
    user = body.user_id or next((t.value for t in tags if t.key == "mlflow.user"), None)
    run = store.create_run(
        body.experiment_id or "0", user, body.start_time, tags, body.run_name or None
    )
    return p.RunResponse(run=RunJ.of(run))


@router.get(p.GET_RUN.path)
def get_run(query: Annotated[p.GetRun, Query()], store: Store) -> p.RunResponse:
    run_id = require(query.run_id or query.run_uuid, "run_id")
    return p.RunResponse(run=RunJ.of(store.get_run(run_id)))


@router.post(p.UPDATE_RUN.path)
def update_run(body: p.UpdateRun, store: Store) -> p.UpdateRunResponse:
    run_id = require(body.run_id or body.run_uuid, "run_id")
    status = RunStatus.parse(_status_name(body.status)) if body.status else None
    info = store.update_run_info(run_id, status, body.end_time, body.run_name or None)
    return p.UpdateRunResponse(run_info=RunInfoJ.of(info))


@router.post(p.DELETE_RUN.path)
def delete_run(body: p.RunId, store: Store) -> p.Empty:
    store.delete_run(body.run_id)
    return p.Empty()


@router.post(p.RESTORE_RUN.path)
def restore_run(body: p.RunId, store: Store) -> p.Empty:
    store.restore_run(body.run_id)
    return p.Empty()


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


@router.post(p.LOG_METRIC.path)
def log_metric(body: p.LogMetric, store: Store) -> p.Empty:
    run_id = require(body.run_id or body.run_uuid, "run_id")
    store.log_metric(run_id, Metric(body.key, body.value, body.timestamp, body.step or 0))
    return p.Empty()


@router.post(p.LOG_PARAM.path)
def log_param(body: p.LogParam, store: Store) -> p.Empty:
    run_id = require(body.run_id or body.run_uuid, "run_id")
    store.log_param(run_id, Param(body.key, body.value))
    return p.Empty()


@router.post(p.SET_TAG.path)
def set_tag(body: p.SetTag, store: Store) -> p.Empty:
    run_id = require(body.run_id or body.run_uuid, "run_id")
    store.set_tag(run_id, RunTag(body.key, body.value))
    return p.Empty()


@router.post(p.DELETE_TAG.path)
def delete_tag(body: p.DeleteTag, store: Store) -> p.Empty:
    store.delete_tag(body.run_id, body.key)
    return p.Empty()


@router.post(p.LOG_BATCH.path)
def log_batch(body: p.LogBatch, store: Store) -> p.Empty:
    store.log_batch(
        body.run_id,
        metrics=[Metric(m.key, m.value, m.timestamp, m.step) for m in body.metrics],
        params=[Param(x.key, x.value) for x in body.params],
        tags=[RunTag(x.key, x.value) for x in body.tags],
    )
    return p.Empty()


@router.post(p.LOG_INPUTS.path)
def log_inputs(body: p.LogInputs, store: Store) -> p.Empty:
    store.log_inputs(body.run_id, [d.entity() for d in body.datasets])
    return p.Empty()


@router.get(p.GET_METRIC_HISTORY.path)
def get_metric_history(
    query: Annotated[p.GetMetricHistory, Query()], store: Store
) -> p.GetMetricHistoryResponse:
    run_id = require(query.run_id or query.run_uuid, "run_id")
    page = store.get_metric_history(
        run_id, query.metric_key, query.max_results or None, query.page_token or None
    )
    return p.GetMetricHistoryResponse(
        metrics=[MetricJ.of(m) for m in page], next_page_token=page.token
    )


def _status_name(value: str | int) -> str:
    """Protobuf JSON may carry an enum as its number (RunStatus: RUNNING = 1 ...)."""
    if isinstance(value, int):
        names = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]
        return names[value - 1] if 1 <= value <= len(names) else str(value)
    return value
