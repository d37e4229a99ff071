"""``log-metric`` runs on the server's event loop on SQL stores (no thread hop), with the same
answers as every other write: stored points, MLflow's errors for deleted, unknown and bad input."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mlflowx.entities import Metric
from mlflowx.server import create_app
from mlflowx.store.tracking.sql import SqlTrackingStore

A = "/api/2.0/mlflow"


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # a threadpool worker has no running loop
        return False
    return True


class _Recording(SqlTrackingStore):
    """A SQL store that notes where each ``log_metric`` ran."""

    on_loop: list[bool]

    def log_metric(self, run_id: str, metric: Metric) -> None:
        self.on_loop.append(_on_event_loop())
        super().log_metric(run_id, metric)


@pytest.fixture
def recording(tracking_uri: str, tmp_path: Path) -> Iterator[_Recording]:
    store = _Recording(tracking_uri, default_artifact_root=str(tmp_path / "artifacts"))
    store.on_loop = []
    yield store
    store.close()


def _post(api: TestClient, path: str, **payload: Any) -> Any:
    return api.post(A + path, json=payload)


def _new_run(api: TestClient) -> str:
    response = _post(api, "/runs/create", experiment_id="0")
    assert response.status_code == 200, response.text
    return str(response.json()["run"]["info"]["run_id"])


def _error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error_code"]


def test_sql_stores_log_metrics_on_the_event_loop(recording: _Recording) -> None:
    assert recording.inline_metric_writes
    with TestClient(create_app(recording)) as api:
        run_id = _new_run(api)
        for step in range(3):
            assert _post(api, "/runs/log-metric", run_id=run_id, key="m", value=step,
                         timestamp=1, step=step).status_code == 200  # fmt: skip
        history = api.get(f"{A}/metrics/get-history", params={"run_id": run_id, "metric_key": "m"})
    assert [(m["step"], m["value"]) for m in history.json()["metrics"]] == [
        (0, 0.0),
        (1, 1.0),
        (2, 2.0),
    ]
    assert recording.on_loop == [True, True, True]


def test_other_stores_log_metrics_in_the_threadpool(recording: _Recording) -> None:
    recording.inline_metric_writes = False  # a store that does not declare its writes short
    recording.inline_writes = False
    with TestClient(create_app(recording)) as api:
        run_id = _new_run(api)
        response = _post(api, "/runs/log-metric", run_id=run_id, key="m", value=1, timestamp=1)
        assert response.status_code == 200, response.text
    assert recording.on_loop == [False]


def test_metric_errors_on_the_event_loop(recording: _Recording) -> None:
    """MLflow's answers: a finished run still takes metrics; a deleted or unknown run, a bad
    value or a missing run id do not (and nothing is stored)."""
    with TestClient(create_app(recording), raise_server_exceptions=True) as api:
        finished = _new_run(api)
        assert _post(api, "/runs/update", run_id=finished, status="FINISHED").status_code == 200
        assert _post(api, "/runs/log-metric", run_id=finished, key="m", value=1,
                     timestamp=1).status_code == 200  # fmt: skip

        deleted = _new_run(api)
        assert _post(api, "/runs/delete", run_id=deleted).status_code == 200
        response = _post(api, "/runs/log-metric", run_id=deleted, key="m", value=1, timestamp=1)
        assert _error(response) == (400, "INVALID_PARAMETER_VALUE")
        assert "must be in the 'active' state" in response.json()["message"]

        unknown = _post(api, "/runs/log-metric", run_id="0" * 32, key="m", value=1, timestamp=1)
        assert _error(unknown) == (404, "RESOURCE_DOES_NOT_EXIST")
        bad = _post(api, "/runs/log-metric", run_id=finished, key="m", value="x", timestamp=1)
        assert _error(bad) == (400, "INVALID_PARAMETER_VALUE")
        bad_key = _post(api, "/runs/log-metric", run_id=finished, key="../m", value=1, timestamp=1)
        assert _error(bad_key) == (400, "INVALID_PARAMETER_VALUE")
        missing = _post(api, "/runs/log-metric", key="m", value=1, timestamp=1)
        assert _error(missing) == (400, "INVALID_PARAMETER_VALUE")

        run = api.get(f"{A}/runs/get", params={"run_id": finished}).json()["run"]
    assert [(m["key"], m["value"], m["step"]) for m in run["data"]["metrics"]] == [("m", 1.0, 0)]
    with pytest.raises(Exception, match="active"):
        recording.log_metric(deleted, Metric("m", 1.0, 1, 0))
