"""MLflow's fluent names added for drop-in use: experiment tags, parent runs, inputs and
outputs, streams, tables, logged models and registry searches."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

import mlflowx as mlflow
from mlflowx.entities import LoggedModelStatus, ModelOutput
from mlflowx.exceptions import InvalidParameter, NotFound


def test_experiment_tags_and_restore() -> None:
    exp = mlflow.set_experiment("tags")
    mlflow.set_experiment_tags({"team": "a", "n": 3})
    assert mlflow.get_experiment(exp.experiment_id).tags == {"team": "a", "n": "3"}
    mlflow.delete_experiment_tag("team")
    assert mlflow.get_experiment(exp.experiment_id).tags == {"n": "3"}
    mlflow.delete_experiment(exp.experiment_id)
    assert mlflow.get_experiment(exp.experiment_id).lifecycle_stage == "deleted"
    mlflow.restore_experiment(exp.experiment_id)
    assert mlflow.get_experiment(exp.experiment_id).lifecycle_stage == "active"


def test_get_parent_run() -> None:
    with mlflow.start_run() as parent, mlflow.start_run(nested=True) as child:
        pass
    got = mlflow.get_parent_run(child.info.run_id)
    assert got is not None
    assert got.info.run_id == parent.info.run_id
    assert mlflow.get_parent_run(parent.info.run_id) is None
    assert mlflow.MlflowClient().get_parent_run(child.info.run_id).info.run_id == (  # type: ignore[union-attr]
        parent.info.run_id
    )


def test_log_inputs_with_contexts_and_tags() -> None:
    frames = [pd.DataFrame({"x": [1, 2]}), pd.DataFrame({"y": [3.0]})]
    datasets = [mlflow.data.from_pandas(f, name=f"d{i}") for i, f in enumerate(frames)]
    with mlflow.start_run() as run:
        mlflow.log_inputs(datasets, contexts=["train", None], tags_list=[None, {"k": "v"}])
    inputs = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
    by_name = {i.dataset.name: {t.key: t.value for t in i.tags} for i in inputs}
    assert by_name == {"d0": {"mlflow.data.context": "train"}, "d1": {"k": "v"}}
    with pytest.raises(InvalidParameter, match="contexts has 1 entries for 2 datasets"):
        mlflow.log_inputs(datasets, contexts=["train"])


def test_log_stream_writes_the_bytes() -> None:
    with mlflow.start_run() as run:
        mlflow.log_stream(io.BytesIO(b"\x00\x01binary"), "blobs/b.bin")
        with pytest.raises(InvalidParameter, match="binary stream"):
            mlflow.log_stream(io.StringIO("text"), "t.txt")  # type: ignore[arg-type]
    local = mlflow.MlflowClient().download_artifacts(run.info.run_id, "blobs/b.bin")
    assert Path(local).read_bytes() == b"\x00\x01binary"


def test_log_table_appends_and_load_table_joins_runs() -> None:
    mlflow.set_experiment("tables")
    with mlflow.start_run() as first:
        mlflow.log_table({"q": ["a", "b"], "score": [0.5, 0.75]}, "eval/t.json")
        mlflow.log_table({"q": "c", "score": 0.25}, "eval/t.json")  # scalars: one row, appended
    with mlflow.start_run() as second:
        mlflow.log_table(pd.DataFrame({"q": ["d"], "score": [0.125]}), "eval/t.json")
    with mlflow.start_run():
        mlflow.log_text("not a table", "eval/other.txt")
    tags = mlflow.get_run(first.info.run_id).data.tags
    assert json.loads(tags["mlflow.loggedArtifacts"]) == [{"path": "eval/t.json", "type": "table"}]
    table = mlflow.load_table("eval/t.json", extra_columns=["run_id"])
    rows = sorted(map(tuple, table[["q", "score", "run_id"]].to_numpy().tolist()))
    assert rows == [
        ("a", 0.5, first.info.run_id),
        ("b", 0.75, first.info.run_id),
        ("c", 0.25, first.info.run_id),
        ("d", 0.125, second.info.run_id),
    ]
    only = mlflow.load_table("eval/t.json", run_ids=[second.info.run_id])
    assert only.to_dict("list") == {"q": ["d"], "score": [0.125]}
    with pytest.raises(NotFound, match="No runs found with the corresponding table"):
        mlflow.load_table("eval/missing.json")


def test_log_table_parquet_and_bad_input() -> None:
    with mlflow.start_run() as run:
        mlflow.log_table({"a": [1, 2]}, "t.parquet")
        with pytest.raises(InvalidParameter, match=r"either '\.json' or '\.parquet'"):
            mlflow.log_table({"a": [1]}, "t.csv")
        with pytest.raises(InvalidParameter, match=r"pandas\.DataFrame or a dictionary"):
            mlflow.log_table([1, 2], "t.json")
    table = mlflow.MlflowClient().load_table(
        run.info.experiment_id, "t.parquet", run_ids=[run.info.run_id]
    )
    assert table.to_dict("list") == {"a": [1, 2]}


def test_table_file_is_mlflow_s_format() -> None:
    """The JSON MLflow's log_table writes, read back by MLflow's own reader."""
    from mlflow import MlflowClient as OfficialClient

    frame = pd.DataFrame({"q": ["a"], "when": pd.to_datetime(["2024-01-02"]), "n": [3]})
    with mlflow.start_run() as run:
        mlflow.log_table(frame, "t.json")
    local = mlflow.MlflowClient().download_artifacts(run.info.run_id, "t.json")
    text = Path(local).read_text()
    assert text == frame.to_json(orient="split", index=False, date_format="iso")
    back = OfficialClient._read_from_file(None, local)  # type: ignore[arg-type]
    assert back["q"].tolist() == ["a"]
    assert back["n"].tolist() == [3]


def test_logged_model_lifecycle_and_search() -> None:
    exp = mlflow.set_experiment("models")
    with mlflow.start_run() as run:
        model = mlflow.initialize_logged_model(name="m1", params={"alpha": 1}, tags={"t": "x"})
        assert model.source_run_id == run.info.run_id
        assert mlflow.last_logged_model().model_id == model.model_id  # type: ignore[union-attr]
        mlflow.log_outputs([ModelOutput(model.model_id, 3)])
    mlflow.log_model_params({"beta": "2"}, model_id=model.model_id)
    mlflow.set_logged_model_tags(model.model_id, {"u": 1})
    mlflow.delete_logged_model_tag(model.model_id, "t")
    done = mlflow.finalize_logged_model(model.model_id, "READY")
    assert done.status == LoggedModelStatus.READY
    got = mlflow.get_logged_model(model.model_id)
    assert got.params == {"alpha": "1", "beta": "2"}
    assert got.tags == {"u": "1"}
    outputs = mlflow.get_run(run.info.run_id).outputs.model_outputs
    assert [(o.model_id, o.step) for o in outputs] == [(model.model_id, 3)]
    other = mlflow.initialize_logged_model(name="m2", experiment_id=exp.experiment_id)
    unnamed = [mlflow.initialize_logged_model(experiment_id="0") for _ in range(2)]
    assert unnamed[0].name != unnamed[1].name
    assert all(m.name.count("-") == 2 for m in unnamed)  # "bold-fox-123"
    listed = mlflow.search_logged_models(output_format="list")
    assert {m.model_id for m in listed} == {model.model_id, other.model_id}  # type: ignore[union-attr]
    named = mlflow.search_logged_models(filter_string="name = 'm2'", output_format="list")
    assert [m.model_id for m in named] == [other.model_id]  # type: ignore[union-attr]
    ordered = mlflow.search_logged_models(
        order_by=[{"field_name": "name", "ascending": False}], output_format="list"
    )
    assert [m.name for m in ordered] == ["m2", "m1"]  # type: ignore[union-attr]
    assert len(mlflow.search_logged_models(max_results=1, output_format="list")) == 1
    frame = mlflow.search_logged_models()
    assert isinstance(frame, pd.DataFrame)
    assert sorted(frame["name"]) == ["m1", "m2"]
    with pytest.raises(InvalidParameter, match="datasets filter"):
        mlflow.search_logged_models(datasets=[{"dataset_name": "d"}])
    with pytest.raises(InvalidParameter, match="needs model_id"):
        mlflow.log_model_params({"a": 1})


def test_last_logged_model_follows_log_model() -> None:
    from sklearn.linear_model import LinearRegression

    assert mlflow.last_logged_model() is None
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(LinearRegression().fit([[0], [1]], [0, 1]), name="lr")
    assert mlflow.last_logged_model().model_id == info.model_id  # type: ignore[union-attr]


def test_registry_searches_and_version_tag() -> None:
    for name in ("iris-a", "iris-b", "other"):
        mlflow.MlflowClient().create_registered_model(name)
    for _ in range(2):
        mlflow.MlflowClient().create_model_version("iris-a", "file:///tmp/m")
    names = [m.name for m in mlflow.search_registered_models(filter_string="name LIKE 'iris%'")]
    assert sorted(names) == ["iris-a", "iris-b"]
    assert len(mlflow.search_registered_models(max_results=2)) == 2
    versions = mlflow.search_model_versions(filter_string="name = 'iris-a'")
    assert sorted(v.version for v in versions) == ["1", "2"]
    mlflow.set_model_version_tag("iris-a", "2", "stage", "ok")
    assert mlflow.MlflowClient().get_model_version("iris-a", "2").tags == {"stage": "ok"}
    with pytest.raises(InvalidParameter, match="needs a version and a key"):
        mlflow.set_model_version_tag("iris-a", key="k", value="v")


def test_flush_artifact_async_logging_waits_for_pending_logging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOWX_ENABLE_ASYNC_LOGGING", "true")
    with mlflow.start_run() as run:
        mlflow.log_metric("m", 1.0)
        mlflow.flush_artifact_async_logging()
        assert mlflow.MlflowClient().get_run(run.info.run_id).data.metrics == {"m": 1.0}


def test_client_logged_model_artifacts(tmp_path: Path) -> None:
    client = mlflow.MlflowClient()
    model = mlflow.initialize_logged_model(name="files")
    (tmp_path / "weights.bin").write_bytes(b"w")
    client.log_model_artifact(model.model_id, tmp_path / "weights.bin")
    listed = client.list_logged_model_artifacts(model.model_id)
    assert [(f.path, f.is_dir) for f in listed] == [("weights.bin", False)]
    local = Path(client.download_logged_model(model.model_id, tmp_path / "dl"))
    assert (local / "weights.bin").read_bytes() == b"w"


def test_types_module_is_the_signature_schema() -> None:
    schema = mlflow.types.Schema([mlflow.types.ColSpec("double", "x")])
    assert schema.input_names() == ["x"]


def test_client_create_logged_model_without_a_name_generates_unique_ones() -> None:
    client = mlflow.MlflowClient()
    eid = client.create_experiment("unnamed-models")
    names = {client.create_logged_model(eid).name for _ in range(3)}
    assert len(names) == 3
    assert all(name and name != "model" for name in names)


def test_model_metrics_and_model_inputs() -> None:
    mlflow.set_experiment("model-metrics")
    with mlflow.start_run() as run:
        model = mlflow.initialize_logged_model(name="m")
        mlflow.log_metric("acc", 0.5, step=1, model_id=model.model_id)
        mlflow.log_metrics({"f1": 0.25}, model_id=model.model_id)
        mlflow.log_metric("loss", 1.0)
        mlflow.log_inputs(models=[mlflow.entities.LoggedModelInput(model.model_id)])
    metrics = mlflow.get_logged_model(model.model_id).metrics
    assert sorted((m.key, m.value, m.run_id) for m in metrics) == [
        ("acc", 0.5, run.info.run_id),
        ("f1", 0.25, run.info.run_id),
    ]
    inputs = mlflow.get_run(run.info.run_id).inputs.model_inputs
    assert [i.model_id for i in inputs] == [model.model_id]
