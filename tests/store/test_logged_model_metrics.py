"""Metrics of logged models (MLflow 3): a metric logged with ``model_id`` is also one of that
model's metrics, on every SQL backend, directly and over REST."""

from __future__ import annotations

import math

import pytest

from mlflowx.entities import Metric, ModelInput, ViewType
from mlflowx.exceptions import NotFound
from mlflowx.store.tracking.sql import SqlTrackingStore


def _points(store: SqlTrackingStore, model_id: str) -> list[tuple[object, ...]]:
    metrics = store.get_logged_model(model_id).metrics
    return [
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


def test_log_metric_with_model_id_attaches_it_to_the_model(store: SqlTrackingStore) -> None:
    run_id = store.create_run("0", "alice", 1_000, [], "r").info.run_id
    model_id = store.create_logged_model("0", "m", source_run_id=run_id).model_id
    store.log_metric(run_id, Metric("acc", 0.9, 10, 1, model_id=model_id))
    store.log_metric(run_id, Metric("loss", 0.5, 11, 0))  # a run metric only
    assert _points(store, model_id) == [("acc", 0.9, 10, 1, run_id, model_id, None, None)]
    # the point is a run metric as well
    assert store.get_run(run_id).data.metrics == {"acc": 0.9, "loss": 0.5}
    assert store.get_logged_model(store.create_logged_model("0", "other").model_id).metrics == []


def test_log_batch_attaches_the_points_with_a_model_and_dataset(store: SqlTrackingStore) -> None:
    run_id = store.create_run("0", "alice", 1_000, [], "r").info.run_id
    model_id = store.create_logged_model("0", "m").model_id
    store.log_batch(
        run_id,
        metrics=[
            Metric("f1", 0.7, 5, 2, model_id=model_id, dataset_name="eval", dataset_digest="abc"),
            Metric("f1", float("nan"), 6, 3, model_id=model_id),
            Metric("plain", 1.0, 5, 0),
        ],
    )
    points = _points(store, model_id)
    assert points[0] == ("f1", 0.7, 5, 2, run_id, model_id, "eval", "abc")
    assert points[1][:1] == ("f1",)
    assert math.isnan(float(points[1][1]))  # type: ignore[arg-type]
    assert len(points) == 2
    found = store.search_logged_models(["0"])
    assert {m.model_id: len(m.metrics) for m in found}[model_id] == 2


def test_a_metric_for_an_unknown_model_is_refused_and_not_logged(
    store: SqlTrackingStore,
) -> None:
    run_id = store.create_run("0", "alice", 1_000, [], "r").info.run_id
    with pytest.raises(NotFound, match="m-missing"):
        store.log_metric(run_id, Metric("acc", 0.9, 10, 1, model_id="m-missing"))
    assert store.get_run(run_id).data.metrics == {}


def test_purging_a_run_removes_its_model_metrics(tracking_uri: str) -> None:
    store = SqlTrackingStore(tracking_uri)
    run_id = store.create_run("0", "alice", 1_000, [], "r").info.run_id
    model_id = store.create_logged_model("0", "m").model_id
    store.log_metric(run_id, Metric("acc", 0.9, 10, 1, model_id=model_id))
    store.delete_run(run_id)
    store.purge_run(run_id)
    assert store.get_logged_model(model_id).metrics == []
    store.close()


def test_log_inputs_records_model_inputs_once(store: SqlTrackingStore) -> None:
    run_id = store.create_run("0", "alice", 1_000, [], "r").info.run_id
    model_id = store.create_logged_model("0", "m").model_id
    ghost = "m-" + "0" * 32  # recorded without being looked up, as in MLflow
    store.log_inputs(run_id, [], [ModelInput(model_id), ModelInput(ghost)])
    store.log_inputs(run_id, [], [ModelInput(model_id)])
    inputs = store.get_run(run_id).inputs
    assert sorted(m.model_id for m in inputs.model_inputs) == sorted([model_id, ghost])
    assert inputs.dataset_inputs == []
    (found,) = store.search_runs(["0"], "", ViewType.ACTIVE_ONLY, 10)
    assert len(found.inputs.model_inputs) == 2


def test_purging_a_run_or_a_model_removes_its_model_inputs(tracking_uri: str) -> None:
    store = SqlTrackingStore(tracking_uri)

    def count() -> int:
        with store.db.read() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM model_inputs")[0][0])

    keep = store.create_run("0", "alice", 1_000, [], "keep").info.run_id
    gone = store.create_run("0", "alice", 1_000, [], "gone").info.run_id
    model_id = store.create_logged_model("0", "m").model_id
    other = store.create_logged_model("0", "o").model_id
    store.log_inputs(keep, [], [ModelInput(model_id)])
    store.log_inputs(gone, [], [ModelInput(other)])
    store.delete_run(gone)
    store.purge_run(gone)
    assert count() == 1
    store.delete_logged_model(model_id)
    store.purge_logged_model(model_id)
    assert count() == 0
    assert store.get_run(keep).inputs.model_inputs == []
    store.close()
