"""Metrics of logged models with the official ``mlflow`` client, against mlflowx's server and
MLflow's own (``any_server``): a metric logged with ``model_id`` shows in the model's
``data.metrics``, from ``get_logged_model`` and from ``search_logged_models``."""

from __future__ import annotations

import uuid

import httpx
from mlflow import MlflowClient
from mlflow.entities import LoggedModelInput, Metric

from tests.fixtures.server import LiveServer

T0 = 1_700_000_000_000


def _setup(server: LiveServer) -> tuple[MlflowClient, str, str, str]:
    client = MlflowClient(server.url)
    eid = client.create_experiment(f"lmm-{uuid.uuid4().hex[:10]}")
    run_id = client.create_run(eid).info.run_id
    model_id = client.create_logged_model(eid, name="m", source_run_id=run_id).model_id
    return client, eid, run_id, model_id


def _points(metrics: list[Metric]) -> list[tuple[object, ...]]:
    rows = [
        (
            m.key,
            m.value,
            m.timestamp,
            m.step,
            m.run_id,
            m.model_id,
            m.dataset_name,
            m.dataset_digest,
        )
        for m in metrics
    ]
    return sorted(rows, key=lambda r: (str(r[0]), int(r[3])))  # type: ignore[call-overload]


def test_log_metric_with_model_id_is_a_metric_of_the_model(any_server: LiveServer) -> None:
    client, eid, run_id, model_id = _setup(any_server)
    client.log_metric(run_id, "acc", 0.75, timestamp=T0, step=2, model_id=model_id)
    client.log_metric(run_id, "loss", 0.25, timestamp=T0, step=0)  # the run's only
    expected = [("acc", 0.75, T0, 2, run_id, model_id, None, None)]
    assert _points(client.get_logged_model(model_id).metrics) == expected
    (found,) = client.search_logged_models([eid])
    assert _points(found.metrics) == expected
    assert client.get_run(run_id).data.metrics == {"acc": 0.75, "loss": 0.25}


def test_log_batch_with_model_id_and_dataset(any_server: LiveServer) -> None:
    client, _, run_id, model_id = _setup(any_server)
    metrics = [
        Metric("f1", 0.5, T0, 1, model_id=model_id, dataset_name="eval", dataset_digest="d1"),
        Metric("f1", 0.625, T0 + 1, 2, model_id=model_id, dataset_name="eval", dataset_digest="d1"),
        Metric("plain", 1.0, T0, 0),
    ]
    client.log_batch(run_id, metrics=metrics)
    assert _points(client.get_logged_model(model_id).metrics) == [
        ("f1", 0.5, T0, 1, run_id, model_id, "eval", "d1"),
        ("f1", 0.625, T0 + 1, 2, run_id, model_id, "eval", "d1"),
    ]


def test_a_metric_for_an_unknown_model_is_refused_whole(any_server: LiveServer) -> None:
    # MLflow answers 400 with its database's foreign-key error; mlflowx names the model (404).
    client, _, run_id, _ = _setup(any_server)
    body = {"run_id": run_id, "key": "acc", "value": 1.0, "timestamp": T0, "model_id": "m-nope"}
    r = httpx.post(f"{any_server.url}/api/2.0/mlflow/runs/log-metric", json=body, timeout=60)
    assert r.status_code in (400, 404), r.text
    if any_server.kind == "mlflowx":
        assert r.status_code == 404
        assert "'m-nope'" in r.json()["message"]
    assert client.get_run(run_id).data.metrics == {}  # the run's point is not kept either


def test_log_inputs_with_models_shows_in_get_run(any_server: LiveServer) -> None:
    client, eid, run_id, model_id = _setup(any_server)
    client.log_inputs(run_id, models=[LoggedModelInput(model_id)])
    inputs = client.get_run(run_id).inputs
    assert [m.model_id for m in inputs.model_inputs] == [model_id]
    assert inputs.dataset_inputs == []
    # MLflow's search_runs leaves model inputs out; mlflowx returns them as get_run does.
    (found,) = client.search_runs([eid])
    searched = [m.model_id for m in found.inputs.model_inputs]
    assert searched == ([model_id] if any_server.kind == "mlflowx" else [])
