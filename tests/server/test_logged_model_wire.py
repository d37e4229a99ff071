"""Logged models over the wire as MLflow's server answers them: generated names, a source run
that is recorded but not looked up, and the ``mlflow.modelVersions`` tag a registered version
leaves on its model. Each test runs against MLflow's server too (``any_server``)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx

from tests.fixtures.server import LiveServer

A = "/api/2.0/mlflow"


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _experiment(http: httpx.Client) -> str:
    body = {"name": f"lm-{uuid.uuid4().hex[:10]}"}
    eid: str = _ok(http.post(f"{A}/experiments/create", json=body))["experiment_id"]
    return eid


def test_a_model_without_a_name_gets_a_unique_generated_one(any_server: LiveServer) -> None:
    with httpx.Client(base_url=any_server.url, timeout=60) as http:
        eid = _experiment(http)
        names = {
            _ok(http.post(f"{A}/logged-models", json={"experiment_id": eid}))["model"]["info"][
                "name"
            ]
            for _ in range(5)
        }
    assert len(names) == 5
    for name in names:
        assert re.fullmatch(r"[a-z]+-[a-z]+-\d+", name), name


def test_an_unknown_source_run_is_recorded(any_server: LiveServer) -> None:
    with httpx.Client(base_url=any_server.url, timeout=60) as http:
        eid = _experiment(http)
        ghost = uuid.uuid4().hex
        body = {"experiment_id": eid, "name": "m", "source_run_id": ghost}
        model = _ok(http.post(f"{A}/logged-models", json=body))["model"]
        assert model["info"]["source_run_id"] == ghost
        again = _ok(http.get(f"{A}/logged-models/{model['info']['model_id']}"))["model"]
        assert again["info"]["source_run_id"] == ghost


def test_a_registered_version_is_tagged_on_its_model_by_number(any_server: LiveServer) -> None:
    with httpx.Client(base_url=any_server.url, timeout=60) as http:
        eid = _experiment(http)
        body = {"experiment_id": eid, "name": "m"}
        model_id = _ok(http.post(f"{A}/logged-models", json=body))["model"]["info"]["model_id"]
        name = f"rm-{uuid.uuid4().hex[:10]}"
        _ok(http.post(f"{A}/registered-models/create", json={"name": name}))
        for _ in range(2):
            version = {"name": name, "source": f"models:/{model_id}", "model_id": model_id}
            _ok(http.post(f"{A}/model-versions/create", json=version))
        tags = _ok(http.get(f"{A}/logged-models/{model_id}"))["model"]["info"]["tags"]
    value = next(t["value"] for t in tags if t["key"] == "mlflow.modelVersions")
    assert json.loads(value) == [{"name": name, "version": 1}, {"name": name, "version": 2}]
