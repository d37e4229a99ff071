"""Signatures inferred while saving come from the original example, as MLflow infers them.

The example read back from ``input_example.json`` has lost float32/int32 (JSON has one number
type), so inferring from it gave ``double``/``long`` where MLflow writes ``float``/``integer``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LinearRegression, LogisticRegression

import mlflowx.pyfunc
import mlflowx.sklearn

# MLflow itself warns (type-hint inference, pip/env probing) while saving; those are its own.
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::FutureWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:mlflow.*"),
]


@pytest.fixture(autouse=True)
def _mlflow_may_load(monkeypatch: pytest.MonkeyPatch) -> None:
    # MLflow 3.17 refuses to deserialize any sklearn model (skops included) without this.
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")


def typed_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "f32": rng.normal(size=20).astype("float32"),
            "i32": rng.integers(0, 10, size=20).astype("int32"),
            "f64": rng.normal(size=20),
            "i64": rng.integers(0, 10, size=20),
        }
    )


def fitted(kind: str, X: pd.DataFrame) -> Any:
    if kind == "regressor":
        return LinearRegression().fit(X, X["f64"] * 2 + X["i32"])
    return LogisticRegression(max_iter=500).fit(X, (X["f32"] > 0).astype(int))


def mlflow_save(model: Any, path: Path, example: Any) -> None:
    import mlflow.sklearn

    # pip_requirements only skips MLflow's requirement inference (a ~30 s subprocess that loads
    # the model); it changes neither the signature nor the input example.
    mlflow.sklearn.save_model(model, str(path), input_example=example, pip_requirements=[])


def mlmodel(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((path / "MLmodel").read_text())
    return loaded


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_signature_matches_mlflow_for_float32_and_int32_columns(kind: str, tmp_path: Path) -> None:
    X = typed_frame()
    model = fitted(kind, X)
    example = X.head(5)

    mlflowx.sklearn.save_model(model, tmp_path / "ours", input_example=example)
    mlflow_save(model, tmp_path / "theirs", example)

    ours, theirs = mlmodel(tmp_path / "ours"), mlmodel(tmp_path / "theirs")
    assert ours["signature"] == theirs["signature"]
    assert ours["saved_input_example_info"] == theirs["saved_input_example_info"]
    inputs = {c["name"]: c["type"] for c in json.loads(ours["signature"]["inputs"])}
    assert inputs == {"f32": "float", "i32": "integer", "f64": "double", "i64": "long"}
    outputs = json.loads(ours["signature"]["outputs"])
    assert outputs == [{"type": "double" if kind == "regressor" else "long", "required": True}]

    expected = model.predict(X)
    pyfunc = mlflowx.pyfunc.load_model(tmp_path / "ours")
    native = mlflowx.sklearn.load_model(tmp_path / "ours")
    np.testing.assert_array_equal(pyfunc.predict(X), expected)
    np.testing.assert_array_equal(native.predict(X), expected)


def test_example_params_get_a_param_schema_as_in_mlflow(tmp_path: Path) -> None:
    X = typed_frame()
    model = fitted("regressor", X)
    example = (X.head(5), {"threshold": 0.5, "label": "a"})

    mlflowx.sklearn.save_model(model, tmp_path / "ours", input_example=example)
    mlflow_save(model, tmp_path / "theirs", example)

    ours, theirs = mlmodel(tmp_path / "ours"), mlmodel(tmp_path / "theirs")
    assert ours["signature"] == theirs["signature"]
    assert ours["signature"]["params"] is not None
    assert ours["saved_input_example_info"] == theirs["saved_input_example_info"]
    np.testing.assert_array_equal(
        mlflowx.pyfunc.load_model(tmp_path / "ours").predict(X, {"threshold": 0.1}),
        model.predict(X),
    )
