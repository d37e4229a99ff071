"""Custom models: PythonModel subclasses with artifacts, and models from code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mlflowx
import mlflowx.pyfunc
from mlflowx.exceptions import InvalidParameter


class AddN(mlflowx.pyfunc.PythonModel):
    def load_context(self, context: mlflowx.pyfunc.PythonModelContext) -> None:
        self.n = json.loads(Path(context.artifacts["config"]).read_text())["n"]

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> Any:
        scale = (params or {}).get("scale", 1)
        return (model_input["x"] + self.n) * scale


class NoContext(mlflowx.pyfunc.PythonModel):
    def predict(self, model_input: Any, params: Any = None) -> Any:  # type: ignore[override]
        return [len(model_input)]


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"n": 10}))
    return path


def test_python_model_with_artifacts_round_trip(tmp_path: Path) -> None:
    mlflowx.pyfunc.save_model(
        tmp_path / "m", python_model=AddN(), artifacts={"config": str(_config(tmp_path))}
    )
    loaded = mlflowx.pyfunc.load_model(tmp_path / "m", allow_pickle=True)
    out = loaded.predict(pd.DataFrame({"x": [1, 2]}), params={"scale": 2})
    assert list(out) == [22, 24]
    assert isinstance(loaded.unwrap_python_model(), AddN)
    assert (tmp_path / "m" / "artifacts" / "config.json").is_file()


def test_pickled_python_model_needs_permission(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOWX_ALLOW_PICKLE_DESERIALIZATION", raising=False)
    monkeypatch.delenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", raising=False)
    mlflowx.pyfunc.save_model(tmp_path / "m", python_model=NoContext())
    with pytest.raises(InvalidParameter, match="allow_pickle"):
        mlflowx.pyfunc.load_model(tmp_path / "m")
    assert mlflowx.pyfunc.load_model(tmp_path / "m", allow_pickle=True).predict([1, 2, 3]) == [3]


def test_model_from_code_needs_no_pickle(tmp_path: Path) -> None:
    code = tmp_path / "model_code.py"
    code.write_text(
        "import mlflowx.models\n"
        "class Upper:\n"
        "    def predict(self, model_input, params=None):\n"
        "        return [s.upper() for s in model_input]\n"
        "mlflowx.models.set_model(Upper())\n"
    )
    mlflowx.pyfunc.save_model(tmp_path / "m", python_model=str(code))
    assert not (tmp_path / "m" / "python_model.pkl").exists()
    loaded = mlflowx.pyfunc.load_model(tmp_path / "m", allow_code=True)
    assert loaded.predict(["a", "b"]) == ["A", "B"]


def test_model_code_must_call_set_model(tmp_path: Path) -> None:
    code = tmp_path / "bad.py"
    code.write_text("x = 1\n")
    mlflowx.pyfunc.save_model(tmp_path / "m", python_model=str(code))
    with pytest.raises(InvalidParameter, match="set_model"):
        mlflowx.pyfunc.load_model(tmp_path / "m", allow_code=True)


def test_log_custom_model_and_load_by_uri(tmp_path: Path) -> None:
    with mlflowx.start_run() as run:
        info = mlflowx.pyfunc.log_model(
            name="adder", python_model=AddN(), artifacts={"config": str(_config(tmp_path))}
        )
    assert info.model_id.startswith("m-")
    assert info.run_id == run.info.run_id
    for uri in (info.model_uri, f"runs:/{run.info.run_id}/adder"):
        loaded = mlflowx.pyfunc.load_model(uri, allow_pickle=True)
        assert list(loaded.predict(pd.DataFrame({"x": [0]}))) == [10]
