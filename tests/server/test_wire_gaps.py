"""Endpoints MLflow's UI and tests call beyond the documented REST API: ``GET
experiments/search``, ``experiments/search-datasets`` and ``upload-artifact``.

The ``any_server`` tests run against MLflow's own server too: its answers are the expectation.
"""

from __future__ import annotations

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
AJAX = "/ajax-api/2.0/mlflow"


def _post(http: httpx.Client | TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post(path, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _dataset(name: str, digest: str) -> dict[str, str]:
    return {"name": name, "digest": digest, "source_type": "local", "source": "{}"}


def _check_wire_gaps(http: httpx.Client | TestClient) -> None:
    """One scenario, the same on both servers."""
    prefix = f"wire-{uuid.uuid4().hex[:8]}"
    eids = [
        _post(http, f"{A}/experiments/create", {"name": f"{prefix}-{i}"})["experiment_id"]
        for i in range(3)
    ]
    # GET experiments/search: the query-string form of the POST search.
    found = http.get(
        f"{A}/experiments/search",
        params={"filter": f"name LIKE '{prefix}-%'", "max_results": 2, "order_by": "name DESC"},
    )
    assert found.status_code == 200, found.text
    page = found.json()
    assert [e["name"] for e in page["experiments"]] == [f"{prefix}-2", f"{prefix}-1"]
    rest = http.get(
        f"{A}/experiments/search",
        params={
            "filter": f"name LIKE '{prefix}-%'",
            "order_by": "name DESC",
            "max_results": 2,
            "page_token": page["next_page_token"],
        },
    )
    assert rest.status_code == 200, rest.text
    assert [e["name"] for e in rest.json()["experiments"]] == [f"{prefix}-0"]
    # search-datasets: one summary per dataset and context, across the experiments given.
    run0 = _post(http, f"{A}/runs/create", {"experiment_id": eids[0]})["run"]["info"]["run_id"]
    run1 = _post(http, f"{A}/runs/create", {"experiment_id": eids[1]})["run"]["info"]["run_id"]
    context = [{"key": "mlflow.data.context", "value": "training"}]
    _post(http, f"{A}/runs/log-inputs", {"run_id": run0, "datasets": [
        {"dataset": _dataset("iris", "d1"), "tags": context},
        {"dataset": _dataset("plain", "d2")},
    ]})  # fmt: skip
    _post(http, f"{A}/runs/log-inputs", {"run_id": run1, "datasets": [
        {"dataset": _dataset("iris", "d1"), "tags": context},
    ]})  # fmt: skip
    summaries = _post(http, f"{AJAX}/experiments/search-datasets", {"experiment_ids": eids[:2]})
    got = sorted(
        (s["experiment_id"], s["name"], s["digest"], s.get("context"))
        for s in summaries["dataset_summaries"]
    )
    assert got == [
        (eids[0], "iris", "d1", "training"),
        (eids[0], "plain", "d2", None),
        (eids[1], "iris", "d1", "training"),
    ]
    assert _post(http, f"{AJAX}/experiments/search-datasets", {"experiment_ids": [eids[2]]}) in (
        {},
        {"dataset_summaries": []},
    )
    none = http.post(f"{AJAX}/experiments/search-datasets", json={"experiment_ids": []})
    assert none.status_code == 400
    assert none.json()["message"] == (
        "SearchDatasets request must specify at least one experiment_id."
    )
    many = http.post(f"{AJAX}/experiments/search-datasets", json={"experiment_ids": eids * 7})
    assert many.status_code == 400
    assert many.json()["message"] == (
        "SearchDatasets request cannot specify more than 20 experiment_ids. "
        "Received 21 experiment_ids."
    )
    # upload-artifact: the body becomes the file at ``path`` under the run's artifacts.
    uploaded = http.post(
        f"{AJAX}/upload-artifact",
        params={"run_uuid": run0, "path": "notes/hello.txt"},
        content=b"hello",
    )
    assert uploaded.status_code == 200, uploaded.text
    listed = http.get(f"{A}/artifacts/list", params={"run_id": run0, "path": "notes"}).json()
    assert listed["files"] == [{"path": "notes/hello.txt", "is_dir": False, "file_size": 5}]
    back = http.get("/get-artifact", params={"run_uuid": run0, "path": "notes/hello.txt"})
    assert back.content == b"hello"
    for params, body, message in [
        ({"path": "a.txt"}, b"x", "Request must specify run_uuid."),
        ({"run_uuid": run0}, b"x", "Request must specify path."),
        ({"run_uuid": run0, "path": "a.txt"}, b"", "Request must specify data."),
    ]:
        refused = http.post(f"{AJAX}/upload-artifact", params=params, content=body)
        assert refused.status_code == 400, params
        assert refused.json()["message"] == message
    too_big = http.post(
        f"{AJAX}/upload-artifact",
        params={"run_uuid": run0, "path": "big.bin"},
        content=b"x" * (10 * 1024 * 1024 + 1),
    )
    assert too_big.status_code == 400
    assert too_big.json()["message"] == "Artifact size is too large. Max size is 10MB."


def test_wire_gaps_match_mlflow(any_server: LiveServer) -> None:
    with httpx.Client(base_url=any_server.url, timeout=60) as http:
        _check_wire_gaps(http)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    store = SqlTrackingStore(
        f"sqlite:///{tmp_path / 'db'}", default_artifact_root="mlflow-artifacts:/"
    )
    with TestClient(create_app(store, str(tmp_path / "proxied"))) as http:
        yield http
    store.close()


def test_wire_gaps_in_process(client: TestClient) -> None:
    _check_wire_gaps(client)


def test_upload_artifact_refuses_an_escaping_path(client: TestClient) -> None:
    run = _post(client, f"{A}/runs/create", {"experiment_id": "0"})["run"]["info"]["run_id"]
    response = client.post(
        f"{AJAX}/upload-artifact", params={"run_uuid": run, "path": "../x.txt"}, content=b"x"
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_upload_artifact_to_an_unknown_run_is_not_found(client: TestClient) -> None:
    response = client.post(
        f"{AJAX}/upload-artifact", params={"run_uuid": "f" * 32, "path": "a.txt"}, content=b"x"
    )
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_rest_store_searches_datasets(client: TestClient) -> None:
    from mlflowx.entities import Dataset, DatasetInput, DatasetSummary, InputTag
    from mlflowx.store.http import HttpSession
    from mlflowx.store.tracking.rest import RestTrackingStore

    store = RestTrackingStore("http://testserver", HttpSession("http://testserver", client))
    run = store.create_run("0", None, None, [], None)
    store.log_inputs(
        run.info.run_id,
        [
            DatasetInput(
                Dataset("d", "x1", "local", "{}"), [InputTag("mlflow.data.context", "eval")]
            )
        ],
    )
    assert store.search_datasets(["0"]) == [DatasetSummary("0", "d", "x1", "eval")]
