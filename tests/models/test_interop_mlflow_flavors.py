"""Interop with the real MLflow 3.17 for the pytorch, keras, onnx and statsmodels flavors, both
ways: what one saves, the other loads (native and pyfunc) and predicts the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import torch

import mlflowx.keras
import mlflowx.onnx
import mlflowx.pyfunc
import mlflowx.pytorch
import mlflowx.statsmodels
from mlflowx.models.flavors.keras import import_keras
from tests.models.test_onnx_flavor import B, W, linear_model
from tests.models.test_pytorch_flavor import Net

# MLflow itself warns (type-hint inference, pip/env probing, pickle caution) while saving.
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::FutureWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:mlflow.*"),
]

X = np.random.default_rng(1).random((6, 4), dtype=np.float32)


@pytest.fixture(autouse=True)
def _mlflow_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_DEFAULT_PREDICTION_DEVICE", "cpu")


@pytest.fixture(scope="module")
def net() -> Net:
    torch.manual_seed(1)
    return Net()


def _torch(net: Net) -> np.ndarray:
    with torch.no_grad():
        return net(torch.from_numpy(X)).numpy()


def test_pytorch_pt2_both_ways_without_pickle(net: Net, tmp_path: Path) -> None:
    import mlflow.pyfunc
    import mlflow.pytorch

    # Neither side allows pickle: each one's archive check accepts the other's pt2 file.
    mlflowx.pytorch.save_model(net, tmp_path / "ours", input_example=X)
    theirs = mlflow.pyfunc.load_model(str(tmp_path / "ours")).predict(X)
    np.testing.assert_allclose(theirs, _torch(net), rtol=1e-6)
    native = mlflow.pytorch.load_model(str(tmp_path / "ours"))
    np.testing.assert_allclose(native(torch.from_numpy(X)).detach().numpy(), _torch(net), rtol=1e-6)

    mlflow.pytorch.save_model(net, str(tmp_path / "theirs"), input_example=X)
    assert (tmp_path / "theirs" / "data" / "model.pt2").is_file()
    ours = mlflowx.pyfunc.load_model(tmp_path / "theirs").predict(X)
    np.testing.assert_allclose(ours, _torch(net), rtol=1e-6)


def test_pytorch_pickle_both_ways(
    net: Net, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow.pyfunc
    import mlflow.pytorch

    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")  # MLflow's own opt-in
    mlflowx.pytorch.save_model(net, tmp_path / "ours", serialization_format="pickle")
    theirs = mlflow.pyfunc.load_model(str(tmp_path / "ours")).predict(X)
    np.testing.assert_allclose(theirs, _torch(net), rtol=1e-6)

    mlflow.pytorch.save_model(net, str(tmp_path / "theirs"), serialization_format="pickle")
    ours = mlflowx.pytorch.load_model(tmp_path / "theirs", allow_pickle=True)
    np.testing.assert_allclose(ours(torch.from_numpy(X)).detach().numpy(), _torch(net), rtol=1e-6)


def test_pytorch_state_dict_both_ways(net: Net, tmp_path: Path) -> None:
    import mlflow.pytorch

    mlflowx.pytorch.save_state_dict(net.state_dict(), tmp_path / "ours")
    mlflow.pytorch.save_state_dict(net.state_dict(), str(tmp_path / "theirs"))
    for path in (tmp_path / "ours", tmp_path / "theirs"):
        fresh = Net()
        fresh.load_state_dict(mlflowx.pytorch.load_state_dict(path))
        np.testing.assert_allclose(_torch(fresh), _torch(net))


def test_onnx_both_ways(tmp_path: Path) -> None:
    import mlflow.onnx
    import mlflow.pyfunc

    mlflowx.onnx.save_model(linear_model(), tmp_path / "ours", input_example=X)
    theirs: Any = mlflow.pyfunc.load_model(str(tmp_path / "ours")).predict(X)
    np.testing.assert_allclose(theirs["y"], X @ W + B, rtol=1e-6)
    assert mlflow.onnx.load_model(str(tmp_path / "ours")).graph.name == "linear"

    mlflow.onnx.save_model(linear_model(), str(tmp_path / "theirs"), input_example=X)
    ours = mlflowx.pyfunc.load_model(tmp_path / "theirs").predict(X)
    np.testing.assert_allclose(ours["y"], theirs["y"], rtol=1e-6)


def test_statsmodels_both_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow.pyfunc
    import mlflow.statsmodels

    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    rng = np.random.default_rng(0)
    data = pd.DataFrame(rng.random((30, 2)), columns=["a", "b"])
    data.insert(0, "const", 1.0)
    results = sm.OLS(data @ [0.5, 1.0, 2.0], data).fit()
    mlflowx.statsmodels.save_model(results, tmp_path / "ours", input_example=data.head(2))
    theirs = mlflow.pyfunc.load_model(str(tmp_path / "ours")).predict(data)
    np.testing.assert_allclose(theirs, results.predict(data))

    mlflow.statsmodels.save_model(results, str(tmp_path / "theirs"), input_example=data.head(2))
    ours = mlflowx.pyfunc.load_model(tmp_path / "theirs", allow_pickle=True).predict(data)
    np.testing.assert_allclose(ours, results.predict(data))


def test_keras_both_ways(tmp_path: Path) -> None:
    keras = import_keras()
    import mlflow.keras
    import mlflow.pyfunc

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)]
    )
    expected = model.predict(X, verbose=0)
    mlflowx.keras.save_model(model, tmp_path / "ours", input_example=X)
    theirs = mlflow.pyfunc.load_model(str(tmp_path / "ours")).predict(X)
    np.testing.assert_allclose(theirs, expected, rtol=1e-5)
    native = mlflow.keras.load_model(str(tmp_path / "ours"))
    np.testing.assert_allclose(native.predict(X, verbose=0), expected, rtol=1e-5)

    # (MLflow 3.17's keras save_model writes an input example before it makes the directory.)
    mlflow.keras.save_model(model, str(tmp_path / "theirs"))
    ours = mlflowx.pyfunc.load_model(tmp_path / "theirs").predict(X)
    np.testing.assert_allclose(ours, expected, rtol=1e-5)
