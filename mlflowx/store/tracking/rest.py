"""The REST tracking store: the MLflow REST API over HTTP (``http(s)://`` tracking URIs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from mlflowx.entities import (
    DatasetInput,
    DatasetSummary,
    Experiment,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    ModelInput,
    ModelOutput,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from mlflowx.exceptions import InternalError, NotFound
from mlflowx.protocol import endpoints as p
from mlflowx.protocol import logged_models as lm
from mlflowx.protocol.gc import GC_PATH, GcRequest, GcResponse
from mlflowx.protocol.metrics_json import parse_metrics_response
from mlflowx.protocol.models import (
    DatasetInputJ,
    KeyValue,
    MetricJ,
    ModelInputJ,
    WireModel,
    kv_list,
)
from mlflowx.store.http import HttpSession, session_for
from mlflowx.store.tracking.base import (
    HISTORY_INTERVAL_MAX_RESULTS,
    SEARCH_MAX_RESULTS_DEFAULT,
    KeyValueLike,
    MetricLike,
    TrackingStore,
    check_history_interval,
    validate_batch,
)
from mlflowx.utils.validation import validate_metric

__all__ = ["RestTrackingStore"]

Resp = TypeVar("Resp", bound=WireModel)
API = "/api/2.0/mlflow"


class RestTrackingStore(TrackingStore):
    def __init__(self, uri: str, session: HttpSession | None = None) -> None:
        self.uri = uri.rstrip("/")
        self.session = session or session_for(self.uri)
        self.default_artifact_root = "mlflow-artifacts:/"

    def _call(self, endpoint: p.Endpoint[Any, Resp], body: WireModel) -> Resp:
        if endpoint.method == "GET":
            params = body.model_dump(mode="json", by_alias=True, exclude_none=True)
            response = self.session.request(
                "GET", API + endpoint.path, params=params, idempotent=True
            )
        else:
            # model_dump_json writes NaN/Infinity as protobuf's JSON strings.
            content = body.model_dump_json(by_alias=True, exclude_none=True)
            response = self.session.request(
                endpoint.method,
                API + endpoint.path,
                content=content,
                headers={"Content-Type": "application/json"},
                idempotent=endpoint.idempotent,
            )
        return endpoint.response.model_validate_json(response.content or b"{}")

    # ------------------------------------------------------------------ experiments
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Sequence[RunTag] = ()
    ) -> str:
        body = p.CreateExperiment(
            name=name,
            artifact_location=artifact_location,
            tags=[KeyValue(key=t.key, value=t.value) for t in tags],
        )
        return self._call(p.CREATE_EXPERIMENT, body).experiment_id

    def get_experiment(self, experiment_id: str) -> Experiment:
        body = p.GetExperiment(experiment_id=str(experiment_id))
        return self._call(p.GET_EXPERIMENT, body).experiment.entity()

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            body = p.GetExperimentByName(experiment_name=name)
            return self._call(p.GET_EXPERIMENT_BY_NAME, body).experiment.entity()
        except NotFound:
            return None

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        body = p.SearchExperiments(
            max_results=max_results,
            page_token=page_token,
            filter=filter_string or None,
            order_by=list(order_by or []),
            view_type=ViewType.parse(view_type).name,
        )
        resp = self._call(p.SEARCH_EXPERIMENTS, body)
        return PagedList([x.entity() for x in resp.experiments], resp.next_page_token or None)

    def delete_experiment(self, experiment_id: str) -> None:
        self._call(p.DELETE_EXPERIMENT, p.ExperimentId(experiment_id=str(experiment_id)))

    def restore_experiment(self, experiment_id: str) -> None:
        self._call(p.RESTORE_EXPERIMENT, p.ExperimentId(experiment_id=str(experiment_id)))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        body = p.UpdateExperiment(experiment_id=str(experiment_id), new_name=new_name)
        self._call(p.UPDATE_EXPERIMENT, body)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        body = p.SetExperimentTag(experiment_id=str(experiment_id), key=key, value=value)
        self._call(p.SET_EXPERIMENT_TAG, body)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        body = p.DeleteExperimentTag(experiment_id=str(experiment_id), key=key)
        self._call(p.DELETE_EXPERIMENT_TAG, body)

    # ------------------------------------------------------------------ runs
    def create_run(
        self,
        experiment_id: str,
        user_id: str | None,
        start_time: int | None,
        tags: Sequence[RunTag],
        run_name: str | None,
    ) -> Run:
        body = p.CreateRun(
            experiment_id=str(experiment_id),
            user_id=user_id,
            start_time=start_time,
            run_name=run_name,
            tags=[KeyValue(key=t.key, value=t.value) for t in tags],
        )
        return self._call(p.CREATE_RUN, body).run.entity()

    def get_run(self, run_id: str) -> Run:
        return self._call(p.GET_RUN, p.GetRun(run_id=run_id)).run.entity()

    def update_run_info(
        self,
        run_id: str,
        run_status: RunStatus | None,
        end_time: int | None,
        run_name: str | None = None,
    ) -> RunInfo:
        body = p.UpdateRun(
            run_id=run_id,
            run_uuid=run_id,
            status=str(run_status) if run_status is not None else None,
            end_time=end_time,
            run_name=run_name,
        )
        return self._call(p.UPDATE_RUN, body).run_info.entity()

    def delete_run(self, run_id: str) -> None:
        self._call(p.DELETE_RUN, p.RunId(run_id=run_id))

    def restore_run(self, run_id: str) -> None:
        self._call(p.RESTORE_RUN, p.RunId(run_id=run_id))

    def log_metric(self, run_id: str, metric: Metric) -> None:
        key, value, timestamp, step = validate_metric(
            metric.key, metric.value, metric.timestamp, metric.step
        )
        body = p.LogMetric(
            run_id=run_id,
            run_uuid=run_id,
            key=key,
            value=value,
            timestamp=timestamp,
            step=step,
            model_id=metric.model_id,
            dataset_name=metric.dataset_name,
            dataset_digest=metric.dataset_digest,
        )
        self._call(p.LOG_METRIC, body)

    def log_param(self, run_id: str, param: Param) -> None:
        body = p.LogParam(run_id=run_id, run_uuid=run_id, key=param.key, value=param.value)
        self._call(p.LOG_PARAM, body)

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        body = p.SetTag(run_id=run_id, run_uuid=run_id, key=tag.key, value=tag.value)
        self._call(p.SET_TAG, body)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[MetricLike] = (),
        params: Sequence[KeyValueLike] = (),
        tags: Sequence[KeyValueLike] = (),
    ) -> None:
        checked, param_map, tag_map = validate_batch(metrics, params, tags)
        body = p.LogBatch.model_construct(
            run_id=run_id,
            metrics=[
                MetricJ.model_construct(
                    key=m.key,
                    value=m.value,
                    timestamp=m.timestamp,
                    step=m.step,
                    model_id=m.model_id,
                    dataset_name=m.dataset_name,
                    dataset_digest=m.dataset_digest,
                )
                for m in checked
            ],
            params=[KeyValue.model_construct(key=k, value=val) for k, val in param_map.items()],
            tags=[KeyValue.model_construct(key=k, value=val) for k, val in tag_map.items()],
        )
        self._call(p.LOG_BATCH, body)

    def delete_tag(self, run_id: str, key: str) -> None:
        self._call(p.DELETE_TAG, p.DeleteTag(run_id=run_id, key=key))

    def log_inputs(
        self, run_id: str, datasets: Sequence[DatasetInput], models: Sequence[ModelInput] = ()
    ) -> None:
        body = p.LogInputs(
            run_id=run_id,
            datasets=[DatasetInputJ.of(d) for d in datasets],
            models=[ModelInputJ(model_id=m.model_id) for m in models],
        )
        self._call(p.LOG_INPUTS, body)

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        body = p.GetMetricHistory(
            run_id=run_id,
            run_uuid=run_id,
            metric_key=metric_key,
            max_results=max_results,
            page_token=page_token,
        )
        # Read point by point, not through the wire model: a history can be millions.
        params = body.model_dump(mode="json", by_alias=True, exclude_none=True)
        path = API + p.GET_METRIC_HISTORY.path
        response = self.session.request("GET", path, params=params, idempotent=True)
        try:
            items, token = parse_metrics_response(response.content, run_id)
        except ValueError as exc:
            raise InternalError(f"GET {path}: the server's answer is not valid: {exc}") from None
        return PagedList(items, token)

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int = HISTORY_INTERVAL_MAX_RESULTS,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        ids, limit = check_history_interval(run_ids, metric_key, max_results, start_step, end_step)
        body = p.GetMetricHistoryBulkInterval(
            run_ids=ids,
            metric_key=metric_key,
            max_results=limit,
            start_step=start_step,
            end_step=end_step,
        )
        resp = self._call(p.GET_METRIC_HISTORY_BULK_INTERVAL, body)
        return [m.entity() for m in resp.metrics]

    def search_datasets(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        body = p.SearchDatasets(experiment_ids=[str(e) for e in experiment_ids])
        # MLflow's server has this endpoint under /ajax-api only.
        response = self.session.request(
            "POST",
            "/ajax-api/2.0/mlflow" + p.SEARCH_DATASETS.path,
            content=body.model_dump_json(),
            headers={"Content-Type": "application/json"},
            idempotent=True,
        )
        resp = p.SearchDatasetsResponse.model_validate_json(response.content or b"{}")
        return [d.entity() for d in resp.dataset_summaries]

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        body = p.SearchRuns(
            experiment_ids=[str(e) for e in experiment_ids],
            filter=filter_string or None,
            run_view_type=ViewType.parse(run_view_type).name,
            max_results=max_results,
            order_by=list(order_by or []),
            page_token=page_token,
        )
        resp = self._call(p.SEARCH_RUNS, body)
        return PagedList([r.entity() for r in resp.runs], resp.next_page_token or None)

    # ------------------------------------------------------------------ logged models
    def _json(self, method: str, path: str, body: WireModel | None, idempotent: bool) -> bytes:
        content = body.model_dump_json(by_alias=True, exclude_none=True) if body else None
        response = self.session.request(
            method,
            API + path,
            content=content,
            headers={"Content-Type": "application/json"} if content else None,
            idempotent=idempotent,
        )
        return response.content or b"{}"

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        model_type: str | None = None,
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> LoggedModel:
        body = lm.CreateLoggedModel(
            experiment_id=str(experiment_id),
            name=name or None,
            model_type=model_type,
            source_run_id=source_run_id,
            params=kv_list(params),
            tags=kv_list(tags),
        )
        return self._call(lm.CREATE_LOGGED_MODEL, body).model.entity()

    def get_logged_model(self, model_id: str) -> LoggedModel:
        raw = self._json("GET", f"/logged-models/{quote(model_id)}", None, True)
        return lm.LoggedModelResponse.model_validate_json(raw).model.entity()

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        body = lm.FinalizeLoggedModel(model_id=model_id, status=LoggedModelStatus.parse(status))
        raw = self._json("PATCH", f"/logged-models/{quote(model_id)}", body, True)
        return lm.LoggedModelResponse.model_validate_json(raw).model.entity()

    def set_logged_model_tags(self, model_id: str, tags: dict[str, str]) -> None:
        body = lm.SetLoggedModelTags(model_id=model_id, tags=kv_list(tags))
        self._json("PATCH", f"/logged-models/{quote(model_id)}/tags", body, True)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self._json(
            "DELETE", f"/logged-models/{quote(model_id)}/tags/{quote(key, safe='')}", None, False
        )

    def log_logged_model_params(self, model_id: str, params: dict[str, str]) -> None:
        body = lm.LogLoggedModelParams(model_id=model_id, params=kv_list(params))
        self._json("POST", f"/logged-models/{quote(model_id)}/params", body, True)

    def delete_logged_model(self, model_id: str) -> None:
        self._json("DELETE", f"/logged-models/{quote(model_id)}", None, False)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        orders = []
        for item in order_by or []:
            field, _, direction = item.strip().partition(" ")
            orders.append(
                lm.SearchOrderBy(field_name=field, ascending=direction.strip().upper() != "DESC")
            )
        body = lm.SearchLoggedModels(
            experiment_ids=[str(e) for e in experiment_ids],
            filter=filter_string or None,
            max_results=max_results,
            order_by=orders,
            page_token=page_token,
        )
        resp = self._call(lm.SEARCH_LOGGED_MODELS, body)
        return PagedList([m.entity() for m in resp.models], resp.next_page_token or None)

    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None:
        body = lm.LogOutputs(
            run_id=run_id,
            models=[lm.ModelOutputJ(model_id=m.model_id, step=m.step) for m in models],
        )
        self._call(lm.LOG_OUTPUTS, body)

    # ------------------------------------------------------------------ gc (mlflowx's own)

    def collect_garbage(self, request: GcRequest) -> GcResponse:
        """Have the server purge deleted runs, experiments and logged models with their
        artifacts (``mlflowx gc``; admins only). Not retried: a repeat would find less to do
        and report it, so the first answer is the one that counts."""
        response = self.session.request(
            "POST",
            GC_PATH,
            content=request.model_dump_json(exclude_none=True),
            headers={"Content-Type": "application/json"},
            idempotent=False,
        )
        return GcResponse.model_validate_json(response.content or b"{}")
