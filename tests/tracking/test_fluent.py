"""The fluent API, as MLflow code uses it (``import mlflowx as mlflow``)."""

from __future__ import annotations

import contextvars
import json
import math
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import mlflowx as mlflow
from mlflowx.entities import RunStatus
from mlflowx.exceptions import InvalidParameter, NotFound


def test_default_tracking_uri_is_sqlite_under_home(tmp_path: Path) -> None:
    assert mlflow.get_tracking_uri() == f"sqlite:///{tmp_path / 'home' / 'mlflowx.db'}"


def test_tracking_uri_from_env_falls_back_to_mlflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/a.db")
    assert mlflow.get_tracking_uri() == f"sqlite:///{tmp_path}/a.db"
    monkeypatch.setenv("MLFLOWX_TRACKING_URI", f"sqlite:///{tmp_path}/b.db")
    assert mlflow.get_tracking_uri() == f"sqlite:///{tmp_path}/b.db"
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/c.db")
    assert mlflow.get_tracking_uri() == f"sqlite:///{tmp_path}/c.db"


def test_run_lifecycle_in_a_with_block() -> None:
    mlflow.set_experiment("fluent")
    with mlflow.start_run(run_name="first", tags={"team": "a"}) as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_params({"l1": 1, "solver": "saga"})
        for step in range(3):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.9, "f1": 0.8})
        mlflow.set_tag("stage", "dev")
        mlflow.set_tags({"a": 1})
        assert mlflow.active_run() is run
    assert mlflow.active_run() is None
    got = mlflow.get_run(run.info.run_id)
    assert got.info.status == RunStatus.FINISHED
    assert got.info.end_time is not None
    assert got.info.run_name == "first"
    assert got.data.params == {"alpha": "0.5", "l1": "1", "solver": "saga"}
    assert got.data.metrics == {"loss": pytest.approx(1 / 3), "acc": 0.9, "f1": 0.8}
    assert got.data.tags["team"] == "a"
    assert got.data.tags["stage"] == "dev"
    for tag in ("mlflow.user", "mlflow.source.name", "mlflow.source.type", "mlflow.runName"):
        assert tag in got.data.tags
    assert mlflow.last_active_run().info.run_id == run.info.run_id  # type: ignore[union-attr]
    history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2]


def test_exception_marks_run_failed_and_ctrl_c_killed() -> None:
    with pytest.raises(ValueError, match="boom"), mlflow.start_run() as run:
        raise ValueError("boom")
    assert mlflow.get_run(run.info.run_id).info.status == RunStatus.FAILED
    with pytest.raises(KeyboardInterrupt, match="stop"), mlflow.start_run() as run2:
        raise KeyboardInterrupt("stop")
    assert mlflow.get_run(run2.info.run_id).info.status == RunStatus.KILLED


def test_nested_runs_and_parent_tag() -> None:
    with mlflow.start_run() as parent:
        with mlflow.start_run(nested=True) as child:
            mlflow.log_metric("x", 1)
        assert mlflow.active_run() is parent
    child_run = mlflow.get_run(child.info.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child_run.info.experiment_id == parent.info.experiment_id
    found = mlflow.search_runs(
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'", output_format="list"
    )
    assert [r.info.run_id for r in found] == [child.info.run_id]


def test_second_run_without_nested_is_an_error() -> None:
    with mlflow.start_run(), pytest.raises(InvalidParameter, match="already active"):
        mlflow.start_run()


def test_resume_run_by_id() -> None:
    with mlflow.start_run() as run:
        mlflow.log_param("p", 1)
    with mlflow.start_run(run_id=run.info.run_id):
        mlflow.log_metric("m", 2)
    resumed = mlflow.get_run(run.info.run_id)
    assert resumed.data.params == {"p": "1"}
    assert resumed.data.metrics == {"m": 2}
    assert resumed.info.status == RunStatus.FINISHED


def test_logging_without_a_run_starts_one() -> None:
    mlflow.log_metric("auto", 1.0)
    run = mlflow.active_run()
    assert run is not None
    mlflow.end_run()
    assert mlflow.get_run(run.info.run_id).data.metrics == {"auto": 1.0}


def test_set_experiment_creates_and_refuses_deleted() -> None:
    exp = mlflow.set_experiment("new-exp")
    assert mlflow.get_experiment_by_name("new-exp") == exp
    with mlflow.start_run() as run:
        pass
    assert run.info.experiment_id == exp.experiment_id
    mlflow.delete_experiment(exp.experiment_id)
    with pytest.raises(InvalidParameter, match="deleted experiment"):
        mlflow.set_experiment("new-exp")
    with pytest.raises(NotFound, match="999"):
        mlflow.set_experiment(experiment_id="999")


def test_active_run_follows_context_into_threads() -> None:
    results: list[str | None] = []
    with mlflow.start_run() as run:
        context = contextvars.copy_context()
        t = threading.Thread(
            target=context.run,
            args=(
                lambda: results.append(
                    (mlflow.log_metric("threaded", 1.0), mlflow.active_run().info.run_id)[1]  # type: ignore[union-attr]
                ),
            ),
        )
        t.start()
        t.join()
    assert results == [run.info.run_id]
    assert mlflow.get_run(run.info.run_id).data.metrics == {"threaded": 1.0}


def test_async_logging_is_flushed_at_end_run() -> None:
    with mlflow.start_run() as run:
        for i in range(2500):
            mlflow.log_metric("a", float(i), step=i, synchronous=False)
        mlflow.log_param("p", "v", synchronous=False)
        mlflow.set_tag("t", "x", synchronous=False)
    got = mlflow.get_run(run.info.run_id)
    assert got.data.metrics == {"a": 2499.0}
    assert got.data.params == {"p": "v"}
    assert len(mlflow.MlflowClient().get_metric_history(run.info.run_id, "a")) == 2500


def test_async_logging_error_surfaces_at_flush() -> None:
    with mlflow.start_run():
        mlflow.log_param("p", "1")
        mlflow.log_param("p", "2", synchronous=False)
        with pytest.raises(InvalidParameter, match="Changing param values"):
            mlflow.flush_async_logging()


def test_async_logging_is_flushed_at_interpreter_exit(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'exit.db'}"
    code = (
        "import mlflowx as mlflow\n"
        f"mlflow.set_tracking_uri({uri!r})\n"
        "run = mlflow.start_run()\n"
        "print(run.info.run_id)\n"
        "for i in range(3000):\n"
        "    mlflow.log_metric('m', i, step=i, synchronous=False)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    run_id = out.stdout.strip()
    client = mlflow.MlflowClient(uri)
    assert len(client.get_metric_history(run_id, "m")) == 3000
    assert client.get_run(run_id).info.status == RunStatus.FINISHED


def test_uncaught_exception_ends_open_run_failed(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'crash.db'}"
    code = (
        "import mlflowx as mlflow\n"
        f"mlflow.set_tracking_uri({uri!r})\n"
        "run = mlflow.start_run()\n"
        "print(run.info.run_id, flush=True)\n"
        "raise SystemError('crash')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 1
    run = mlflow.MlflowClient(uri).get_run(out.stdout.strip())
    assert run.info.status == RunStatus.FAILED


def test_artifacts_text_dict_files_and_listing(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("A")
    (src / "sub" / "b.txt").write_text("B")
    single = tmp_path / "single.csv"
    single.write_text("x,y\n1,2\n")
    with mlflow.start_run() as run:
        mlflow.log_text("hello", "notes/hello.txt")
        mlflow.log_dict({"a": 1}, "config.json")
        mlflow.log_dict({"b": [1, 2]}, "config.yaml")
        mlflow.log_artifact(single)
        mlflow.log_artifact(single, artifact_path="data")
        mlflow.log_artifacts(src, artifact_path="tree")
        uri = mlflow.get_artifact_uri()
    client = mlflow.MlflowClient()
    names = sorted(f.path for f in client.list_artifacts(run.info.run_id))
    assert names == ["config.json", "config.yaml", "data", "notes", "single.csv", "tree"]
    assert [f.path for f in client.list_artifacts(run.info.run_id, "tree")] == [
        "tree/a.txt",
        "tree/sub",
    ]
    local = Path(client.download_artifacts(run.info.run_id, "config.json", tmp_path / "dl"))
    assert json.loads(local.read_text()) == {"a": 1}
    assert uri == run.info.artifact_uri


def test_log_figure_and_image() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    with mlflow.start_run() as run:
        mlflow.log_figure(fig, "plots/line.png")
        mlflow.log_image(np.zeros((4, 4, 3), dtype=np.uint8), "img/black.png")
        mlflow.log_image(np.ones((4, 4)) * 0.5, "img/gray.png")
        with pytest.raises(InvalidParameter, match="shape"):
            mlflow.log_image(np.zeros((2, 2, 7)), "img/bad.png")
    plt.close(fig)
    client = mlflow.MlflowClient()
    assert [f.path for f in client.list_artifacts(run.info.run_id, "img")] == [
        "img/black.png",
        "img/gray.png",
    ]
    png = client.download_artifacts(run.info.run_id, "plots/line.png")
    assert Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_log_input_with_pandas_dataset() -> None:
    import pandas as pd
    from sklearn.datasets import load_iris

    df = load_iris(as_frame=True).frame
    ds = mlflow.data.from_pandas(df, source="iris.csv", targets="target", name="iris")
    with mlflow.start_run() as run:
        mlflow.log_input(ds, context="training")
    inputs = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
    assert inputs[0].dataset.name == "iris"
    assert inputs[0].dataset.digest == ds.digest
    assert len(ds.digest) == 8
    assert json.loads(inputs[0].dataset.profile or "{}")["num_rows"] == 150
    assert [(t.key, t.value) for t in inputs[0].tags] == [("mlflow.data.context", "training")]
    found = mlflow.search_runs(filter_string="datasets.context = 'training'")
    assert isinstance(found, pd.DataFrame)
    assert list(found["run_id"]) == [run.info.run_id]


def test_search_runs_dataframe_has_mlflow_columns() -> None:
    for i in range(3):
        with mlflow.start_run():
            mlflow.log_param("i", i)
            mlflow.log_metric("score", i * 1.5)
            if i == 2:
                mlflow.log_metric("extra", math.inf)
    df = mlflow.search_runs(order_by=["metrics.score DESC"])
    assert list(df.columns[:6]) == [
        "run_id",
        "experiment_id",
        "status",
        "artifact_uri",
        "start_time",
        "end_time",
    ]
    assert list(df["metrics.score"]) == [3.0, 1.5, 0.0]
    assert list(df["params.i"]) == ["2", "1", "0"]
    assert math.isnan(df["metrics.extra"].iloc[1])
    assert str(df["start_time"].dtype).startswith("datetime64")
    runs = mlflow.search_runs(filter_string="params.i IN ('0', '2')", output_format="list")
    assert sorted(r.data.params["i"] for r in runs) == ["0", "2"]  # type: ignore[union-attr]


def test_delete_and_restore_run() -> None:
    with mlflow.start_run() as run:
        pass
    mlflow.delete_run(run.info.run_id)
    assert mlflow.search_runs(output_format="list") == []
    mlflow.restore_run(run.info.run_id)
    assert len(mlflow.search_runs(output_format="list")) == 1


def test_client_create_run_and_set_terminated() -> None:
    client = mlflow.MlflowClient()
    eid = client.create_experiment("client-exp", tags={"k": "v"})
    run = client.create_run(eid, run_name="c")
    client.log_metric(run.info.run_id, "m", 1.0, step=3)
    client.log_batch(
        run.info.run_id,
        metrics=[mlflow.Metric("n", 2.0, 1, 0)],
        params=[mlflow.Param("p", "1")],
        tags=[mlflow.RunTag("t", "x")],
    )
    client.set_terminated(run.info.run_id, "KILLED")
    got = client.get_run(run.info.run_id)
    assert got.info.status == RunStatus.KILLED
    assert got.data.metrics == {"m": 1.0, "n": 2.0}
    page = client.search_runs([eid], "params.p = '1'")
    assert [r.info.run_id for r in page] == [run.info.run_id]
    assert page.token is None
