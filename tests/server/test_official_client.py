"""The official ``mlflow`` client against a live server: mlflowx's, and MLflow's own.

Every test runs twice (``any_server``). MLflow's server sets the expectations; where mlflowx's
answers differently, mlflowx is wrong.
"""

from __future__ import annotations

import json
import math
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mlflow
import mlflow.artifacts
import mlflow.data
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException
from mlflow.tracking import fluent as mlflow_fluent
from mlflow.tracking._tracking_service import utils as mlflow_tracking_utils

import mlflowx
from tests.fixtures.server import LiveServer

# mlflow's own pandas calls (dataset digests, log_table) use APIs pandas 3 deprecates; checked,
# not ours to fix.
pytestmark = pytest.mark.filterwarnings(r"ignore::pandas.errors.Pandas4Warning:mlflow\.")

T0 = 1_700_000_000_000  # a fixed epoch-ms timestamp, so expectations need no clock


@pytest.fixture
def point_official_client(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[LiveServer], MlflowClient]]:
    """Point the official client at a server; leave mlflow's fluent state as it was."""
    previous = mlflow_tracking_utils._tracking_uri

    def point(server: LiveServer) -> MlflowClient:
        monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
        monkeypatch.setattr(mlflow_fluent, "_active_experiment_id", None)
        mlflow.set_tracking_uri(server.url)
        return MlflowClient(server.url)

    try:
        yield point
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        mlflow.set_tracking_uri(previous)  # type: ignore[arg-type]


@pytest.fixture
def client(
    any_server: LiveServer, point_official_client: Callable[[LiveServer], MlflowClient]
) -> MlflowClient:
    return point_official_client(any_server)


def unique(prefix: str = "exp") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


@pytest.fixture
def experiment_id(client: MlflowClient) -> str:
    experiment_id: str = client.create_experiment(unique())
    return experiment_id


# ---------------------------------------------------------------------------- experiments
def test_create_and_get_experiment(client: MlflowClient) -> None:
    name = unique()
    experiment_id = client.create_experiment(name, tags={"team": "a", "empty": ""})

    by_id = client.get_experiment(experiment_id)
    by_name = client.get_experiment_by_name(name)

    assert by_name is not None
    assert by_id.experiment_id == by_name.experiment_id == experiment_id
    assert by_id.name == name
    assert by_id.lifecycle_stage == "active"
    assert by_id.tags == {"team": "a", "empty": ""}
    assert by_id.artifact_location.startswith("mlflow-artifacts:")
    assert by_id.artifact_location.rstrip("/").endswith(experiment_id)
    assert by_id.creation_time is not None
    assert by_id.last_update_time is not None


def test_missing_experiment_is_resource_does_not_exist(client: MlflowClient) -> None:
    with pytest.raises(MlflowException, match="987654321") as info:
        client.get_experiment("987654321")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert client.get_experiment_by_name(unique("missing")) is None
    for write in (client.delete_experiment, client.create_run):
        with pytest.raises(MlflowException, match="987654321") as info:
            write("987654321")
        assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_duplicate_experiment_is_resource_already_exists(client: MlflowClient) -> None:
    name = unique()
    client.create_experiment(name)
    with pytest.raises(MlflowException, match=name) as info:
        client.create_experiment(name)
    assert info.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_search_experiments_filter_order_and_pages(client: MlflowClient) -> None:
    prefix = unique("search")
    ids = {
        suffix: client.create_experiment(f"{prefix}-{suffix}", tags={"parity": parity})
        for suffix, parity in (("a", "odd"), ("b", "even"), ("c", "odd"))
    }

    first = client.search_experiments(
        filter_string=f"name LIKE '{prefix}-%'", order_by=["name DESC"], max_results=2
    )
    assert [x.name for x in first] == [f"{prefix}-c", f"{prefix}-b"]
    assert first.token
    second = client.search_experiments(
        filter_string=f"name LIKE '{prefix}-%'",
        order_by=["name DESC"],
        max_results=2,
        page_token=first.token,
    )
    assert [x.name for x in second] == [f"{prefix}-a"]
    assert not second.token

    odd = client.search_experiments(
        filter_string=f"name LIKE '{prefix}-%' AND tags.parity = 'odd'", order_by=["name ASC"]
    )
    assert [x.experiment_id for x in odd] == [ids["a"], ids["c"]]


def test_rename_delete_and_restore_experiment(client: MlflowClient) -> None:
    name = unique()
    experiment_id = client.create_experiment(name)

    client.rename_experiment(experiment_id, f"{name}-renamed")
    assert client.get_experiment(experiment_id).name == f"{name}-renamed"
    assert client.get_experiment_by_name(name) is None

    client.delete_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    name_filter = f"name = '{name}-renamed'"
    assert not client.search_experiments(filter_string=name_filter)
    deleted = client.search_experiments(ViewType.DELETED_ONLY, filter_string=name_filter)
    assert [x.experiment_id for x in deleted] == [experiment_id]

    client.restore_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "active"
    assert [x.experiment_id for x in client.search_experiments(filter_string=name_filter)] == [
        experiment_id
    ]


def test_search_experiments_defaults_to_newest_first(client: MlflowClient) -> None:
    prefix = unique("order")
    ids = {client.create_experiment(f"{prefix}-{i}") for i in range(3)}
    found = client.search_experiments(filter_string=f"name LIKE '{prefix}-%'")
    assert {x.experiment_id for x in found} == ids
    # MLflow's default: creation_time DESC, ties (same millisecond) by experiment_id ASC.
    expected = sorted(found, key=lambda x: (-x.creation_time, int(x.experiment_id)))
    assert [x.experiment_id for x in found] == [x.experiment_id for x in expected]


def test_experiment_tags_set_and_delete(client: MlflowClient, experiment_id: str) -> None:
    client.set_experiment_tag(experiment_id, "owner", "me")
    client.set_experiment_tag(experiment_id, "owner", "you")
    client.set_experiment_tag(experiment_id, "n", 3)
    assert client.get_experiment(experiment_id).tags == {"owner": "you", "n": "3"}

    client.delete_experiment_tag(experiment_id, "owner")
    assert client.get_experiment(experiment_id).tags == {"n": "3"}


def test_set_experiment_creates_it_and_runs_land_there(client: MlflowClient) -> None:
    name = unique()
    experiment = mlflow.set_experiment(name)
    with mlflow.start_run() as run:
        pass
    assert run.info.experiment_id == experiment.experiment_id
    assert mlflow.get_experiment_by_name(name).experiment_id == experiment.experiment_id  # type: ignore[union-attr]


# ---------------------------------------------------------------------------- runs
def test_start_and_end_run(client: MlflowClient, experiment_id: str) -> None:
    with mlflow.start_run(experiment_id=experiment_id, run_name="first") as run:
        assert mlflow.active_run() is not None
        assert run.info.status == "RUNNING"
        assert run.info.run_name == "first"
    assert mlflow.active_run() is None

    got = client.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.info.end_time is not None
    assert got.info.end_time >= got.info.start_time
    assert got.info.run_name == "first"
    assert got.info.experiment_id == experiment_id
    assert got.info.lifecycle_stage == "active"
    assert got.info.artifact_uri.startswith("mlflow-artifacts:")
    assert got.data.tags["mlflow.runName"] == "first"
    assert "mlflow.user" in got.data.tags
    assert "mlflow.source.name" in got.data.tags


def test_exception_in_run_marks_it_failed(client: MlflowClient, experiment_id: str) -> None:
    with (
        pytest.raises(ValueError, match="boom"),
        mlflow.start_run(experiment_id=experiment_id) as run,
    ):
        raise ValueError("boom")
    assert client.get_run(run.info.run_id).info.status == "FAILED"


def test_end_run_with_status(client: MlflowClient, experiment_id: str) -> None:
    run = mlflow.start_run(experiment_id=experiment_id)
    mlflow.end_run(status="KILLED")
    assert client.get_run(run.info.run_id).info.status == "KILLED"

    other = client.create_run(experiment_id)
    client.set_terminated(other.info.run_id, "FAILED", end_time=T0)
    got = client.get_run(other.info.run_id).info
    assert (got.status, got.end_time) == ("FAILED", T0)


def test_server_names_unnamed_runs(client: MlflowClient, experiment_id: str) -> None:
    run = client.create_run(experiment_id)
    assert run.info.run_name
    assert client.get_run(run.info.run_id).data.tags["mlflow.runName"] == run.info.run_name


def test_nested_runs_carry_parent_run_id(client: MlflowClient, experiment_id: str) -> None:
    with mlflow.start_run(experiment_id=experiment_id) as parent:
        # A nested run goes to the active experiment, not its parent's: name it here too.
        with mlflow.start_run(experiment_id=experiment_id, nested=True, run_name="child") as child:
            assert mlflow.active_run().info.run_id == child.info.run_id  # type: ignore[union-attr]
        assert mlflow.active_run().info.run_id == parent.info.run_id  # type: ignore[union-attr]

    got = client.get_run(child.info.run_id)
    assert got.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert client.get_parent_run(child.info.run_id).info.run_id == parent.info.run_id  # type: ignore[union-attr]
    children = client.search_runs(
        [experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert [r.info.run_id for r in children] == [child.info.run_id]


def test_update_run_status_and_name(client: MlflowClient, experiment_id: str) -> None:
    run = client.create_run(experiment_id, run_name="before", start_time=T0)
    client.update_run(run.info.run_id, status="KILLED", name="after")

    got = client.get_run(run.info.run_id)
    assert got.info.status == "KILLED"
    assert got.info.run_name == "after"
    assert got.data.tags["mlflow.runName"] == "after"
    assert got.info.start_time == T0


def test_delete_and_restore_run(client: MlflowClient, experiment_id: str) -> None:
    run_id = client.create_run(experiment_id).info.run_id

    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    assert not client.search_runs([experiment_id])
    deleted = client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [run_id]
    assert len(client.search_runs([experiment_id], run_view_type=ViewType.ALL)) == 1

    client.restore_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "active"
    assert [r.info.run_id for r in client.search_runs([experiment_id])] == [run_id]


def test_writes_to_a_deleted_run_are_invalid(client: MlflowClient, experiment_id: str) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    client.delete_run(run_id)
    writes = [
        lambda: client.log_metric(run_id, "m", 1.0),
        lambda: client.log_param(run_id, "p", 1),
        lambda: client.set_tag(run_id, "t", "v"),
        lambda: client.update_run(run_id, "FINISHED"),
    ]
    for write in writes:
        with pytest.raises(MlflowException, match="must be in the 'active' state") as info:
            write()
        assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_no_runs_in_a_deleted_experiment(client: MlflowClient, experiment_id: str) -> None:
    client.delete_experiment(experiment_id)
    with pytest.raises(MlflowException, match="must be in the 'active' state") as info:
        client.create_run(experiment_id)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_missing_run_is_resource_does_not_exist(client: MlflowClient) -> None:
    missing = uuid.uuid4().hex
    for call in (client.get_run, client.delete_run, client.restore_run):
        with pytest.raises(MlflowException, match=missing) as info:
            call(missing)
        assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"


# ---------------------------------------------------------------------------- search runs
def _three_runs(client: MlflowClient, experiment_id: str) -> dict[str, str]:
    """Runs a, b, c with metric acc, param depth, tag team and distinct start times."""
    ids = {}
    for i, (name, acc, depth, team) in enumerate(
        [("a", 0.7, "3", "red"), ("b", 0.9, "5", "blue"), ("c", 0.8, "5", "red")]
    ):
        run = client.create_run(experiment_id, start_time=T0 + i, run_name=name)
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("acc", acc, T0, 0)],
            params=[Param("depth", depth)],
            tags=[RunTag("team", team)],
        )
        ids[name] = run.info.run_id
    client.set_terminated(ids["c"], "FAILED")
    return ids


SEARCH_FILTERS = [
    ("metrics.acc > 0.75", {"b", "c"}),
    ("metrics.acc <= 0.8", {"a", "c"}),
    ("params.depth = '5'", {"b", "c"}),
    ("tags.team != 'red'", {"b"}),
    ("tags.team LIKE 'r%'", {"a", "c"}),
    ("attributes.run_name = 'b'", {"b"}),
    ("attributes.status = 'FAILED'", {"c"}),
    (f"attributes.start_time > {T0}", {"b", "c"}),
    ("params.depth = '5' AND metrics.acc < 0.85", {"c"}),
    ("attributes.run_id IN ('{a}', '{c}')", {"a", "c"}),
]


def test_search_runs_filters(client: MlflowClient, experiment_id: str) -> None:
    ids = _three_runs(client, experiment_id)
    # One set of runs for all filters: each search is one request, each run several.
    for filter_string, expected in SEARCH_FILTERS:
        found = client.search_runs([experiment_id], filter_string.format(**ids))
        assert {r.info.run_id for r in found} == {ids[n] for n in expected}, filter_string


def test_search_runs_order_and_pages(client: MlflowClient, experiment_id: str) -> None:
    ids = _three_runs(client, experiment_id)

    by_acc = client.search_runs([experiment_id], order_by=["metrics.acc DESC"])
    assert [r.info.run_id for r in by_acc] == [ids["b"], ids["c"], ids["a"]]
    newest_first = client.search_runs([experiment_id])  # default: start_time DESC
    assert [r.info.run_id for r in newest_first] == [ids["c"], ids["b"], ids["a"]]

    order = ["params.depth ASC", "attributes.run_name DESC"]
    first = client.search_runs([experiment_id], order_by=order, max_results=2)
    assert [r.info.run_id for r in first] == [ids["a"], ids["c"]]
    assert first.token
    second = client.search_runs(
        [experiment_id], order_by=order, max_results=2, page_token=first.token
    )
    assert [r.info.run_id for r in second] == [ids["b"]]
    assert not second.token


def test_search_runs_sorts_missing_values_last(client: MlflowClient, experiment_id: str) -> None:
    ids = _three_runs(client, experiment_id)
    bare = client.create_run(experiment_id, start_time=T0 + 9).info.run_id  # no acc, no depth

    for order in ("metrics.acc ASC", "metrics.acc DESC", "params.depth DESC"):
        found = client.search_runs([experiment_id], order_by=[order])
        assert found[-1].info.run_id == bare, order
    oldest_first = client.search_runs([experiment_id], order_by=["attributes.start_time ASC"])
    assert [r.info.run_id for r in oldest_first] == [ids["a"], ids["b"], ids["c"], bare]


@pytest.mark.parametrize(
    "search",
    [
        {"filter_string": "metrics.acc >>> 1"},
        {"filter_string": "nonsense.acc = 1"},
        {"order_by": ["foo.bar"]},
        {"page_token": "not-a-token"},
        {"max_results": 60_000},
    ],
)
def test_invalid_search_is_invalid_parameter_value(
    client: MlflowClient, experiment_id: str, search: dict[str, Any]
) -> None:
    with pytest.raises(MlflowException, match="INVALID_PARAMETER_VALUE") as info:
        client.search_runs([experiment_id], **search)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_fluent_search_runs_dataframe(experiment_id: str, client: MlflowClient) -> None:
    ids = _three_runs(client, experiment_id)

    frame = mlflow.search_runs([experiment_id], order_by=["metrics.acc ASC"])

    assert isinstance(frame, pd.DataFrame)
    assert list(frame["run_id"]) == [ids["a"], ids["c"], ids["b"]]
    for column in (
        "experiment_id",
        "status",
        "artifact_uri",
        "start_time",
        "end_time",
        "metrics.acc",
        "params.depth",
        "tags.team",
        "tags.mlflow.runName",
    ):
        assert column in frame.columns
    assert list(frame["metrics.acc"]) == [0.7, 0.8, 0.9]
    assert list(frame["params.depth"]) == ["3", "5", "5"]
    assert list(frame["tags.mlflow.runName"]) == ["a", "c", "b"]
    assert list(frame["status"]) == ["RUNNING", "FAILED", "RUNNING"]


# ---------------------------------------------------------------------------- run data
def test_params_are_immutable(client: MlflowClient, experiment_id: str) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    client.log_param(run_id, "lr", 0.1)
    client.log_param(run_id, "lr", 0.1)  # the same value again is fine

    with pytest.raises(MlflowException, match="lr") as info:
        client.log_param(run_id, "lr", 0.2)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert client.get_run(run_id).data.params == {"lr": "0.1"}


def test_metric_history_keeps_steps_and_timestamps(
    client: MlflowClient, experiment_id: str
) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    points = [(0, 1.0, T0), (5, 3.0, T0 + 1), (2, 10.0, T0 + 2), (5, 4.0, T0 + 3)]
    for step, value, timestamp in points:
        client.log_metric(run_id, "loss", value, timestamp=timestamp, step=step)

    history = client.get_metric_history(run_id, "loss")

    got = sorted((m.step, m.value, m.timestamp) for m in history)
    assert got == sorted((s, v, t) for s, v, t in points)
    assert {m.key for m in history} == {"loss"}
    # The run shows the value at the highest step, latest timestamp first.
    assert client.get_run(run_id).data.metrics == {"loss": 4.0}


def test_fluent_metrics_default_to_step_zero(client: MlflowClient, experiment_id: str) -> None:
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_metric("m", 1.5)
        mlflow.log_metrics({"a": 1, "b": 2}, step=7)
    history = client.get_metric_history(run.info.run_id, "m")
    assert [(m.step, m.value) for m in history] == [(0, 1.5)]
    assert history[0].timestamp > 0
    assert [m.step for m in client.get_metric_history(run.info.run_id, "b")] == [7]
    assert client.get_metric_history(run.info.run_id, "never-logged") == []


def test_async_logging_lands_after_flush(client: MlflowClient, experiment_id: str) -> None:
    with mlflow.start_run(experiment_id=experiment_id) as run:
        for step in range(5):
            mlflow.log_metric("a", step * 1.0, step=step, synchronous=False)
        mlflow.log_param("p", 1, synchronous=False)
        mlflow.set_tag("t", "v", synchronous=False)
        mlflow.flush_async_logging()
    data = client.get_run(run.info.run_id).data
    assert (data.metrics, data.params, data.tags["t"]) == ({"a": 4.0}, {"p": "1"}, "v")
    assert [m.step for m in client.get_metric_history(run.info.run_id, "a")] == [0, 1, 2, 3, 4]


def test_nan_and_infinities_round_trip(client: MlflowClient, experiment_id: str) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    client.log_metric(run_id, "nan", math.nan, timestamp=T0)
    client.log_metric(run_id, "pos", math.inf, timestamp=T0)
    client.log_metric(run_id, "neg", -math.inf, timestamp=T0)

    # MLflow's SQL store keeps infinities as the largest finite floats; both read as "overflow".
    metrics = client.get_run(run_id).data.metrics
    history = {k: client.get_metric_history(run_id, k)[0].value for k in ("nan", "pos", "neg")}
    for values in (metrics, history):
        assert math.isnan(values["nan"])
        assert values["pos"] >= sys.float_info.max
        assert values["neg"] <= -sys.float_info.max


def test_tags_set_and_delete(client: MlflowClient, experiment_id: str) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    client.set_tag(run_id, "stage", "dev")
    client.set_tag(run_id, "stage", "prod")  # tags, unlike params, may change
    client.set_tag(run_id, "temp", "x")

    client.delete_tag(run_id, "temp")

    tags = client.get_run(run_id).data.tags
    assert tags["stage"] == "prod"
    assert "temp" not in tags
    with pytest.raises(MlflowException, match="temp") as info:
        client.delete_tag(run_id, "temp")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_log_batch_twice_adds_nothing(client: MlflowClient, experiment_id: str) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    batch = {
        "metrics": [Metric("loss", 0.5, T0, 0), Metric("loss", 0.25, T0 + 1, 1)],
        "params": [Param("optimizer", "adam")],
        "tags": [RunTag("phase", "train")],
    }

    client.log_batch(run_id, **batch)  # type: ignore[arg-type]
    client.log_batch(run_id, **batch)  # a client retry after a lost response

    history = client.get_metric_history(run_id, "loss")
    assert sorted((m.step, m.value, m.timestamp) for m in history) == [
        (0, 0.5, T0),
        (1, 0.25, T0 + 1),
    ]
    data = client.get_run(run_id).data
    assert data.params == {"optimizer": "adam"}
    assert data.tags["phase"] == "train"
    assert data.metrics == {"loss": 0.25}


def test_log_batch_rejects_a_changed_param(client: MlflowClient, experiment_id: str) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    client.log_batch(run_id, params=[Param("k", "1")])
    with pytest.raises(MlflowException, match="k") as info:
        client.log_batch(run_id, params=[Param("k", "2")])
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


# ---------------------------------------------------------------------------- artifacts
def test_artifacts_through_the_proxy(
    client: MlflowClient, experiment_id: str, tmp_path: Path
) -> None:
    single = tmp_path / "model.txt"
    single.write_text("weights")
    tree = tmp_path / "tree"
    (tree / "inner" / "deeper").mkdir(parents=True)
    (tree / "top.csv").write_text("a,b\n1,2\n")
    (tree / "inner" / "deeper" / "leaf.bin").write_bytes(bytes(range(256)))

    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_artifact(str(single))
        mlflow.log_artifact(str(single), artifact_path="copies/one")
        mlflow.log_artifacts(str(tree), artifact_path="tree")
        mlflow.log_text("hello\n", "notes/readme.md")
        mlflow.log_dict({"a": [1, 2], "b": {"c": None}}, "conf/settings.json")
    run_id = run.info.run_id

    root = client.list_artifacts(run_id)
    assert sorted((f.path, f.is_dir) for f in root) == [
        ("conf", True),
        ("copies", True),
        ("model.txt", False),
        ("notes", True),
        ("tree", True),
    ]
    assert next(f.file_size for f in root if f.path == "model.txt") == len("weights")
    assert sorted(f.path for f in client.list_artifacts(run_id, "tree")) == [
        "tree/inner",
        "tree/top.csv",
    ]
    leaf = client.list_artifacts(run_id, "tree/inner/deeper")
    assert [(f.path, f.file_size) for f in leaf] == [("tree/inner/deeper/leaf.bin", 256)]

    local = Path(client.download_artifacts(run_id, "tree", str(tmp_path / "dl")))
    assert (local / "top.csv").read_text() == "a,b\n1,2\n"
    assert (local / "inner" / "deeper" / "leaf.bin").read_bytes() == bytes(range(256))
    one = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="copies/one/model.txt", dst_path=str(tmp_path / "one")
    )
    assert Path(one).read_text() == "weights"

    artifact_uri = client.get_run(run_id).info.artifact_uri
    assert mlflow.artifacts.load_text(f"{artifact_uri}/notes/readme.md") == "hello\n"
    assert mlflow.artifacts.load_dict(f"{artifact_uri}/conf/settings.json") == {
        "a": [1, 2],
        "b": {"c": None},
    }


# Not "#", "?" or "%": the official client puts them into the URL unescaped (on either server).
ODD_NAMES = ["with space.txt", "ünïcødé.txt", "plus+z.txt", "semi;c&a=b,(1)@x'.txt"]


def test_artifact_names_that_need_escaping(
    client: MlflowClient, experiment_id: str, tmp_path: Path
) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    for name in ODD_NAMES:
        (tmp_path / name).write_text(name)
        client.log_artifact(run_id, str(tmp_path / name), "odd dir")

    listed = client.list_artifacts(run_id, "odd dir")
    assert sorted(f.path for f in listed) == sorted(f"odd dir/{n}" for n in ODD_NAMES)
    local = Path(client.download_artifacts(run_id, "odd dir", str(tmp_path / "dl")))
    assert {p.name: p.read_text() for p in local.iterdir()} == {n: n for n in ODD_NAMES}


def test_missing_artifact_download_fails(client: MlflowClient, experiment_id: str) -> None:
    artifact_uri = client.create_run(experiment_id).info.artifact_uri
    with pytest.raises(MlflowException, match=r"nope\.txt"):
        mlflow.artifacts.load_text(f"{artifact_uri}/nope.txt")


def test_log_table_and_image(client: MlflowClient, experiment_id: str) -> None:
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_table({"a": [1, 2], "b": ["x", "y"]}, "tables/t.json")
        mlflow.log_image(np.zeros((4, 4, 3), dtype=np.uint8), key="img", step=0)
    run_id = run.info.run_id

    table = client.load_table(experiment_id, "tables/t.json", run_ids=[run_id])
    assert table[["a", "b"]].to_dict("list") == {"a": [1, 2], "b": ["x", "y"]}
    tags = client.get_run(run_id).data.tags
    assert json.loads(tags["mlflow.loggedArtifacts"]) == [
        {"path": "tables/t.json", "type": "table"}
    ]
    assert "mlflow.loggedImages" in tags
    images = [f.path for f in client.list_artifacts(run_id, "images")]
    assert any(p.startswith("images/img+step+0+") and p.endswith(".png") for p in images)


def test_empty_artifact_listing(client: MlflowClient, experiment_id: str) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    assert client.list_artifacts(run_id) == []
    assert client.list_artifacts(run_id, "nowhere") == []


# ---------------------------------------------------------------------------- datasets
def test_log_input_dataset(client: MlflowClient, experiment_id: str) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0.0, 1.0, 0.0]})  # ints: a UserWarning
    dataset = mlflow.data.from_pandas(frame, name="toy", targets="y")

    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_input(dataset, context="training", tags={"split": "train"})

    inputs = client.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    logged = inputs[0].dataset
    assert (logged.name, logged.digest) == ("toy", dataset.digest)
    assert logged.source_type == "code"  # from_pandas without a source: the calling code
    assert json.loads(logged.schema) == {"mlflow_colspec": dataset.schema.to_dict()}
    assert json.loads(logged.profile) == dataset.profile
    tags = {t.key: t.value for t in inputs[0].tags}
    assert tags["mlflow.data.context"] == "training"
    assert tags["split"] == "train"


# ---------------------------------------------------------------------------- both clients
def test_mlflowx_and_official_clients_share_data(
    mlflowx_server: LiveServer, point_official_client: Callable[[LiveServer], MlflowClient]
) -> None:
    official = point_official_client(mlflowx_server)
    mlflowx.set_tracking_uri(mlflowx_server.url)
    name = unique("mixed")

    experiment_id = mlflowx.create_experiment(name, tags={"by": "mlflowx"})
    with mlflowx.start_run(experiment_id=experiment_id, run_name="x-run") as run:
        mlflowx.log_param("alpha", 0.5)
        mlflowx.log_metric("loss", 0.3, step=2)
        mlflowx.set_tag("source", "mlflowx")
        mlflowx.log_text("from mlflowx", "notes.txt")
    run_id = run.info.run_id

    seen = official.get_run(run_id)
    assert official.get_experiment_by_name(name).tags == {"by": "mlflowx"}  # type: ignore[union-attr]
    assert seen.info.run_name == "x-run"
    assert seen.info.status == "FINISHED"
    assert seen.data.params == {"alpha": "0.5"}
    assert seen.data.metrics == {"loss": 0.3}
    assert seen.data.tags["source"] == "mlflowx"
    assert [(m.step, m.value) for m in official.get_metric_history(run_id, "loss")] == [(2, 0.3)]
    assert [f.path for f in official.list_artifacts(run_id)] == ["notes.txt"]
    assert mlflow.artifacts.load_text(f"{seen.info.artifact_uri}/notes.txt") == "from mlflowx"

    official.log_param(run_id, "beta", "2")
    official.log_metric(run_id, "loss", 0.1, step=3)
    official.set_tag(run_id, "source", "official")
    official.set_experiment_tag(experiment_id, "by", "official")

    mine = mlflowx.MlflowClient()
    back = mine.get_run(run_id)
    assert back.data.params == {"alpha": "0.5", "beta": "2"}
    assert back.data.metrics == {"loss": 0.1}
    assert back.data.tags["source"] == "official"
    assert [m.step for m in mine.get_metric_history(run_id, "loss")] == [2, 3]
    assert mlflowx.get_experiment(experiment_id).tags == {"by": "official"}
    found = mlflowx.search_runs([experiment_id], filter_string="params.beta = '2'")
    assert list(found["run_id"]) == [run_id]  # type: ignore[index]
