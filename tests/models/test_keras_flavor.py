"""The keras flavor: the .keras format with safe_mode, on the torch backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlflowx.keras
import mlflowx.pyfunc
from mlflowx.exceptions import InvalidParameter, UntrustedModel
from mlflowx.models.flavors.keras import import_keras
from mlflowx.models.mlmodel import Model

keras = import_keras()
X = np.random.default_rng(0).random((6, 4), dtype=np.float32)


def _model(*layers: object) -> object:
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((4,)), *layers, keras.layers.Dense(2)])


def test_round_trip_on_the_torch_backend(tmp_path: Path) -> None:
    model = _model(keras.layers.Dense(8, activation="relu"))
    info = mlflowx.keras.save_model(model, tmp_path / "m", input_example=X)
    conf = info.flavors["keras"]
    assert conf["keras_backend"] == keras.backend.backend() == "torch"
    assert conf["save_exported_model"] is False
    assert (tmp_path / "m" / "data" / "model.keras").is_file()
    assert "torch==" in (tmp_path / "m" / "requirements.txt").read_text()
    expected = model.predict(X, verbose=0)
    loaded = mlflowx.pyfunc.load_model(tmp_path / "m")
    np.testing.assert_allclose(loaded.predict(X), expected, rtol=1e-5)
    mlflowx.keras.save_model(model, tmp_path / "loose")  # no signature: the frame goes through
    frame = mlflowx.pyfunc.load_model(tmp_path / "loose").predict(
        pd.DataFrame(X, index=list("abcdef"))
    )
    assert list(frame.index) == list("abcdef")
    np.testing.assert_allclose(frame.to_numpy(), expected, rtol=1e-5)
    native = mlflowx.keras.load_model(tmp_path / "m")
    np.testing.assert_allclose(native.predict(X, verbose=0), expected, rtol=1e-5)


def test_lambda_layer_needs_safe_mode_off_and_allow_code(tmp_path: Path) -> None:
    model = _model(keras.layers.Lambda(lambda t: t * 2.0))
    mlflowx.keras.save_model(model, tmp_path / "m")
    with pytest.raises(ValueError, match="safe_mode"):  # Keras refuses the lambda's bytecode
        mlflowx.pyfunc.load_model(tmp_path / "m")
    with pytest.raises(UntrustedModel, match=r"safe_mode=False.*allow_code=True"):
        mlflowx.keras.load_model(tmp_path / "m", safe_mode=False)
    loaded = mlflowx.keras.load_model(tmp_path / "m", safe_mode=False, allow_code=True)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-5)


def test_exported_saved_model_is_refused(tmp_path: Path) -> None:
    mlflowx.keras.save_model(_model(), tmp_path / "m")
    meta = Model.load(tmp_path / "m")
    meta.flavors["keras"]["save_exported_model"] = True  # what MLflow writes for a SavedModel
    meta.save(tmp_path / "m" / "MLmodel")
    with pytest.raises(InvalidParameter, match="TensorFlow SavedModel"):
        mlflowx.keras.load_model(tmp_path / "m")


def test_not_a_keras_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match=r"must be a keras\.Model"):
        mlflowx.keras.save_model(object(), tmp_path / "m")
