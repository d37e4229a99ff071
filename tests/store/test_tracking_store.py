"""The tracking-store contract, run against every SQL backend (SQLite, PostgreSQL)."""

from __future__ import annotations

import math

import pytest

from mlflowx.entities import (
    Dataset,
    DatasetInput,
    DatasetSummary,
    InputTag,
    LifecycleStage,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from mlflowx.exceptions import AlreadyExists, InvalidParameter, NotFound
from mlflowx.store.tracking.sql import SqlTrackingStore


def _run(store: SqlTrackingStore, experiment_id: str = "0", **kw: object):  # type: ignore[no-untyped-def]
    return store.create_run(experiment_id, "alice", 1_000, [], kw.get("name"))  # type: ignore[arg-type]


def test_default_experiment_exists(store: SqlTrackingStore) -> None:
    default = store.get_experiment("0")
    assert default.name == "Default"
    assert default.lifecycle_stage == LifecycleStage.ACTIVE
    assert default.artifact_location.endswith("/0")


def test_create_and_get_experiment(store: SqlTrackingStore) -> None:
    eid = store.create_experiment("exp", tags=[RunTag("team", "ml")])
    exp = store.get_experiment(eid)
    assert exp.name == "exp"
    assert exp.tags == {"team": "ml"}
    assert exp.artifact_location.endswith(f"/{eid}")
    assert exp.creation_time
    assert exp.last_update_time
    assert store.get_experiment_by_name("exp") == exp
    assert store.get_experiment_by_name("nope") is None


def test_duplicate_experiment_name_is_already_exists(store: SqlTrackingStore) -> None:
    store.create_experiment("dup")
    with pytest.raises(AlreadyExists, match="dup"):
        store.create_experiment("dup")


def test_missing_experiment_is_not_found(store: SqlTrackingStore) -> None:
    with pytest.raises(NotFound, match="12345"):
        store.get_experiment("12345")


def test_experiment_delete_restore_takes_runs_along(store: SqlTrackingStore) -> None:
    eid = store.create_experiment("e")
    kept_deleted = _run(store, eid).info.run_id
    store.delete_run(kept_deleted)
    run_id = _run(store, eid).info.run_id
    store.delete_experiment(eid)
    assert store.get_experiment(eid).lifecycle_stage == LifecycleStage.DELETED
    assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED
    with pytest.raises(InvalidParameter, match="active"):
        _run(store, eid)
    store.restore_experiment(eid)
    assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.ACTIVE
    # A run deleted before the experiment stays deleted.
    assert store.get_run(kept_deleted).info.lifecycle_stage == LifecycleStage.DELETED


def test_default_experiment_cannot_be_deleted(store: SqlTrackingStore) -> None:
    with pytest.raises(InvalidParameter, match="default experiment"):
        store.delete_experiment("0")


def test_rename_and_tags(store: SqlTrackingStore) -> None:
    eid = store.create_experiment("a")
    store.create_experiment("b")
    with pytest.raises(AlreadyExists, match="b"):
        store.rename_experiment(eid, "b")
    store.rename_experiment(eid, "c")
    store.set_experiment_tag(eid, "k", "v1")
    store.set_experiment_tag(eid, "k", "v2")
    assert store.get_experiment(eid).name == "c"
    assert store.get_experiment(eid).tags == {"k": "v2"}
    store.delete_experiment_tag(eid, "k")
    assert store.get_experiment(eid).tags == {}
    with pytest.raises(NotFound, match="k"):
        store.delete_experiment_tag(eid, "k")


def test_search_experiments_filters_and_pages(store: SqlTrackingStore) -> None:
    for i in range(5):
        store.create_experiment(f"proj-{i}", tags=[RunTag("i", str(i))])
    deleted = store.create_experiment("gone")
    store.delete_experiment(deleted)
    page1 = store.search_experiments(max_results=3, filter_string="name LIKE 'proj-%'")
    assert len(page1) == 3
    assert page1.token
    page2 = store.search_experiments(
        max_results=3, filter_string="name LIKE 'proj-%'", page_token=page1.token
    )
    assert len(page2) == 2
    assert page2.token is None
    assert {e.name for e in [*page1, *page2]} == {f"proj-{i}" for i in range(5)}
    assert [e.name for e in store.search_experiments(filter_string="tags.i = '3'")] == ["proj-3"]
    assert [e.name for e in store.search_experiments(ViewType.DELETED_ONLY)] == ["gone"]
    names = [e.name for e in store.search_experiments(order_by=["name ASC"])]
    assert names == sorted(names)


def test_create_run_sets_system_tags_and_name(store: SqlTrackingStore) -> None:
    run = store.create_run("0", "bob", 123, [RunTag("x", "1")], "my-run")
    assert len(run.info.run_id) == 32
    assert int(run.info.run_id, 16) >= 0
    assert run.info.run_name == "my-run"
    assert run.data.tags["mlflow.runName"] == "my-run"
    assert run.info.user_id == "bob"
    assert "mlflow.user" not in run.data.tags  # as MLflow: the fluent API sets that tag
    assert run.info.status == RunStatus.RUNNING
    assert run.info.start_time == 123
    assert run.info.artifact_uri
    assert run.info.artifact_uri.endswith(f"/{run.info.run_id}/artifacts")
    assert store.get_run(run.info.run_id) == run


def test_generated_run_name_is_readable(store: SqlTrackingStore) -> None:
    name = _run(store).info.run_name
    assert name
    assert len(name.split("-")) == 3


def test_conflicting_run_name_and_tag(store: SqlTrackingStore) -> None:
    with pytest.raises(InvalidParameter, match="different values"):
        store.create_run("0", None, None, [RunTag("mlflow.runName", "a")], "b")


def test_params_are_immutable(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    store.log_param(run_id, Param("lr", "0.1"))
    store.log_param(run_id, Param("lr", "0.1"))  # same value again is fine
    with pytest.raises(InvalidParameter, match="Changing param values is not allowed"):
        store.log_param(run_id, Param("lr", "0.2"))
    assert store.get_run(run_id).data.params == {"lr": "0.1"}


def test_metrics_history_and_latest(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    store.log_metric(run_id, Metric("loss", 3.0, 10, 0))
    store.log_metric(run_id, Metric("loss", 1.0, 30, 2))
    store.log_metric(run_id, Metric("loss", 2.0, 20, 1))
    store.log_metric(run_id, Metric("loss", 2.0, 20, 1))  # a retry: no duplicate
    history = store.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 3.0), (1, 2.0), (2, 1.0)]
    assert store.get_run(run_id).data.metrics == {"loss": 1.0}


def test_special_float_values_round_trip(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    store.log_batch(
        run_id,
        metrics=[
            Metric("nan", math.nan, 1, 0),
            Metric("inf", math.inf, 1, 0),
            Metric("ninf", -math.inf, 1, 0),
        ],
    )
    metrics = store.get_run(run_id).data.metrics
    assert math.isnan(metrics["nan"])
    assert metrics["inf"] == math.inf
    assert metrics["ninf"] == -math.inf
    assert math.isnan(store.get_metric_history(run_id, "nan")[0].value)


def test_metric_history_paging(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    store.log_batch(run_id, metrics=[Metric("m", float(i), i, i) for i in range(25)])
    page = store.get_metric_history(run_id, "m", max_results=10)
    assert [m.step for m in page] == list(range(10))
    assert page.token
    rest = store.get_metric_history(run_id, "m", max_results=100, page_token=page.token)
    assert [m.step for m in rest] == list(range(10, 25))
    assert rest.token is None


def test_log_batch_is_all_or_nothing(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    store.log_param(run_id, Param("a", "1"))
    with pytest.raises(InvalidParameter, match="Changing param values"):
        store.log_batch(
            run_id,
            metrics=[Metric("m", 1.0, 1, 0)],
            params=[Param("b", "2"), Param("a", "other")],
            tags=[RunTag("t", "x")],
        )
    run = store.get_run(run_id)
    assert run.data.params == {"a": "1"}
    assert "m" not in run.data.metrics
    assert "t" not in run.data.tags


def test_log_batch_is_idempotent_under_retries(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    batch = {
        "metrics": [Metric("m", float(i), 100 + i, i) for i in range(50)],
        "params": [Param("p", "v")],
        "tags": [RunTag("t", "x")],
    }
    store.log_batch(run_id, **batch)  # type: ignore[arg-type]
    store.log_batch(run_id, **batch)  # type: ignore[arg-type]
    assert len(store.get_metric_history(run_id, "m")) == 50


def test_finish_run_writes_the_last_batch_and_ends_the_run(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    store.finish_run(
        run_id,
        RunStatus.FINISHED,
        5_000,
        metrics=[Metric("m", 0.5, 4_000, 3)],
        params=[Param("p", "v")],
        tags=[RunTag("t", "x")],
    )
    run = store.get_run(run_id)
    assert (run.info.status, run.info.end_time) == (RunStatus.FINISHED, 5_000)
    assert run.data.metrics == {"m": 0.5}
    assert run.data.params == {"p": "v"}
    assert run.data.tags["t"] == "x"


def test_finish_run_is_all_or_nothing(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    store.log_param(run_id, Param("a", "1"))
    with pytest.raises(InvalidParameter, match="Changing param values"):
        store.finish_run(
            run_id,
            RunStatus.FINISHED,
            5_000,
            metrics=[Metric("m", 1.0, 1, 0)],
            params=[Param("a", "other")],
        )
    run = store.get_run(run_id)
    assert (run.info.status, run.info.end_time) == (RunStatus.RUNNING, None)
    assert "m" not in run.data.metrics
    store.delete_run(run_id)
    with pytest.raises(InvalidParameter, match="must be in the 'active' state"):
        store.finish_run(run_id, RunStatus.FAILED, 6_000)


def test_log_batch_of_many_keys_keeps_duplicates_out_and_the_latest_point(
    store: SqlTrackingStore,
) -> None:
    # PostgreSQL writes a batch as arrays (one statement); the rows must match row-by-row.
    run_id = _run(store).info.run_id
    store.log_batch(run_id, metrics=[Metric("a", 5.0, 50, 5), Metric("b", 1.0, 1, 1)])
    store.log_batch(
        run_id,
        metrics=[
            Metric("a", 1.0, 10, 1),  # older than the stored latest point: latest stays 5.0
            Metric("a", 1.0, 10, 1),  # the same point twice in one batch: stored once
            Metric("b", math.nan, 2, 2),  # newer: the latest becomes NaN
            Metric("b", 7.0, 2, 1),
            Metric("c", -math.inf, 3, 0),
        ],
    )
    history = {k: store.get_metric_history(run_id, k) for k in "abc"}
    assert [(m.step, m.value) for m in history["a"]] == [(1, 1.0), (5, 5.0)]
    assert [m.step for m in history["b"]] == [1, 1, 2]
    assert math.isnan(history["b"][-1].value)
    latest = store.get_run(run_id).data.metrics
    assert latest["a"] == 5.0
    assert math.isnan(latest["b"])
    assert latest["c"] == -math.inf


def test_log_batch_limits_name_the_field(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    with pytest.raises(InvalidParameter, match="at most 1000 metrics"):
        store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, i) for i in range(1001)])
    with pytest.raises(InvalidParameter, match="at most 100 params"):
        store.log_batch(run_id, params=[Param(f"p{i}", "v") for i in range(101)])
    with pytest.raises(InvalidParameter, match=r"parameter 'metrics\[1\]\.value' supplied"):
        store.log_batch(run_id, metrics=[Metric("ok", 1.0, 1, 0), Metric("bad", "x", 1, 0)])  # type: ignore[arg-type]
    with pytest.raises(InvalidParameter, match=r"\"bad!name\" for parameter 'params\[0\]\.key'"):
        store.log_batch(run_id, params=[Param("bad!name", "v")])


def test_tags_are_mutable_and_run_name_tag_renames(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    store.set_tag(run_id, RunTag("k", "1"))
    store.set_tag(run_id, RunTag("k", "2"))
    store.set_tag(run_id, RunTag("mlflow.runName", "renamed"))
    run = store.get_run(run_id)
    assert run.data.tags["k"] == "2"
    assert run.info.run_name == "renamed"
    store.delete_tag(run_id, "k")
    assert "k" not in store.get_run(run_id).data.tags
    with pytest.raises(NotFound, match="k"):
        store.delete_tag(run_id, "k")


def test_update_run_info_and_lifecycle(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    info = store.update_run_info(run_id, RunStatus.FINISHED, 5_000, "final")
    assert (info.status, info.end_time, info.run_name) == (RunStatus.FINISHED, 5_000, "final")
    store.delete_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED
    with pytest.raises(InvalidParameter, match="must be in the 'active' state"):
        store.log_metric(run_id, Metric("m", 1.0, 1, 0))
    store.restore_run(run_id)
    store.log_metric(run_id, Metric("m", 1.0, 1, 0))


def test_missing_run_is_not_found(store: SqlTrackingStore) -> None:
    with pytest.raises(NotFound, match="a" * 32):
        store.get_run("a" * 32)
    with pytest.raises(NotFound, match="b" * 32):
        store.log_metric("b" * 32, Metric("m", 1.0, 1, 0))


def test_invalid_run_id_is_invalid_parameter(store: SqlTrackingStore) -> None:
    with pytest.raises(
        InvalidParameter, match=r"Invalid value \"\.\./\.\./etc\" for parameter 'run_id'"
    ):
        store.get_run("../../etc")


def test_log_inputs_dedupes_datasets(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    ds = Dataset("iris", "abc123", "local", '{"uri": "/data/iris.csv"}', '{"x": 1}', '{"n": 150}')
    di = DatasetInput(ds, [InputTag("mlflow.data.context", "training")])
    store.log_inputs(run_id, [di])
    store.log_inputs(run_id, [di])
    inputs = store.get_run(run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    assert inputs[0].dataset == ds
    assert inputs[0].tags == [InputTag("mlflow.data.context", "training")]


def test_search_datasets_lists_each_dataset_and_context(store: SqlTrackingStore) -> None:
    other = store.create_experiment("datasets-other")
    run_a, run_b = _run(store).info.run_id, _run(store, other).info.run_id
    iris = Dataset("iris", "d1", "local", "{}")
    store.log_inputs(run_a, [DatasetInput(iris, [InputTag("mlflow.data.context", "train")])])
    store.log_inputs(run_a, [DatasetInput(Dataset("bare", "d2", "local", "{}"))])
    store.log_inputs(run_b, [DatasetInput(iris, [InputTag("mlflow.data.context", "eval")])])
    found = store.search_datasets(["0", other])
    assert sorted(found, key=lambda d: (d.experiment_id, d.name)) == [
        DatasetSummary("0", "bare", "d2", None),
        DatasetSummary("0", "iris", "d1", "train"),
        DatasetSummary(other, "iris", "d1", "eval"),
    ]
    assert store.search_datasets([other]) == [DatasetSummary(other, "iris", "d1", "eval")]
    with pytest.raises(InvalidParameter, match="at least one experiment_id"):
        store.search_datasets([])


def test_search_runs_filter_order_and_pages(store: SqlTrackingStore) -> None:
    eid = store.create_experiment("s")
    ids = []
    for i in range(7):
        run_id = store.create_run(eid, None, 1000 + i, [], f"r{i}").info.run_id
        store.log_batch(
            run_id,
            metrics=[Metric("acc", i / 10, 1, 0)],
            params=[Param("model", "tree" if i % 2 else "linear")],
        )
        ids.append(run_id)
    found = store.search_runs([eid], "metrics.acc > 0.2 AND params.model = 'tree'")
    assert [r.info.run_name for r in found] == ["r5", "r3"]  # default order: newest first
    ordered = store.search_runs([eid], "", order_by=["metrics.acc ASC"], max_results=4)
    assert [r.info.run_name for r in ordered] == ["r0", "r1", "r2", "r3"]
    assert ordered.token
    rest = store.search_runs(
        [eid], "", order_by=["metrics.acc ASC"], max_results=4, page_token=ordered.token
    )
    assert [r.info.run_name for r in rest] == ["r4", "r5", "r6"]
    assert rest.token is None
    store.delete_run(ids[0])
    assert len(store.search_runs([eid], "")) == 6
    assert [r.info.run_id for r in store.search_runs([eid], "", ViewType.DELETED_ONLY)] == [ids[0]]


def test_search_runs_rejects_bad_filter(store: SqlTrackingStore) -> None:
    with pytest.raises(InvalidParameter, match="position"):
        store.search_runs(["0"], "metrics.acc >> 1")
