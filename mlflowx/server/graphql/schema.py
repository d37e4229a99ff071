"""The GraphQL schema: MLflow's queries and mutations, resolved as the REST routes resolve them.

Every resolver gets the request as ``info.context``; it checks the caller's read permission
(when auth is on) with the same guard and rules as the REST routes, then answers with the
REST route's JSON, so both APIs answer the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import graphene
from fastapi import Request
from graphql import (
    DirectiveLocation,
    GraphQLArgument,
    GraphQLDirective,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLString,
    specified_directives,
)

from mlflowx.entities import ViewType
from mlflowx.exceptions import NotImplementedByBackend
from mlflowx.protocol.endpoints import DatasetSummaryJ, SearchDatasetsResponse
from mlflowx.protocol.models import ExperimentJ, MetricJ, RunJ, dump
from mlflowx.protocol.registry import ModelVersionJ, SearchRequest
from mlflowx.server.auth.rules import Rule
from mlflowx.server.deps import require
from mlflowx.server.graphql import types as t
from mlflowx.server.routers.artifacts import list_run_artifacts
from mlflowx.server.routers.registry import search_model_versions
from mlflowx.store.tracking.base import HISTORY_INTERVAL_MAX_RESULTS, TrackingStore

__all__ = ["proto_defaults", "schema"]

_SEARCH_RUNS_MAX_RESULTS = 1000  # MLflow's default page of runs/search


def _request(info: Any) -> Request:
    request: Request = info.context
    return request


def _store(info: Any) -> TrackingStore:
    store: TrackingStore = _request(info).app.state.tracking_store
    return store


def _check(info: Any, rule: Rule, values: dict[str, Any]) -> None:
    """PermissionDenied unless the caller may do what ``rule`` needs (no-op without auth)."""
    request = _request(info)
    guard = getattr(request.app.state, "auth_guard", None)
    user = getattr(request.state, "user", None)
    if guard is not None and user is not None:
        guard.check(user, rule, values.get)


class MlflowRunExtension(graphene.ObjectType):  # type: ignore[misc]
    info = graphene.Field(t.MlflowRunInfo)
    data = graphene.Field(t.MlflowRunData)
    inputs = graphene.Field(t.MlflowRunInputs)
    outputs = graphene.Field(t.MlflowRunOutputs)
    experiment = graphene.Field(t.MlflowExperiment)
    model_versions = graphene.List(graphene.NonNull(t.MlflowModelVersion))

    @staticmethod
    def resolve_experiment(root: dict[str, Any], info: Any) -> dict[str, Any]:
        # The run was readable, so its experiment is.
        return dump(ExperimentJ.of(_store(info).get_experiment(root["info"]["experiment_id"])))

    @staticmethod
    def resolve_model_versions(root: dict[str, Any], info: Any) -> list[dict[str, Any]] | None:
        request = _request(info)
        registry = request.app.state.registry_store
        if registry is None:
            return None
        run_id = root["info"]["run_id"]
        versions = registry.search_model_versions(f"run_id = '{run_id}'")
        guard = getattr(request.app.state, "auth_guard", None)
        user = getattr(request.state, "user", None)
        keep = guard.readable(user, "registered_model") if guard and user else None
        return [dump(ModelVersionJ.of(v)) for v in versions if keep is None or keep(v.name)]


class MlflowGetExperimentResponse(graphene.ObjectType):  # type: ignore[misc]
    experiment = graphene.Field(t.MlflowExperiment)
    apiError = graphene.Field(t.ApiError)


class MlflowGetRunResponse(graphene.ObjectType):  # type: ignore[misc]
    run = graphene.Field(MlflowRunExtension)
    apiError = graphene.Field(t.ApiError)


class MlflowSearchRunsResponse(graphene.ObjectType):  # type: ignore[misc]
    runs = graphene.List(graphene.NonNull(MlflowRunExtension))
    next_page_token = graphene.String()
    apiError = graphene.Field(t.ApiError)


class MlflowGetMetricHistoryBulkIntervalResponse(graphene.ObjectType):  # type: ignore[misc]
    metrics = graphene.List(graphene.NonNull(t.MlflowMetricWithRunId))
    apiError = graphene.Field(t.ApiError)


class MlflowListArtifactsResponse(graphene.ObjectType):  # type: ignore[misc]
    root_uri = graphene.String()
    files = graphene.List(graphene.NonNull(t.MlflowFileInfo))
    next_page_token = graphene.String()
    apiError = graphene.Field(t.ApiError)


class MlflowSearchModelVersionsResponse(graphene.ObjectType):  # type: ignore[misc]
    model_versions = graphene.List(graphene.NonNull(t.MlflowModelVersion))
    next_page_token = graphene.String()
    apiError = graphene.Field(t.ApiError)


class MlflowSearchDatasetsResponse(graphene.ObjectType):  # type: ignore[misc]
    dataset_summaries = graphene.List(graphene.NonNull(t.MlflowDatasetSummary))
    apiError = graphene.Field(t.ApiError)


def _search_runs(info: Any, input: Any) -> dict[str, Any]:
    experiment_ids = list(input.get("experiment_ids") or [])
    _check(info, Rule("experiments", "read", "experiment_ids"), {"experiment_ids": experiment_ids})
    view = input.get("run_view_type")
    max_results = input.get("max_results")
    page = _store(info).search_runs(
        experiment_ids,
        input.get("filter"),
        ViewType.parse(view.name if view is not None else None),
        _SEARCH_RUNS_MAX_RESULTS if max_results is None else max_results,
        list(input.get("order_by") or []),
        input.get("page_token") or None,
    )
    answer: dict[str, Any] = {"runs": [dump(RunJ.of(r)) for r in page]}
    if page.token:
        answer["next_page_token"] = page.token
    return answer


def _search_datasets(info: Any, input: Any) -> dict[str, Any]:
    experiment_ids = list(input.get("experiment_ids") or [])
    _check(info, Rule("experiments", "read", "experiment_ids"), {"experiment_ids": experiment_ids})
    summaries = _store(info).search_datasets(experiment_ids)
    return dump(
        SearchDatasetsResponse(dataset_summaries=[DatasetSummaryJ.of(d) for d in summaries])
    )


class Query(graphene.ObjectType):  # type: ignore[misc]
    mlflow_get_experiment = graphene.Field(
        MlflowGetExperimentResponse, input=t.MlflowGetExperimentInput()
    )
    mlflow_get_metric_history_bulk_interval = graphene.Field(
        MlflowGetMetricHistoryBulkIntervalResponse,
        input=t.MlflowGetMetricHistoryBulkIntervalInput(),
    )
    mlflow_get_run = graphene.Field(MlflowGetRunResponse, input=t.MlflowGetRunInput())
    mlflow_search_runs = graphene.Field(MlflowSearchRunsResponse, input=t.MlflowSearchRunsInput())
    mlflow_list_artifacts = graphene.Field(
        MlflowListArtifactsResponse, input=t.MlflowListArtifactsInput()
    )
    mlflow_search_model_versions = graphene.Field(
        MlflowSearchModelVersionsResponse, input=t.MlflowSearchModelVersionsInput()
    )
    test = graphene.Field(
        t.Test, input_string=graphene.String(), description="Simple echoing field"
    )

    @staticmethod
    def resolve_mlflow_get_experiment(_root: Any, info: Any, input: Any) -> dict[str, Any]:
        experiment_id = require(input.get("experiment_id"), "experiment_id")
        _check(info, Rule("experiment", "read", "experiment_id"), {"experiment_id": experiment_id})
        return {"experiment": dump(ExperimentJ.of(_store(info).get_experiment(experiment_id)))}

    @staticmethod
    def resolve_mlflow_get_run(_root: Any, info: Any, input: Any) -> dict[str, Any]:
        run_id = require(input.get("run_id") or input.get("run_uuid"), "run_id")
        _check(info, Rule("run", "read", "run_id"), {"run_id": run_id})
        return {"run": dump(RunJ.of(_store(info).get_run(run_id)))}

    @staticmethod
    def resolve_mlflow_search_runs(_root: Any, info: Any, input: Any) -> dict[str, Any]:
        return _search_runs(info, input)

    @staticmethod
    def resolve_mlflow_list_artifacts(_root: Any, info: Any, input: Any) -> dict[str, Any]:
        run_id = require(input.get("run_id") or input.get("run_uuid"), "run_id")
        _check(info, Rule("run", "read", "run_id"), {"run_id": run_id})
        listing = list_run_artifacts(
            _request(info), _store(info), run_id, None, input.get("path"), input.get("page_token")
        )
        return dump(listing)

    @staticmethod
    def resolve_mlflow_search_model_versions(_root: Any, info: Any, input: Any) -> dict[str, Any]:
        request = _request(info)
        registry = request.app.state.registry_store
        if registry is None:
            raise NotImplementedByBackend("This server has no model registry store")
        query = SearchRequest(
            filter=input.get("filter"),
            max_results=input.get("max_results"),
            order_by=list(input.get("order_by") or []),
            page_token=input.get("page_token"),
        )
        return dump(search_model_versions(query, registry, request))

    @staticmethod
    def resolve_test(_root: Any, _info: Any, input_string: str | None = None) -> dict[str, Any]:
        return {"output": input_string}

    @staticmethod
    def resolve_mlflow_get_metric_history_bulk_interval(
        _root: Any,
        info: Any,
        input: Any,
    ) -> dict[str, Any]:
        run_ids = list(input.get("run_ids") or [])
        _check(info, Rule("runs", "read", "run_ids"), {"run_ids": run_ids})
        max_results = input.get("max_results")
        points = _store(info).get_metric_history_bulk_interval(
            run_ids,
            input.get("metric_key") or "",
            HISTORY_INTERVAL_MAX_RESULTS if max_results is None else max_results,
            input.get("start_step"),
            input.get("end_step"),
        )
        return {"metrics": [dump(MetricJ.of(m)) for m in points]}


class Mutation(graphene.ObjectType):  # type: ignore[misc]
    """MLflow's mutations: two searches its UI sends as mutations (they write nothing)."""

    mlflow_search_datasets = graphene.Field(
        MlflowSearchDatasetsResponse, input=t.MlflowSearchDatasetsInput()
    )
    mlflow_search_runs = graphene.Field(MlflowSearchRunsResponse, input=t.MlflowSearchRunsInput())
    testMutation = graphene.Field(
        t.TestMutation, input_string=graphene.String(), description="Simple echoing field"
    )

    @staticmethod
    def resolve_mlflow_search_datasets(_root: Any, info: Any, input: Any) -> dict[str, Any]:
        return _search_datasets(info, input)

    @staticmethod
    def resolve_mlflow_search_runs(_root: Any, info: Any, input: Any) -> dict[str, Any]:
        return _search_runs(info, input)

    @staticmethod
    def resolve_testMutation(
        _root: Any, _info: Any, input_string: str | None = None
    ) -> dict[str, Any]:
        return {"output": input_string}


#: ``@component(name: ...)``: MLflow's UI tags its queries with it (MLflow's server ignores it).
COMPONENT = GraphQLDirective(
    name="component",
    locations=[DirectiveLocation.QUERY, DirectiveLocation.MUTATION],
    args={"name": GraphQLArgument(GraphQLNonNull(GraphQLString))},
)

schema = graphene.Schema(
    query=Query, mutation=Mutation, directives=[*specified_directives, COMPONENT]
)

_UNSET = {"String": "", "LongString": 0, "Int": 0, "Float": 0.0, "Boolean": False}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def proto_defaults(next_: Callable[..., Any], root: Any, info: Any, **args: Any) -> Any:
    """Graphene middleware: a scalar field the REST JSON leaves out answers its protobuf
    default (``""``, ``"0"``, ``false``), as MLflow's server, which resolves from protobuf
    messages, does (a dataset's ``schema``, a last page's ``nextPageToken``)."""
    value = next_(root, info, **args)
    if value is not None or not isinstance(root, dict):
        return value
    kind = info.return_type
    if not isinstance(kind, GraphQLScalarType) or kind.name not in _UNSET:
        return value
    if _CAMEL.sub("_", info.field_name).lower() in root:
        return value  # present and null on purpose (a NaN metric value)
    return _UNSET[kind.name]
