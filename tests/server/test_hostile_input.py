"""Hostile values get a 400 naming what is wrong, never a 500: lone UTF-16 surrogates (JSON
``"\\ud800"``: valid JSON, but text no database or response can encode) and page tokens that
are huge, deeply nested or hold absurd offsets. On every backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from mlflowx.server import create_app
from mlflowx.store.tracking.sql import SqlTrackingStore

A = "/api/2.0/mlflow"
JSON = {"Content-Type": "application/json"}
LONE = "\\ud800"  # as it stands in the JSON text: an escape the parser turns into U+D800


@pytest.fixture
def api(tracking_uri: str, tmp_path: Path) -> Iterator[TestClient]:
    store = SqlTrackingStore(tracking_uri, default_artifact_root=str(tmp_path / "artifacts"))
    with TestClient(create_app(store, str(tmp_path / "proxied"))) as client:
        yield client
    store.close()


def refused(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"}, body
    assert body["error_code"] == "INVALID_PARAMETER_VALUE", body
    return str(body["message"])


def post_raw(api: TestClient, method: str, path: str, text: str) -> httpx.Response:
    return api.request(method, A + path, content=text.encode(), headers=JSON)


def new_run(api: TestClient) -> str:
    return str(
        api.post(f"{A}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
    )


# ------------------------------------------------------------------------------ lone surrogates
SURROGATE_BODIES = [
    ("POST", "/experiments/create", f'{{"name": "e{LONE}"}}', "name"),
    ("POST", "/experiments/create",
     f'{{"name": "e", "tags": [{{"key": "k", "value": "{LONE}"}}]}}', "tags[0].value"),
    ("POST", "/experiments/search", f'{{"filter": "name = \'{LONE}\'"}}', "filter"),
    ("POST", "/experiments/update", f'{{"experiment_id": "0", "new_name": "{LONE}"}}', "new_name"),
    ("POST", "/runs/create", f'{{"experiment_id": "0", "run_name": "{LONE}"}}', "run_name"),
    ("POST", "/runs/search",
     f'{{"experiment_ids": ["0"], "filter": "params.p = \'{LONE}\'"}}', "filter"),
    ("POST", "/runs/log-parameter", f'{{"run_id": "RUN", "key": "p", "value": "{LONE}"}}',
     "value"),
    ("POST", "/runs/set-tag", f'{{"run_id": "RUN", "key": "{LONE}", "value": "v"}}', "key"),
    ("POST", "/runs/log-metric",
     f'{{"run_id": "RUN", "key": "m{LONE}", "value": 1, "timestamp": 1}}', "key"),
    ("POST", "/runs/log-batch",
     f'{{"run_id": "RUN", "params": [{{"key": "ok", "value": "1"}}, '
     f'{{"key": "p", "value": "x{LONE}y"}}]}}', "params[1].value"),
    ("POST", "/runs/log-batch", f'{{"run_id": "RUN", "tags": [{{"{LONE}": "v"}}]}}',
     "tags[0].\\\\ud800"),
    ("POST", "/registered-models/create", f'{{"name": "{LONE}"}}', "name"),
    ("POST", "/registered-models/set-tag", f'{{"name": "m", "key": "k", "value": "{LONE}"}}',
     "value"),
    ("POST", "/model-versions/create", f'{{"name": "m", "source": "/x/{LONE}"}}', "source"),
    ("POST", "/logged-models", f'{{"experiment_id": "0", "name": "{LONE}"}}', "name"),
    ("POST", "/logged-models/search",
     f'{{"experiment_ids": ["0"], "filter": "name = \'{LONE}\'"}}', "filter"),
    ("PATCH", "/registered-models/update", f'{{"name": "m", "description": "{LONE}"}}',
     "description"),
    ("POST", "/runs/search", f'{{"experiment_ids": ["0"], "page_token": "{LONE}"}}',
     "page_token"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    SURROGATE_BODIES,
    ids=[f"{m} {p} {f}" for m, p, _, f in SURROGATE_BODIES],
)
def test_a_lone_surrogate_is_refused_naming_the_field(
    api: TestClient, method: str, path: str, body: str, field: str
) -> None:
    message = refused(post_raw(api, method, path, body.replace("RUN", new_run(api))))
    assert f"field '{field}'" in message
    assert "lone UTF-16 surrogate" in message


def test_every_write_route_refuses_a_lone_surrogate(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    routes = [
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith(A + "/")
        for method, operation in operations.items()
        if method in ("post", "patch", "put", "delete")
        # A file upload's body is bytes, stored as sent (the JSON checks do not apply).
        and "application/octet-stream" not in operation.get("requestBody", {}).get("content", {})
    ]
    assert len(routes) > 30
    for method, path in routes:
        path = path.replace("{model_id}", "m-1").replace("{tag_key}", "t")
        response = post_raw(api, method, path.removeprefix(A), f'{{"name": "{LONE}"}}')
        assert "field 'name'" in refused(response), (method, path)


@pytest.mark.parametrize(
    "text",
    [
        "\\ud83d\\ude00",  # an escaped emoji: a valid pair
        "\\\\ud800",  # a backslash, then the letters ud800
        "\U0001f600",  # the emoji itself
    ],
    ids=["pair", "escaped-backslash", "literal"],
)
def test_valid_text_with_surrogate_like_escapes_is_kept(api: TestClient, text: str) -> None:
    run_id = new_run(api)
    body = f'{{"run_id": "{run_id}", "key": "p", "value": "{text}"}}'
    assert post_raw(api, "POST", "/runs/log-parameter", body).status_code == 200
    params = api.get(f"{A}/runs/get", params={"run_id": run_id}).json()["run"]["data"]["params"]
    expected = {"\\ud83d\\ude00": "\U0001f600", "\\\\ud800": "\\ud800"}.get(text, text)
    assert params == [{"key": "p", "value": expected}]


def test_undecodable_query_bytes_are_not_a_5xx(api: TestClient) -> None:
    # %ED%A0%80 is U+D800 encoded as UTF-8: not UTF-8 at all; decoded with replacement.
    for path in ("/experiments/get-by-name?experiment_name=%ED%A0%80",
                 "/registered-models/search?filter=name%3D%27%ED%A0%80%27",
                 "/model-versions/search?filter=name%3D%27%ED%A0%80%27",
                 "/registered-models/get?name=%ED%A0%80"):  # fmt: skip
        assert api.get(A + path).status_code < 500, path


# ------------------------------------------------------------------------------ page tokens
def _token(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


HOSTILE_TOKENS = {
    "5000-digit-offset": _token(b'{"offset": ' + b"9" * 5000 + b"}"),
    "5000-digit-string": _token(b'{"offset": "' + b"9" * 5000 + b'"}'),
    "700-digit-offset": _token(b'{"offset": ' + b"9" * 700 + b"}"),
    "negative": _token(b'{"offset": -5}'),
    "nested": _token(b"[" * 700),
    "not-base64": "%%%",
}
SEARCHES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/experiments/search", {}),
    ("POST", "/runs/search", {"experiment_ids": ["0"]}),
    ("POST", "/logged-models/search", {"experiment_ids": ["0"]}),
    ("GET", "/registered-models/search", {}),
    ("GET", "/model-versions/search", {}),
    ("GET", "/metrics/get-history", {"run_id": "RUN", "metric_key": "m", "max_results": 5}),
]


@pytest.mark.parametrize("token", HOSTILE_TOKENS.values(), ids=HOSTILE_TOKENS.keys())
@pytest.mark.parametrize(("method", "path", "payload"), SEARCHES, ids=[s[1] for s in SEARCHES])
def test_a_hostile_page_token_is_an_invalid_parameter(
    api: TestClient, method: str, path: str, payload: dict[str, Any], token: str
) -> None:
    payload = {k: (new_run(api) if v == "RUN" else v) for k, v in payload.items()}
    payload["page_token"] = token
    if method == "GET":
        response = api.get(A + path, params=payload)
    else:
        response = api.post(A + path, json=payload)
    message = refused(response)
    assert "page token" in message.lower() or "page_token" in message
    assert len(message) < 400  # the token is not echoed whole
