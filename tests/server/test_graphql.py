"""``/graphql``: MLflow's UI queries answer what the REST API answers, in MLflow's shape."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from mlflowx.server import create_app
from mlflowx.store.tracking.sql import SqlTrackingStore
from tests.fixtures.server import LiveServer

A = "/api/2.0/mlflow"

GET_EXPERIMENT = """
query MlflowGetExperimentQuery($input: MlflowGetExperimentInput) {
  mlflowGetExperiment(input: $input) {
    apiError { code message }
    experiment {
      artifactLocation creationTime experimentId lastUpdateTime lifecycleStage name
      tags { key value }
    }
  }
}
"""

RUN_FIELDS = """
  info {
    runName status runUuid runId experimentId artifactUri endTime lifecycleStage
    startTime userId
  }
  data {
    metrics { key value step timestamp }
    params { key value }
    tags { key value }
  }
  inputs {
    datasetInputs {
      dataset { digest name profile schema source sourceType }
      tags { key value }
    }
  }
  outputs { modelOutputs { modelId step } }
"""

GET_RUN = (
    # The UI tags its queries with MLflow's @component directive.
    'query GetRun($data: MlflowGetRunInput!) @component(name: "MLflow.ExperimentRunTracking") {\n'
    "  mlflowGetRun(input: $data) {\n"
    "    apiError { code message }\n"
    "    run {" + RUN_FIELDS + "  experiment { experimentId name tags { key value } }\n"
    "      modelVersions { name version status source }\n"
    "    }\n  }\n}\n"
)

SEARCH_RUNS = (
    "query MlflowSearchRuns($data: MlflowSearchRunsInput!) {\n"
    "  mlflowSearchRuns(input: $data) {\n"
    "    apiError { code message }\n"
    "    nextPageToken\n"
    "    runs {" + RUN_FIELDS + "    }\n  }\n}\n"
)

BULK_INTERVAL = """
query GetMetricHistoryBulkInterval($data: MlflowGetMetricHistoryBulkIntervalInput!) {
  mlflowGetMetricHistoryBulkInterval(input: $data) {
    __typename
    metrics { __typename timestamp step runId key value }
    apiError { code message }
  }
}
"""

LIST_ARTIFACTS = """
query MlflowListArtifacts($data: MlflowListArtifactsInput!) {
  mlflowListArtifacts(input: $data) {
    apiError { code message }
    rootUri nextPageToken
    files { path isDir fileSize }
  }
}
"""

SEARCH_MODEL_VERSIONS = """
query SearchModelVersions($data: MlflowSearchModelVersionsInput!) {
  mlflowSearchModelVersions(input: $data) {
    apiError { code message }
    nextPageToken
    modelVersions { name version source runId status currentStage tags { key value } }
  }
}
"""

# MLflow's UI sends these two searches as mutations.
SEARCH_DATASETS_MUTATION = """
mutation MlflowSearchDatasets($data: MlflowSearchDatasetsInput!) {
  mlflowSearchDatasets(input: $data) {
    apiError { code message }
    datasetSummaries { experimentId name digest context }
  }
}
"""

SEARCH_RUNS_MUTATION = (
    "mutation MlflowSearchRunsMutation($data: MlflowSearchRunsInput!) {\n"
    "  mlflowSearchRuns(input: $data) {\n"
    "    apiError { code message }\n"
    "    nextPageToken\n"
    "    runs {" + RUN_FIELDS + "    }\n  }\n}\n"
)


# --------------------------------------------------------------- GraphQL JSON -> REST JSON
def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _as_rest(rest: Any, gql: Any) -> Any:
    """The REST JSON ``rest`` written as GraphQL answers it: camelCase names, longs as strings,
    NaN as null, absent scalars as protobuf's defaults; only the fields ``gql`` asked for."""
    if isinstance(gql, dict):
        source = rest if isinstance(rest, dict) else {}
        by_camel = {_camel(k): v for k, v in source.items()}
        return {k: _as_rest(by_camel.get(k), v) for k, v in gql.items() if k != "__typename"}
    if isinstance(gql, list):
        return [_as_rest(r, g) for r, g in zip(rest or [], gql, strict=True)]
    if rest is None:
        return gql if gql in ("", "0", False) else None  # protobuf's defaults
    if isinstance(rest, bool):
        return rest
    if isinstance(rest, int) and isinstance(gql, str):
        return str(rest)
    if rest in ("NaN", "Infinity", "-Infinity"):
        return None
    return rest


def _strip(gql: Any) -> Any:
    if isinstance(gql, dict):
        return {k: _strip(v) for k, v in gql.items() if k != "__typename"}
    if isinstance(gql, list):
        return [_strip(v) for v in gql]
    return gql


# ------------------------------------------------------------------------------- fixtures
@pytest.fixture
def api(tracking_uri: str, tmp_path: Path) -> Iterator[TestClient]:
    store = SqlTrackingStore(tracking_uri, default_artifact_root=str(tmp_path / "artifacts"))
    with TestClient(create_app(store, str(tmp_path / "proxied"))) as client:
        yield client
    store.close()


def _ok(http: TestClient | httpx.Client, method: str, path: str, **kw: Any) -> Any:
    response = http.request(method, path, **kw)
    assert response.status_code == 200, response.text
    return response.json()


def _query(http: TestClient | httpx.Client, query: str, variables: dict[str, Any]) -> Any:
    body = _ok(http, "POST", "/graphql", json={"query": query, "variables": variables})
    assert body["errors"] is None, body["errors"]
    return body["data"]


def _populate(http: TestClient | httpx.Client, name: str) -> tuple[str, str]:
    eid = _ok(
        http,
        "POST",
        f"{A}/experiments/create",
        json={"name": name, "tags": [{"key": "team", "value": "a"}]},
    )["experiment_id"]
    run = _ok(
        http,
        "POST",
        f"{A}/runs/create",
        json={"experiment_id": eid, "start_time": 1000, "run_name": "r", "user_id": "me"},
    )["run"]
    run_id = run["info"]["run_id"]
    metrics = [
        {"key": "loss", "value": 1.0 / (s + 1), "timestamp": 2000 + s, "step": s} for s in range(5)
    ] + [{"key": "odd", "value": "NaN", "timestamp": 3000, "step": 0}]
    batch = {
        "run_id": run_id,
        "metrics": metrics,
        "params": [{"key": "lr", "value": "0.1"}],
        "tags": [{"key": "t", "value": "v"}],
    }
    _ok(http, "POST", f"{A}/runs/log-batch", json=batch)
    dataset = {"name": "d", "digest": "x", "source_type": "local", "source": "{}"}
    inputs = {"run_id": run_id, "datasets": [{"dataset": dataset, "tags": []}]}
    _ok(http, "POST", f"{A}/runs/log-inputs", json=inputs)
    _ok(
        http,
        "POST",
        f"{A}/runs/update",
        json={"run_id": run_id, "status": "FINISHED", "end_time": 5000},
    )
    return str(eid), str(run_id)


# ---------------------------------------------------------------------------- in process
def test_get_experiment_equals_rest(api: TestClient) -> None:
    eid, _ = _populate(api, "gql")
    rest = _ok(api, "GET", f"{A}/experiments/get", params={"experiment_id": eid})
    data = _query(api, GET_EXPERIMENT, {"input": {"experimentId": eid}})["mlflowGetExperiment"]
    assert data["apiError"] is None
    assert data["experiment"]["name"] == "gql"
    assert data["experiment"]["tags"] == [{"key": "team", "value": "a"}]
    assert data["experiment"] == _as_rest(rest["experiment"], data["experiment"])


def test_get_run_equals_rest(api: TestClient) -> None:
    eid, run_id = _populate(api, "gql")
    rest = _ok(api, "GET", f"{A}/runs/get", params={"run_id": run_id})["run"]
    run = _query(api, GET_RUN, {"data": {"runId": run_id}})["mlflowGetRun"]["run"]
    assert run["info"]["status"] == "FINISHED"
    assert run["info"]["endTime"] == "5000"
    assert {m["key"]: m["value"] for m in run["data"]["metrics"]} == {"loss": 0.2, "odd": None}
    assert run["inputs"]["datasetInputs"][0]["dataset"]["name"] == "d"
    assert run["experiment"]["experimentId"] == eid
    assert run["experiment"]["name"] == "gql"
    assert run["modelVersions"] == []
    asked = {k: v for k, v in run.items() if k not in ("experiment", "modelVersions")}
    assert asked == _as_rest(rest, asked)


def test_get_run_lists_model_versions_of_the_run(api: TestClient) -> None:
    _, run_id = _populate(api, "gql")
    _ok(api, "POST", f"{A}/registered-models/create", json={"name": "m"})
    _ok(
        api,
        "POST",
        f"{A}/model-versions/create",
        json={"name": "m", "source": f"runs:/{run_id}/model", "run_id": run_id},
    )
    run = _query(api, GET_RUN, {"data": {"runId": run_id}})["mlflowGetRun"]["run"]
    assert run["modelVersions"] == [
        {"name": "m", "version": "1", "status": "READY", "source": f"runs:/{run_id}/model"}
    ]


def test_search_runs_equals_rest(api: TestClient) -> None:
    eid, _ = _populate(api, "gql")
    _ok(api, "POST", f"{A}/runs/create", json={"experiment_id": eid, "run_name": "second"})
    body = {"experiment_ids": [eid], "max_results": 1, "order_by": ["attributes.start_time"]}
    rest = _ok(api, "POST", f"{A}/runs/search", json=body)
    data = _query(
        api,
        SEARCH_RUNS,
        {
            "data": {
                "experimentIds": [eid],
                "maxResults": 1,
                "orderBy": ["attributes.start_time"],
                "runViewType": "ACTIVE_ONLY",
            }
        },
    )["mlflowSearchRuns"]
    assert len(data["runs"]) == 1
    assert data["nextPageToken"]
    assert data == _as_rest(rest, data)
    filtered = _query(
        api, SEARCH_RUNS, {"data": {"experimentIds": [eid], "filter": "params.lr = '0.1'"}}
    )["mlflowSearchRuns"]
    assert [r["info"]["runName"] for r in filtered["runs"]] == ["r"]


def test_metric_history_bulk_interval_equals_rest(api: TestClient) -> None:
    _, run_id = _populate(api, "gql")
    params = {"run_ids": run_id, "metric_key": "loss", "start_step": 1, "end_step": 3}
    rest = _ok(api, "GET", f"{A}/metrics/get-history-bulk-interval", params=params)
    data = _query(
        api,
        BULK_INTERVAL,
        {"data": {"runIds": [run_id], "metricKey": "loss", "startStep": 1, "endStep": 3}},
    )["mlflowGetMetricHistoryBulkInterval"]
    assert data["__typename"] == "MlflowGetMetricHistoryBulkIntervalResponse"
    assert [m["step"] for m in data["metrics"]] == ["1", "2", "3"]
    assert all(m["runId"] == run_id for m in data["metrics"])
    assert _strip(data["metrics"]) == _as_rest(rest["metrics"], data["metrics"])


def _upload(http: TestClient | httpx.Client, run_id: str, path: str, data: bytes) -> None:
    """An artifact of the run: through the artifact proxy (``mlflow-artifacts:/`` URIs), or
    into its folder (a server whose runs store artifacts in a local folder)."""
    run = _ok(http, "GET", f"{A}/runs/get", params={"run_id": run_id})["run"]
    uri = run["info"]["artifact_uri"]
    if not uri.startswith("mlflow-artifacts:"):
        (Path(uri) / path).parent.mkdir(parents=True, exist_ok=True)
        (Path(uri) / path).write_bytes(data)
        return
    root = uri.removeprefix("mlflow-artifacts:")
    response = http.put(f"/api/2.0/mlflow-artifacts/artifacts{root}/{path}", content=data)
    assert response.status_code == 200, response.text


def test_list_artifacts_equals_rest(api: TestClient) -> None:
    _, run_id = _populate(api, "gql")
    _upload(api, run_id, "model/MLmodel", b"flavors: {}\n")
    _upload(api, run_id, "notes.txt", b"hello")
    for path in (None, "model"):
        params = {"run_id": run_id, **({"path": path} if path else {})}
        rest = _ok(api, "GET", f"{A}/artifacts/list", params=params)
        data = _query(api, LIST_ARTIFACTS, {"data": {"runId": run_id, "path": path}})
        listing = data["mlflowListArtifacts"]
        assert listing["apiError"] is None
        assert listing == {"apiError": None, **_as_rest(rest, _strip(listing) | {})}
    top = _query(api, LIST_ARTIFACTS, {"data": {"runUuid": run_id}})["mlflowListArtifacts"]
    assert sorted((f["path"], f["isDir"], f["fileSize"]) for f in top["files"]) == [
        ("model", True, "0"),
        ("notes.txt", False, "5"),
    ]


def test_search_model_versions_equals_rest(api: TestClient) -> None:
    _, run_id = _populate(api, "gql")
    _ok(api, "POST", f"{A}/registered-models/create", json={"name": "m"})
    for _ in range(2):
        _ok(
            api,
            "POST",
            f"{A}/model-versions/create",
            json={"name": "m", "source": f"runs:/{run_id}/model", "run_id": run_id,
                  "tags": [{"key": "k", "value": "v"}]},
        )  # fmt: skip
    query = {"filter": "name = 'm'", "max_results": 1, "order_by": ["version_number DESC"]}
    rest = _ok(api, "GET", f"{A}/model-versions/search", params=query)
    variables = {"filter": "name = 'm'", "maxResults": 1, "orderBy": ["version_number DESC"]}
    data = _query(api, SEARCH_MODEL_VERSIONS, {"data": variables})["mlflowSearchModelVersions"]
    assert [v["version"] for v in data["modelVersions"]] == ["2"]
    assert data["nextPageToken"]
    assert data["modelVersions"][0]["tags"] == [{"key": "k", "value": "v"}]
    assert _strip(data) == _as_rest(rest, _strip(data)) | {"apiError": None}
    token = data["nextPageToken"]
    rest = _query(api, SEARCH_MODEL_VERSIONS, {"data": {**variables, "pageToken": token}})[
        "mlflowSearchModelVersions"
    ]
    assert [v["version"] for v in rest["modelVersions"]] == ["1"]


def test_the_search_mutations_equal_rest(api: TestClient) -> None:
    eid, run_id = _populate(api, "gql")
    rest = _ok(api, "POST", f"{A}/experiments/search-datasets", json={"experiment_ids": [eid]})
    data = _query(api, SEARCH_DATASETS_MUTATION, {"data": {"experimentIds": [eid]}})
    summaries = data["mlflowSearchDatasets"]["datasetSummaries"]
    assert summaries == [{"experimentId": eid, "name": "d", "digest": "x", "context": ""}]
    assert summaries == _as_rest(rest["dataset_summaries"], summaries)
    runs = _query(api, SEARCH_RUNS_MUTATION, {"data": {"experimentIds": [eid]}})
    assert [r["info"]["runId"] for r in runs["mlflowSearchRuns"]["runs"]] == [run_id]
    assert runs == _query(api, SEARCH_RUNS, {"data": {"experimentIds": [eid]}})
    echo = _query(api, 'mutation { testMutation(inputString: "hi") { output } }', {})
    assert echo == {"testMutation": {"output": "hi"}}


def test_errors_come_back_as_messages(api: TestClient) -> None:
    body = _ok(
        api, "POST", "/graphql", json={"query": GET_RUN, "variables": {"data": {"runId": "0" * 32}}}
    )
    assert body["data"] == {"mlflowGetRun": None}
    assert len(body["errors"]) == 1
    assert body["errors"][0].startswith("RESOURCE_DOES_NOT_EXIST: ")
    syntax = _ok(api, "POST", "/graphql", json={"query": "query {"})
    assert syntax["data"] is None
    assert "Syntax Error" in syntax["errors"][0]
    unknown = _ok(api, "POST", "/graphql", json={"query": "{ nope }"})
    assert "nope" in unknown["errors"][0]


def test_a_request_without_a_query_is_a_400(api: TestClient) -> None:
    for kw in ({"json": {}}, {"content": b"not json"}, {"json": ["x"]}):
        response = api.post("/graphql", **kw)  # type: ignore[arg-type]
        assert response.status_code == 400, response.text
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_get_requests_and_the_width_limit(api: TestClient) -> None:
    eid, _ = _populate(api, "gql")
    query = (
        "query Q($input: MlflowGetExperimentInput) { mlflowGetExperiment(input: $input) "
        "{ experiment { name } } }"
    )
    variables = json.dumps({"input": {"experimentId": eid}})
    body = _ok(api, "GET", "/graphql", params={"query": query, "variables": variables})
    assert body == {
        "data": {"mlflowGetExperiment": {"experiment": {"name": "gql"}}},
        "errors": None,
    }
    wide = (
        "{ "
        + " ".join(f"a{i}: mlflowGetExperiment {{ apiError {{ code }} }}" for i in range(11))
        + " }"
    )
    refused = _ok(api, "POST", "/graphql", json={"query": wide})
    assert refused["data"] is None
    assert "limit of 10" in refused["errors"][0]


# ------------------------------------------------------------------ mlflowx and MLflow alike
def _shape(value: Any) -> Any:
    """The types in an answer; a list by the shape of its first item."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return type(value).__name__


def _ask_all(server: LiveServer) -> dict[str, Any]:
    """The four queries on a live server, about a run made the same way on each."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        name = f"gql-{uuid.uuid4().hex}"
        eid, run_id = _populate(http, name)
        answers = {
            "experiment": _query(http, GET_EXPERIMENT, {"input": {"experimentId": eid}}),
            "run": _query(http, GET_RUN, {"data": {"runId": run_id}}),
            "search": _query(http, SEARCH_RUNS, {"data": {"experimentIds": [eid]}}),
            "bulk": _query(
                http,
                BULK_INTERVAL,
                {"data": {"runIds": [run_id], "metricKey": "loss", "startStep": 0, "endStep": 4}},
            ),
            "datasets": _query(http, SEARCH_DATASETS_MUTATION, {"data": {"experimentIds": [eid]}}),
            "runs mutation": _query(http, SEARCH_RUNS_MUTATION, {"data": {"experimentIds": [eid]}}),
        }
        _upload(http, run_id, "model/MLmodel", b"flavors: {}\n")
        _upload(http, run_id, "notes.txt", b"hello")
        answers["artifacts"] = _query(http, LIST_ARTIFACTS, {"data": {"runId": run_id}})
        model = f"m-{uuid.uuid4().hex}"
        _ok(http, "POST", f"{A}/registered-models/create", json={"name": model})
        version = {"name": model, "source": f"runs:/{run_id}/model", "run_id": run_id}
        _ok(http, "POST", f"{A}/model-versions/create", json=version)
        answers["versions"] = _query(
            http, SEARCH_MODEL_VERSIONS, {"data": {"filter": f"name = '{model}'"}}
        )
    run = answers["run"]["mlflowGetRun"]["run"]
    assert run["info"]["runName"] == "r"
    assert run["info"]["status"] == "FINISHED"
    assert run["info"]["startTime"] == "1000"
    assert run["info"]["userId"] == "me"
    assert sorted((m["key"], m["value"], m["step"]) for m in run["data"]["metrics"]) == [
        ("loss", 0.2, "4"),
        ("odd", None, "0"),
    ]
    assert run["data"]["params"] == [{"key": "lr", "value": "0.1"}]
    assert {"key": "t", "value": "v"} in run["data"]["tags"]
    assert run["experiment"]["name"] == name
    assert answers["experiment"]["mlflowGetExperiment"]["experiment"]["name"] == name
    assert answers["search"]["mlflowSearchRuns"]["runs"][0]["info"]["runId"] == run_id
    steps = [p["step"] for p in answers["bulk"]["mlflowGetMetricHistoryBulkInterval"]["metrics"]]
    assert steps == ["0", "1", "2", "3", "4"]
    (summary,) = answers["datasets"]["mlflowSearchDatasets"]["datasetSummaries"]
    assert (summary["experimentId"], summary["name"], summary["digest"]) == (eid, "d", "x")
    assert answers["runs mutation"]["mlflowSearchRuns"] == answers["search"]["mlflowSearchRuns"]
    files = answers["artifacts"]["mlflowListArtifacts"]["files"]
    assert sorted((f["path"], f["isDir"]) for f in files) == [
        ("model", True),
        ("notes.txt", False),
    ]
    assert answers["artifacts"]["mlflowListArtifacts"]["rootUri"].endswith("/artifacts")
    (found,) = answers["versions"]["mlflowSearchModelVersions"]["modelVersions"]
    assert (found["version"], found["runId"]) == ("1", run_id)
    return answers


def test_the_same_queries_on_mlflowx_and_mlflow(any_server: LiveServer) -> None:
    _ask_all(any_server)


def test_mlflowx_answers_have_mlflows_shape(
    mlflowx_server: LiveServer, mlflow_server: LiveServer
) -> None:
    assert _shape(_ask_all(mlflowx_server)) == _shape(_ask_all(mlflow_server))


@pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated")
def test_the_schema_is_mlflows_for_what_it_has() -> None:
    """Every type and field mlflowx serves is in MLflow's schema, with the same type."""
    from mlflow.server.graphql.graphql_schema_extensions import schema as mlflows

    from mlflowx.server.graphql.schema import schema as ours

    theirs_types = mlflows.graphql_schema.type_map
    checked = 0
    for name, kind in ours.graphql_schema.type_map.items():
        if name.startswith("__") or not hasattr(kind, "fields"):
            continue
        assert name in theirs_types, name
        their_fields = theirs_types[name].fields  # type: ignore[union-attr]
        for field, definition in kind.fields.items():
            assert field in their_fields, f"{name}.{field}"
            assert str(definition.type) == str(their_fields[field].type), f"{name}.{field}"
            checked += 1
    ours_query = ours.graphql_schema.query_type
    assert ours_query is not None
    theirs_query, theirs_mutation = (
        mlflows.graphql_schema.query_type,
        mlflows.graphql_schema.mutation_type,
    )
    assert theirs_query is not None
    assert set(ours_query.fields) == set(theirs_query.fields)
    ours_mutation = ours.graphql_schema.mutation_type
    assert ours_mutation is not None
    assert theirs_mutation is not None
    assert set(ours_mutation.fields) == set(theirs_mutation.fields)
    assert checked > 100


def test_an_unexpected_error_is_not_shown(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    store = api.app.state.tracking_store  # type: ignore[attr-defined]

    def broken(*_: Any) -> None:
        raise RuntimeError("secret connection string")

    monkeypatch.setattr(store, "get_experiment", broken)
    body = _ok(
        api,
        "POST",
        "/graphql",
        json={"query": GET_EXPERIMENT, "variables": {"input": {"experimentId": "0"}}},
    )
    assert body["errors"] == ["INTERNAL_ERROR: Internal error: RuntimeError"]
