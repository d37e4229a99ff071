"""Edges of the REST API: every bad request is answered with MLflow's error JSON and a 4xx.

Never a 5xx, never a partial write. Most run in-process (FastAPI's TestClient around a SQL store,
SQLite and PostgreSQL); a few go through a live ``mlflowx server``, where uvicorn parses the HTTP.
"""

from __future__ import annotations

import base64
import http.client
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from mlflowx.server import create_app
from mlflowx.server.app import DEFAULT_MAX_BODY_BYTES
from mlflowx.store.tracking.sql import SqlTrackingStore
from tests.fixtures.server import LiveServer

A = "/api/2.0/mlflow"
DATASET = {"name": "d", "digest": "x", "source_type": "s", "source": "s"}
PROXY = "/api/2.0/mlflow-artifacts/artifacts"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def api(tracking_uri: str, tmp_path: Path) -> Iterator[TestClient]:
    """The app in-process on a fresh store; unexpected server errors raise in the test."""
    store = SqlTrackingStore(tracking_uri, default_artifact_root=str(tmp_path / "artifacts"))
    with TestClient(create_app(store, str(tmp_path / "proxied"))) as client:
        yield client
    store.close()


def refused(
    response: httpx.Response, status: int = 400, code: str = "INVALID_PARAMETER_VALUE"
) -> str:
    """Assert MLflow's error answer (exactly ``error_code`` and ``message``); return the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"}, body
    assert body["error_code"] == code, body
    assert isinstance(body["message"], str)
    assert body["message"]
    return str(body["message"])


def metric(key: str = "ok", value: Any = 1, timestamp: Any = 1, **more: Any) -> dict[str, Any]:
    return {"key": key, "value": value, "timestamp": timestamp, **more}


def kv(key: str, value: Any = "1") -> dict[str, Any]:
    return {"key": key, "value": value}


def new_run(api: TestClient, experiment_id: str = "0") -> str:
    response = api.post(f"{A}/runs/create", json={"experiment_id": experiment_id})
    assert response.status_code == 200, response.text
    return str(response.json()["run"]["info"]["run_id"])


def run_data(api: TestClient, run_id: str) -> dict[str, Any]:
    data: dict[str, Any] = api.get(f"{A}/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    return data


def history(api: TestClient, run_id: str, key: str) -> list[Any]:
    response = api.get(f"{A}/metrics/get-history", params={"run_id": run_id, "metric_key": key})
    assert response.status_code == 200, response.text
    return [m["value"] for m in response.json().get("metrics", [])]


# ------------------------------------------------------------------------------ malformed bodies
@pytest.mark.parametrize(
    ("content", "headers", "code"),
    [
        (b'{"name": "x"', JSON, "MALFORMED_REQUEST"),
        (b"\xff\xfe{}", JSON, "MALFORMED_REQUEST"),
        (b'{"name": "\xff"}', JSON, "MALFORMED_REQUEST"),  # not UTF-8
        (b"[1, 2]", JSON, "MALFORMED_REQUEST"),
        (b'"{\\"name\\": \\"x\\"}"', JSON, "MALFORMED_REQUEST"),
        (b"5", JSON, "MALFORMED_REQUEST"),
        (b"true", JSON, "MALFORMED_REQUEST"),
        (b'{"name": "x"}', {"Content-Type": "text/plain"}, "MALFORMED_REQUEST"),
        (b'{"name": "x"}', {}, "MALFORMED_REQUEST"),  # no Content-Type: not read as JSON (CSRF)
        (b"null", JSON, "INVALID_PARAMETER_VALUE"),
        (b"", JSON, "INVALID_PARAMETER_VALUE"),
    ],
    ids=[
        "truncated", "bom", "not-utf8", "array", "string", "number", "bool", "text-plain",
        "no-content-type", "null", "empty",
    ],
)  # fmt: skip
def test_malformed_bodies_are_refused(
    api: TestClient, content: bytes, headers: dict[str, str], code: str
) -> None:
    response = api.post(f"{A}/experiments/create", content=content, headers=headers)
    refused(response, 400, code)
    response = api.get(f"{A}/experiments/get-by-name", params={"experiment_name": "x"})
    refused(response, 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/experiments/create", {"name": 5}, "name"),
        ("/experiments/create", {"name": ["a"]}, "name"),
        ("/experiments/create", {"name": "e", "tags": {"k": "v"}}, "tags"),
        ("/experiments/create", {"name": "e", "tags": [{"key": None}]}, "tags[0].key"),
        ("/experiments/search", {"max_results": "ten"}, "max_results"),
        ("/experiments/search", {"order_by": "name"}, "order_by"),
        ("/runs/create", {"experiment_id": {"id": 0}}, "experiment_id"),
        ("/runs/create", {"start_time": 1.5}, "start_time"),
        ("/runs/search", {"experiment_ids": "0"}, "experiment_ids"),
        ("/runs/log-metric", {"run_id": "r", **metric(value="high")}, "value"),
        ("/runs/log-metric", {"run_id": "r", **metric(timestamp="now")}, "timestamp"),
        ("/runs/log-metric", {"run_id": "r", **metric(timestamp=2**64)}, "timestamp"),
        ("/runs/log-metric", {"run_id": "r", **metric(step=[1])}, "step"),
        ("/runs/log-batch", {"run_id": "r", "metrics": metric()}, "metrics"),
        ("/runs/log-batch", {"run_id": "r", "params": [kv("p", {})]}, "params[0].value"),
    ],
)
def test_wrong_types_are_refused_naming_the_field(
    api: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    message = refused(api.post(A + path, json=body))
    assert f"'{field}'" in message


@pytest.mark.parametrize(
    ("method", "path", "payload", "field"),
    [
        ("POST", "/experiments/create", {}, "name"),
        ("POST", "/experiments/update", {"experiment_id": "0"}, "new_name"),
        ("POST", "/runs/log-metric", {"key": "m", "value": 1, "timestamp": 1}, "run_id"),
        ("POST", "/runs/log-metric", {"run_id": "r", "key": "m", "value": 1}, "timestamp"),
        ("POST", "/runs/log-parameter", {"run_id": "r", "key": "p"}, "value"),
        ("POST", "/runs/delete", {}, "run_id"),
        ("POST", "/runs/log-batch", {"metrics": []}, "run_id"),
        ("GET", "/experiments/get", {}, "experiment_id"),
        ("GET", "/runs/get", {}, "run_id"),
        ("GET", "/metrics/get-history", {"run_id": "r"}, "metric_key"),
        ("GET", "/artifacts/list", {}, "run_id"),
    ],
)
def test_missing_required_fields_are_named(
    api: TestClient, method: str, path: str, payload: dict[str, Any], field: str
) -> None:
    if method == "GET":
        response = api.get(A + path, params=payload)
    else:
        response = api.post(A + path, json=payload)
    assert f"'{field}'" in refused(response)


# ------------------------------------------------------------------------------ unknown ids
@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("GET", "/experiments/get", {"experiment_id": "424242"}),
        ("GET", "/experiments/get-by-name", {"experiment_name": "nope"}),
        ("POST", "/experiments/delete", {"experiment_id": "424242"}),
        ("POST", "/experiments/update", {"experiment_id": "424242", "new_name": "n"}),
        ("POST", "/experiments/set-experiment-tag", {"experiment_id": "424242", "key": "k"}),
        ("POST", "/runs/create", {"experiment_id": "424242"}),
        ("GET", "/runs/get", {"run_id": "0" * 32}),
        ("POST", "/runs/update", {"run_id": "0" * 32, "status": "FINISHED"}),
        ("POST", "/runs/delete", {"run_id": "0" * 32}),
        ("POST", "/runs/log-metric", {"run_id": "0" * 32, "key": "m", "value": 1, "timestamp": 1}),
        ("POST", "/runs/log-batch", {"run_id": "0" * 32, "params": [{"key": "p", "value": "1"}]}),
        ("POST", "/runs/set-tag", {"run_id": "0" * 32, "key": "t", "value": "v"}),
        ("GET", "/metrics/get-history", {"run_id": "0" * 32, "metric_key": "m"}),
        ("GET", "/artifacts/list", {"run_id": "0" * 32}),
    ],
)
def test_unknown_ids_are_not_found(
    api: TestClient, method: str, path: str, payload: dict[str, Any]
) -> None:
    if method == "GET":
        response = api.get(A + path, params=payload)
    else:
        response = api.post(A + path, json=payload)
    refused(response, 404, "RESOURCE_DOES_NOT_EXIST")


def test_unknown_endpoints_and_methods(api: TestClient) -> None:
    refused(api.post(f"{A}/runs/fly", json={}), 404, "ENDPOINT_NOT_FOUND")
    refused(api.get(f"{A}/runs/log-metric"), 405, "BAD_REQUEST")
    refused(api.put(f"{A}/experiments/create", json={"name": "x"}), 405, "BAD_REQUEST")


# ------------------------------------------------------------------------------ size limits
def test_bodies_over_16_mib_are_refused_with_413(api: TestClient) -> None:
    content = b'{"name": "' + b"x" * DEFAULT_MAX_BODY_BYTES + b'"}'
    message = refused(api.post(f"{A}/experiments/create", content=content, headers=JSON), 413)
    assert str(DEFAULT_MAX_BODY_BYTES) in message


def test_chunked_bodies_are_counted_as_they_arrive(tmp_path: Path) -> None:
    # No Content-Length to refuse up front: the limit applies while the body is read.
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'db.sqlite'}", str(tmp_path / "artifacts"))
    chunks = iter([b'{"name": "', *[b"x" * 1024] * 64, b'"}'])
    with TestClient(create_app(store, max_body_bytes=8 * 1024)) as client:
        response = client.post(f"{A}/experiments/create", content=chunks, headers=JSON)
        assert "content-length" not in response.request.headers
        assert "8192" in refused(response, 413)
        refused(client.get(f"{A}/experiments/get-by-name?experiment_name=x"), 404,
                "RESOURCE_DOES_NOT_EXIST")  # fmt: skip
    store.close()


@pytest.mark.parametrize(
    ("path", "body", "needle"),
    [
        ("/experiments/create", {"name": "n" * 501}, "name"),
        ("/experiments/create", {"name": "e", "tags": [kv("k" * 251)]}, "250"),
        ("/experiments/create", {"name": "e", "tags": [kv("k", "v" * 20001)]}, "20000"),
        ("/experiments/create", {"name": "e", "tags": [kv(f"k{i}") for i in range(1001)]}, "tags"),
        ("/runs/create", {"run_name": "r" * 251}, "250"),
        ("/runs/log-parameter", kv("p", "v" * 6001), "6000"),
        ("/runs/set-tag", kv("t", "v" * 8001), "8000"),
        ("/runs/set-tag", kv("t", "v" * 1_000_000), "8000"),
        ("/runs/log-metric", metric("m" * 251), "250"),
        ("/runs/log-batch", {"metrics": [metric(timestamp=i) for i in range(1001)]}, "1000"),
        ("/runs/log-batch", {"params": [kv(f"p{i}") for i in range(101)]}, "100"),
        ("/runs/log-batch", {"tags": [kv(f"t{i}") for i in range(101)]}, "100"),
        ("/runs/log-inputs", {"datasets": [{"dataset": DATASET | {"digest": "x" * 37}}]}, "digest"),
        ("/runs/search", {"experiment_ids": ["0"], "max_results": 50_001}, "max_results"),
    ],
)
def test_oversized_values_are_refused(
    api: TestClient, path: str, body: dict[str, Any], needle: str
) -> None:
    run_id = new_run(api)
    before = run_data(api, run_id)
    assert needle in refused(api.post(A + path, json={"run_id": run_id, **body}))
    assert run_data(api, run_id) == before


# ------------------------------------------------------------------------------ NaN, infinities
def test_nan_and_infinity_travel_as_strings(api: TestClient) -> None:
    run_id = new_run(api)
    for step, value in enumerate(["NaN", "Infinity", "-Infinity", 1.5]):
        body = {"run_id": run_id, "key": "m", "value": value, "timestamp": 1, "step": step}
        assert api.post(f"{A}/runs/log-metric", json=body).status_code == 200
    batch = [{"key": "b", "value": "NaN", "timestamp": 1}, {"key": "b", "value": 2, "timestamp": 2}]
    assert (
        api.post(f"{A}/runs/log-batch", json={"run_id": run_id, "metrics": batch}).status_code
        == 200
    )
    assert history(api, run_id, "m") == ["NaN", "Infinity", "-Infinity", 1.5]
    assert history(api, run_id, "b") == ["NaN", 2.0]
    for bad in ["NaNa", "infinite", "", "1,5"]:
        body = {"run_id": run_id, "key": "m", "value": bad, "timestamp": 9}
        assert "'value'" in refused(api.post(f"{A}/runs/log-metric", json=body))
    assert len(history(api, run_id, "m")) == 4


def test_nan_travels_in_run_data(api: TestClient) -> None:
    run_id = new_run(api)
    body = {"run_id": run_id, "key": "m", "value": "NaN", "timestamp": 1}
    assert api.post(f"{A}/runs/log-metric", json=body).status_code == 200
    (metric,) = run_data(api, run_id)["metrics"]
    assert metric["value"] == "NaN"
    assert math.isnan(float(metric["value"]))


# ------------------------------------------------------------------------------ no partial writes
# Each has valid items next to the bad one: none of them may be written.
BAD_BATCHES = {
    "bad-metric-key": {"metrics": [metric(), metric("b@d")]},
    "bad-metric-value": {"metrics": [metric(), metric("m", value="x")]},
    "param-too-long": {"metrics": [metric()], "params": [kv("p", "v" * 6001)]},
    "tag-too-long": {"params": [kv("new")], "tags": [kv("t"), kv("u", "v" * 8001)]},
    "duplicate-param": {"params": [kv("new", "1"), kv("new", "2")]},
    "changed-param": {"metrics": [metric()], "params": [kv("new"), kv("fixed", "2")]},
    "run-name-too-long": {"params": [kv("new")], "tags": [kv("mlflow.runName", "r" * 251)]},
    "too-many": {"metrics": [metric(timestamp=i) for i in range(1001)]},
}


@pytest.mark.parametrize("batch", list(BAD_BATCHES.values()), ids=list(BAD_BATCHES))
def test_a_refused_batch_writes_nothing(api: TestClient, batch: dict[str, Any]) -> None:
    run_id = new_run(api)
    fixed = {"run_id": run_id, "params": [{"key": "fixed", "value": "1"}]}
    assert api.post(f"{A}/runs/log-batch", json=fixed).status_code == 200
    before = run_data(api, run_id)
    refused(api.post(f"{A}/runs/log-batch", json={"run_id": run_id, **batch}))
    assert run_data(api, run_id) == before
    assert history(api, run_id, "ok") == []


def test_refused_creations_leave_nothing_behind(api: TestClient) -> None:
    bad_tag = [{"key": "ok", "value": "1"}, {"key": "b@d", "value": "1"}]
    refused(api.post(f"{A}/experiments/create", json={"name": "half", "tags": bad_tag}))
    refused(api.get(f"{A}/experiments/get-by-name", params={"experiment_name": "half"}), 404,
            "RESOURCE_DOES_NOT_EXIST")  # fmt: skip
    refused(api.post(f"{A}/runs/create", json={"experiment_id": "0", "tags": bad_tag}))
    runs = api.post(f"{A}/runs/search", json={"experiment_ids": ["0"]}).json()
    assert runs.get("runs", []) == []


# ------------------------------------------------------------------------------ misuse
def test_non_idempotent_misuse_is_refused(api: TestClient) -> None:
    def post(path: str, **body: Any) -> httpx.Response:
        return api.post(A + path, json=body)

    eid = post("/experiments/create", name="once").json()["experiment_id"]
    assert "already exists" in refused(post("/experiments/create", name="once"), 400,
                                       "RESOURCE_ALREADY_EXISTS")  # fmt: skip
    refused(post("/experiments/update", experiment_id="0", new_name="once"), 400,
            "RESOURCE_ALREADY_EXISTS")  # fmt: skip
    refused(post("/experiments/restore", experiment_id=eid))  # not deleted
    refused(post("/experiments/delete", experiment_id="0"))  # the default experiment
    run_id = new_run(api, eid)
    assert post("/experiments/delete", experiment_id=eid).status_code == 200
    refused(post("/experiments/delete", experiment_id=eid))
    refused(post("/runs/create", experiment_id=eid))  # in a deleted experiment
    refused(post("/experiments/set-experiment-tag", experiment_id=eid, key="k", value="v"))
    assert post("/experiments/restore", experiment_id=eid).status_code == 200

    assert post("/runs/log-parameter", run_id=run_id, key="p", value="1").status_code == 200
    assert post("/runs/log-parameter", run_id=run_id, key="p", value="1").status_code == 200
    assert "Changing param values" in refused(
        post("/runs/log-parameter", run_id=run_id, key="p", value="2")
    )
    assert post("/runs/set-tag", run_id=run_id, key="t", value="1").status_code == 200
    assert post("/runs/delete-tag", run_id=run_id, key="t").status_code == 200
    refused(post("/runs/delete-tag", run_id=run_id, key="t"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert post("/experiments/set-experiment-tag", experiment_id=eid, key="k").status_code == 200
    assert post("/experiments/delete-experiment-tag", experiment_id=eid, key="k").status_code == 200
    refused(post("/experiments/delete-experiment-tag", experiment_id=eid, key="k"), 404,
            "RESOURCE_DOES_NOT_EXIST")  # fmt: skip

    assert post("/runs/delete", run_id=run_id).status_code == 200
    refused(post("/runs/log-metric", run_id=run_id, key="m", value=1, timestamp=1))
    refused(post("/runs/log-batch", run_id=run_id, params=[{"key": "q", "value": "1"}]))
    refused(post("/runs/update", run_id=run_id, status="FINISHED"))
    refused(post("/runs/update", run_id=new_run(api), status="DONE"))
    assert run_data(api, run_id)["params"] == [{"key": "p", "value": "1"}]


# ------------------------------------------------------------------------------ NUL characters
@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("POST", "/experiments/create", {"name": "a\x00b"}),
        ("POST", "/experiments/create", {"name": "e", "artifact_location": "/tmp/\x00"}),
        ("POST", "/experiments/create", {"name": "e", "tags": [{"key": "k", "value": "\x00"}]}),
        ("POST", "/experiments/update", {"experiment_id": "0", "new_name": "\x00"}),
        ("POST", "/experiments/search", {"filter": "name = '\x00'"}),
        ("POST", "/runs/create", {"run_name": "r\x00"}),
        ("POST", "/runs/log-parameter", {"key": "p", "value": "\x00"}),
        ("POST", "/runs/set-tag", {"key": "t", "value": "v\x00"}),
        ("POST", "/runs/log-batch", {"metrics": [{"key": "m\x00", "value": 1, "timestamp": 1}]}),
        ("POST", "/runs/search", {"filter": "params.p = '\x00'"}),
        ("GET", "/experiments/get-by-name", {"experiment_name": "\x00"}),
        ("GET", "/metrics/get-history", {"metric_key": "m\x00"}),
    ],
)
def test_nul_characters_are_refused_on_every_backend(
    api: TestClient, method: str, path: str, payload: dict[str, Any]
) -> None:
    # PostgreSQL cannot store NUL in text (SQLite can): refused at the edge, the same everywhere.
    run_id = new_run(api)
    payload = {"run_id": run_id, "experiment_ids": ["0"], **payload}
    if method == "GET":
        response = api.get(A + path, params=payload)
    else:
        response = api.post(A + path, json=payload)
    assert "NUL" in refused(response)


def test_an_escaped_backslash_before_u0000_is_not_a_nul(api: TestClient) -> None:
    run_id = new_run(api)
    value = "C:\\u0000"  # backslash, then the letters u0000: legitimate text
    body = {"run_id": run_id, "key": "p", "value": value}
    assert api.post(f"{A}/runs/log-parameter", json=body).status_code == 200
    assert run_data(api, run_id)["params"] == [{"key": "p", "value": value}]


# ------------------------------------------------------------------------------ artifact paths
TRAVERSALS = [
    "..%2F..%2Foutside.txt",
    "%2e%2e/%2e%2e/outside.txt",
    "%2E%2E%2F%2E%2E%2Foutside.txt",
    "%252e%252e/%252e%252e/outside.txt",
    "%25252e%25252e%25252foutside.txt",
    "a/%2e%2e/%2e%2e/%2e%2e/outside.txt",
    "%2Ftmp%2Foutside.txt",
    "/tmp/outside.txt",  # the route sees "//tmp/..."
    "..%5C..%5Coutside.txt",
    "C:%5Coutside.txt",
    "a%00.txt",
]


@pytest.mark.parametrize("raw", TRAVERSALS)
def test_artifact_path_traversal_is_refused(api: TestClient, tmp_path: Path, raw: str) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = api.request(method, f"{PROXY}/{raw}", content=b"pwned")
        refused(response)
    refused(api.get(PROXY, params={"path": raw.replace("%25", "%")}))
    refused(api.get(f"{PROXY}?path={raw}"))
    refused(api.get(f"{A}/artifacts/list?run_id={new_run(api)}&path={raw}"))
    escapes = [tmp_path.parent / "outside.txt", tmp_path / "outside.txt", Path("/tmp/outside.txt")]
    written = [
        p for p in [*tmp_path.rglob("*"), *escapes] if p.is_file() and p.read_bytes() == b"pwned"
    ]
    assert written == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "n" * 256),
        ("GET", "n" * 256),
        ("DELETE", "d/" + "n" * 300),
        ("PUT", "/".join(["n" * 250] * 20)),  # each name fits; the whole path does not
        ("PUT", "file.txt/child.txt"),  # through a file
        ("PUT", "dir"),  # onto a directory
        ("GET", "dir"),
    ],
)
def test_artifact_paths_the_file_system_refuses_are_4xx(
    api: TestClient, method: str, path: str
) -> None:
    assert api.put(f"{PROXY}/file.txt", content=b"f").status_code == 200
    assert api.put(f"{PROXY}/dir/inner.txt", content=b"i").status_code == 200
    refused(api.request(method, f"{PROXY}/{path}", content=b"x"))


# ------------------------------------------------------------------------------ OpenAPI
def _typed(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    if "$ref" in schema:
        return _typed(components[schema["$ref"].rsplit("/", 1)[1]], components)
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            return all(_typed(s, components) for s in schema[combinator])
    if schema.get("type") == "object":
        return "properties" in schema
    if schema.get("type") == "array":
        return _typed(schema.get("items", {}), components)
    return "type" in schema


def test_openapi_lists_every_api_route_with_typed_inputs(tmp_path: Path) -> None:
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'db.sqlite'}", str(tmp_path / "artifacts"))
    app = create_app(store, str(tmp_path / "proxied"))
    with TestClient(app) as client:
        doc = client.get("/openapi.json").json()
    store.close()
    components = doc.get("components", {}).get("schemas", {})
    # FastAPI >= 0.150 keeps included routers nested in app.routes; this flattens them.
    served = {
        (method.lower(), str(ctx.path_format)): ctx.original_route
        for ctx in iter_route_contexts(app.routes)
        if isinstance(ctx.original_route, APIRoute)
        and str(ctx.path_format).startswith(("/api/2.0/mlflow/", PROXY))
        for method in ctx.original_route.methods
    }
    documented = {(m, path) for path, ops in doc["paths"].items() for m in ops}
    missing = sorted(set(served) - documented)
    assert not missing, f"served but not in /openapi.json: {missing}"
    assert len([k for k in served if k[1].startswith(f"{A}/runs/")]) >= 12

    for (method, path), route in served.items():
        op = doc["paths"][path][method]
        where = f"{method.upper()} {path}"
        for param in op.get("parameters", []):
            assert _typed(param["schema"], components), f"{where}: untyped {param['name']}"
        # A body read in one pass (deps.parse_body) is documented through openapi_extra.
        raw_body = "requestBody" in (route.openapi_extra or {})
        if route.body_field is not None or method == "put" or raw_body:
            content = op["requestBody"]["content"]
            (schema,) = [c["schema"] for c in content.values()]
            assert _typed(schema, components), f"{where}: untyped request body"
        else:
            assert "requestBody" not in op, where


# ------------------------------------------------------------------------------ the live server
def _raw(server: LiveServer, method: str, target: str, body: bytes = b"") -> tuple[int, Any]:
    """One request with the target sent as is: no client-side normalisation of ``..``."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        conn.putheader("Content-Length", str(len(body)))
        conn.putheader("Content-Type", "application/json")
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def test_live_server_refuses_bad_requests(mlflowx_server: LiveServer) -> None:
    for target in (
        f"{PROXY}/../../../../etc/passwd",
        f"{PROXY}/a/../../outside.txt",
        f"{PROXY}/%2e%2e/%2e%2e/etc/passwd",
        f"{PROXY}?path=../../etc",
        f"{A}/artifacts/list?run_id=x&path=../..",
    ):
        status, body = _raw(mlflowx_server, "GET", target)
        assert 400 <= status < 500, (target, body)
        assert set(body) == {"error_code", "message"}, (target, body)
    status, body = _raw(mlflowx_server, "PUT", f"{PROXY}/../../outside.txt", b"pwned")
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert not (mlflowx_server.home.parent / "outside.txt").exists()
    status, body = _raw(mlflowx_server, "POST", f"{A}/experiments/create", b'{"name": ')
    assert (status, body["error_code"]) == (400, "MALFORMED_REQUEST")


def test_live_server_refuses_bodies_over_16_mib(mlflowx_server: LiveServer) -> None:
    url = f"{mlflowx_server.url}{A}/experiments/create"
    huge = b'{"name": "' + b"x" * DEFAULT_MAX_BODY_BYTES + b'"}'
    refused(httpx.post(url, content=huge, headers=JSON, timeout=60), 413)
    chunks = iter([b'{"name": "', b"x" * DEFAULT_MAX_BODY_BYTES, b'"}'])  # no Content-Length
    refused(httpx.post(url, content=chunks, headers=JSON, timeout=60), 413)


# ------------------------------------------------------------------- values the database refuses
# Out-of-range or too-long values reach the store; db.py translates the driver's refusal
# (DataError, SQLite's OverflowError) into InvalidParameter, so none of these is a 5xx.
HUGE_OFFSET = base64.b64encode(json.dumps({"offset": 10**21}).encode()).decode()


def test_an_experiment_id_beyond_int64_is_not_found(
    api: TestClient, request: pytest.FixtureRequest, tracking_uri: str
) -> None:
    response = api.get(f"{A}/experiments/get", params={"experiment_id": str(10**20)})
    refused(response, 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize(
    "payload",
    [{"user_id": "u" * 300}, {"tags": [{"key": "mlflow.user", "value": "u" * 300}]}],
    ids=["user_id", "mlflow.user-tag"],
)
def test_a_user_longer_than_the_column_is_not_a_5xx(
    api: TestClient, request: pytest.FixtureRequest, tracking_uri: str, payload: dict[str, Any]
) -> None:
    response = api.post(f"{A}/runs/create", json={"experiment_id": "0", **payload})
    assert response.status_code < 500, response.text


def test_a_dataset_source_type_longer_than_the_column_is_not_a_5xx(
    api: TestClient, request: pytest.FixtureRequest, tracking_uri: str
) -> None:
    dataset = DATASET | {"source_type": "s" * 40}
    body = {"run_id": new_run(api), "datasets": [{"dataset": dataset}]}
    assert api.post(f"{A}/runs/log-inputs", json=body).status_code < 500


def test_a_run_under_a_long_artifact_location_is_not_a_5xx(
    api: TestClient, request: pytest.FixtureRequest, tracking_uri: str
) -> None:
    # A remote location: a local one would have to be inside the server's artifact roots.
    body = {"name": "deep", "artifact_location": "s3://" + "a" * 1986}
    eid = api.post(f"{A}/experiments/create", json=body).json()["experiment_id"]
    assert api.post(f"{A}/runs/create", json={"experiment_id": eid}).status_code < 500


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("POST", "/runs/search", {"experiment_ids": ["0"], "page_token": HUGE_OFFSET}),
        ("POST", "/experiments/search", {"page_token": HUGE_OFFSET}),
        (
            "GET",
            "/metrics/get-history",
            {"metric_key": "m", "max_results": 5, "page_token": HUGE_OFFSET},
        ),
    ],
    ids=["runs", "experiments", "metric-history"],
)
def test_a_page_token_with_a_huge_offset_is_not_a_5xx(
    api: TestClient,
    request: pytest.FixtureRequest,
    tracking_uri: str,
    method: str,
    path: str,
    payload: dict[str, Any],
) -> None:
    payload = {"run_id": new_run(api), **payload}
    if method == "GET":
        response = api.get(A + path, params=payload)
    else:
        response = api.post(A + path, json=payload)
    assert response.status_code < 500, response.text


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/runs/search", {"experiment_ids": ["0"], "filter": f"attributes.start_time > {10**20}"}),
        ("/experiments/search", {"filter": f"creation_time > {10**20}"}),
    ],
    ids=["runs", "experiments"],
)
def test_an_integer_literal_beyond_int64_in_a_filter_is_not_a_5xx(
    api: TestClient,
    request: pytest.FixtureRequest,
    tracking_uri: str,
    path: str,
    payload: dict[str, Any],
) -> None:
    new_run(api)
    assert api.post(A + path, json=payload).status_code < 500
