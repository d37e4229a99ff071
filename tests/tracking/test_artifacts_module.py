"""``mlflowx.artifacts``: MLflow's download/list/load functions by URI or run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mlflowx as mlflow
from mlflowx.exceptions import InvalidParameter


@pytest.fixture
def run_id() -> str:
    with mlflow.start_run() as run:
        mlflow.log_text("hello", "notes/a.txt")
        mlflow.log_dict({"k": [1, 2]}, "conf/c.json")
        mlflow.log_dict({"y": "z"}, "conf/c.yaml")
        mlflow.log_image(np.zeros((2, 3, 3), dtype=np.uint8), "img/i.png")
        mlflow.log_stream(__import__("io").BytesIO(b"\xff\xfe"), "bin/b.bin")
    return run.info.run_id


def test_load_text_dict_image(run_id: str) -> None:
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/a.txt") == "hello"
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/conf/c.json") == {"k": [1, 2]}
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/conf/c.yaml") == {"y": "z"}
    image = mlflow.artifacts.load_image(f"runs:/{run_id}/img/i.png")
    assert image.size == (3, 2)
    with pytest.raises(InvalidParameter, match="not UTF-8"):
        mlflow.artifacts.load_text(f"runs:/{run_id}/bin/b.bin")
    with pytest.raises(InvalidParameter, match="is a directory"):
        mlflow.artifacts.load_text(f"runs:/{run_id}/notes")


def test_download_artifacts_by_run_and_by_uri(run_id: str, tmp_path: Path) -> None:
    every = Path(mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=tmp_path / "all"))
    assert sorted(p.relative_to(every).as_posix() for p in every.rglob("*") if p.is_file()) == [
        "bin/b.bin",
        "conf/c.json",
        "conf/c.yaml",
        "img/i.png",
        "notes/a.txt",
    ]
    folder = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="conf")
    assert sorted(p.name for p in Path(folder).iterdir()) == ["c.json", "c.yaml"]
    one = mlflow.artifacts.download_artifacts(f"runs:/{run_id}/notes/a.txt", dst_path=tmp_path)
    assert Path(one).read_text() == "hello"
    # A store URI, as get_artifact_uri gives it
    uri = mlflow.MlflowClient().get_artifact_uri(run_id, "notes/a.txt")
    direct = mlflow.artifacts.download_artifacts(uri, dst_path=tmp_path / "direct")
    assert Path(direct).read_text() == "hello"
    with pytest.raises(InvalidParameter, match="Exactly one of `run_id` or `artifact_uri`"):
        mlflow.artifacts.download_artifacts()
    with pytest.raises(InvalidParameter, match="`artifact_path` cannot be specified"):
        mlflow.artifacts.download_artifacts("runs:/x/y", artifact_path="z")


def test_list_artifacts(run_id: str) -> None:
    top = mlflow.artifacts.list_artifacts(run_id=run_id)
    assert [(f.path, f.is_dir) for f in top] == [
        ("bin", True),
        ("conf", True),
        ("img", True),
        ("notes", True),
    ]
    under = mlflow.artifacts.list_artifacts(f"runs:/{run_id}/conf")
    assert sorted(f.path for f in under) == ["c.json", "c.yaml"]
    in_run = mlflow.artifacts.list_artifacts(run_id=run_id, artifact_path="conf")
    assert sorted(f.path for f in in_run) == ["conf/c.json", "conf/c.yaml"]


def test_model_uris(tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    with mlflow.start_run():
        info = mlflow.sklearn.log_model(LinearRegression().fit([[0], [1]], [0, 1]), name="lr")
    mlflow.register_model(info.model_uri, "lr-model")
    for uri in (info.model_uri, "models:/lr-model/1"):
        listed = {f.path for f in mlflow.artifacts.list_artifacts(uri)}
        assert "MLmodel" in listed, uri
        local = Path(mlflow.artifacts.download_artifacts(uri, dst_path=tmp_path / uri[-1]))
        assert (local / "MLmodel").is_file()
    assert "flavors" in mlflow.artifacts.load_text(f"{info.model_uri}/MLmodel")
