"""The sklearn flavor: skops by default, pickle only when allowed, the MLmodel MLflow writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import mlflowx.pyfunc
import mlflowx.sklearn
from mlflowx.exceptions import AlreadyExists, InvalidParameter


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


@pytest.fixture(scope="module")
def model(iris: tuple[pd.DataFrame, pd.Series]) -> object:
    X, y = iris
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)


def test_save_writes_mlflow_layout(model: object, tmp_path: Path) -> None:
    mlflowx.sklearn.save_model(model, tmp_path / "m")
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == ["MLmodel", "conda.yaml", "model.skops", "python_env.yaml", "requirements.txt"]
    mlmodel = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert mlmodel["flavors"]["sklearn"]["serialization_format"] == "skops"
    assert mlmodel["flavors"]["sklearn"]["pickled_model"] == "model.skops"
    assert mlmodel["flavors"]["python_function"]["loader_module"] == "mlflow.sklearn"
    assert mlmodel["flavors"]["python_function"]["env"]["virtualenv"] == "python_env.yaml"
    assert mlmodel["model_size_bytes"] > 0
    reqs = (tmp_path / "m" / "requirements.txt").read_text().split()
    names = {r.split("==")[0] for r in reqs}
    assert {"scikit-learn", "skops", "numpy"} <= names
    assert not names & {"mlflowx", "mlflow", "fastapi", "prefect", "uvicorn"}
    assert all("==" in r for r in reqs)
    env = yaml.safe_load((tmp_path / "m" / "python_env.yaml").read_text())
    assert env["dependencies"] == ["-r requirements.txt"]


def test_round_trip_predicts_the_same(model: object, iris: tuple, tmp_path: Path) -> None:
    X, _ = iris
    mlflowx.sklearn.save_model(model, tmp_path / "m")
    native = mlflowx.sklearn.load_model(tmp_path / "m")
    assert type(native) is type(model)
    expected = model.predict(X)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(mlflowx.pyfunc.load_model(tmp_path / "m").predict(X), expected)


def test_existing_directory_is_refused(model: object, tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "keep.txt").write_text("data")
    with pytest.raises(AlreadyExists, match="already exists"):
        mlflowx.sklearn.save_model(model, tmp_path / "m")
    assert (tmp_path / "m" / "keep.txt").read_text() == "data"


def test_pickle_formats_need_explicit_permission(
    model: object, iris: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOWX_ALLOW_PICKLE_DESERIALIZATION", raising=False)
    monkeypatch.delenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", raising=False)
    X, _ = iris
    for fmt in ("cloudpickle", "pickle"):
        path = tmp_path / fmt
        mlflowx.sklearn.save_model(model, path, serialization_format=fmt)
        with pytest.raises(InvalidParameter, match="allow_pickle=True"):
            mlflowx.pyfunc.load_model(path)
        loaded = mlflowx.pyfunc.load_model(path, allow_pickle=True)
        assert len(loaded.predict(X)) == len(X)
    monkeypatch.setenv("MLFLOWX_ALLOW_PICKLE_DESERIALIZATION", "true")
    assert mlflowx.sklearn.load_model(tmp_path / "pickle") is not None


def test_unknown_serialization_format(model: object, tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match="serialization_format"):
        mlflowx.sklearn.save_model(model, tmp_path / "m", serialization_format="joblib")


def _double(x: np.ndarray) -> np.ndarray:
    return x * 2


def test_untrusted_types_are_listed_and_can_be_trusted(iris: tuple, tmp_path: Path) -> None:
    X, y = iris
    pipe = make_pipeline(FunctionTransformer(_double), LogisticRegression(max_iter=500)).fit(X, y)
    with pytest.raises(InvalidParameter, match=r"outside skops' trusted set: .*_double"):
        mlflowx.sklearn.save_model(pipe, tmp_path / "m")
    trusted = [f"{__name__}._double"]
    mlflowx.sklearn.save_model(pipe, tmp_path / "m2", skops_trusted_types=trusted)
    with pytest.raises(InvalidParameter, match=r"declares them as trusted.*trusted_types="):
        mlflowx.pyfunc.load_model(tmp_path / "m2")
    loaded = mlflowx.pyfunc.load_model(tmp_path / "m2", trusted_types=trusted)
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))


def test_unknown_loader_module_is_never_imported(model: object, tmp_path: Path) -> None:
    mlflowx.sklearn.save_model(model, tmp_path / "m")
    mlmodel = tmp_path / "m" / "MLmodel"
    data = yaml.safe_load(mlmodel.read_text())
    del data["flavors"]["sklearn"]
    data["flavors"]["python_function"]["loader_module"] = "os"
    mlmodel.write_text(yaml.safe_dump(data))
    with pytest.raises(InvalidParameter, match="never imports the module"):
        mlflowx.pyfunc.load_model(tmp_path / "m")
