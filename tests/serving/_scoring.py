"""Models and request bodies shared by the scoring server tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

#: MLflow's own warnings while loading and serving models in parity tests: not ours.
MLFLOW_WARNINGS = [
    pytest.mark.filterwarnings("ignore::UserWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::FutureWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:pydantic.*"),
]

IRIS_COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]

# A custom model from code (no pickle): scales column x by the `scale` param, adds `offset`.
# Its load blocks while a "hold" file named by the model config exists (for load-order tests)
# and it raises on x == -1 (for error tests), sleeps on x == -2 (for timeouts).
MODEL_CODE = """
import time
from pathlib import Path

import mlflowx.models


class Scaler:
    def predict(self, model_input, params=None):
        params = params or {}
        if (model_input["x"] == -1).any():
            raise ValueError("x must not be -1")
        if (model_input["x"] == -2).any():
            time.sleep(3)
        if (model_input["x"] == -3).any():
            return object()
        return model_input["x"] * params.get("scale", 1) + params.get("offset", 0)


hold = Path(__file__).with_name("hold")
while hold.exists():
    time.sleep(0.05)
mlflowx.models.set_model(Scaler())
"""


def iris() -> tuple[pd.DataFrame, Any]:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, LogisticRegression(max_iter=1000).fit(X, y)


def save_iris(path: Path, **kwargs: Any) -> tuple[pd.DataFrame, Any]:
    import mlflowx.sklearn

    X, model = iris()
    mlflowx.sklearn.save_model(model, path, input_example=X.head(3), **kwargs)
    return X, model


def save_regression(path: Path) -> tuple[pd.DataFrame, Any]:
    """A model with float outputs: exact equality checks catch any numeric drift."""
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import mlflowx.sklearn

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = make_pipeline(StandardScaler(), Ridge()).fit(X, y)
    mlflowx.sklearn.save_model(model, path, input_example=X.head(3))
    return X, model


def mixed_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5],
            "n": [1, 2, 3, 4, 5, 6],
            "color": ["red", "blue", "red", "green", "blue", "green"],
        }
    )


def save_mixed(path: Path) -> tuple[pd.DataFrame, Any]:
    """Typed columns through a ColumnTransformer: the general (DataFrame) path."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    import mlflowx.sklearn

    X = mixed_frame()
    y = [0, 1, 0, 1, 1, 0]
    pre = ColumnTransformer([("color", OneHotEncoder(), ["color"])], remainder="passthrough")
    model = make_pipeline(pre, LogisticRegression()).fit(X, y)
    mlflowx.sklearn.save_model(model, path, input_example=X.head(3))
    return X, model


def save_custom(root: Path, hold: bool = False) -> Path:
    """The custom model from code, with a signature declaring params scale and offset."""
    import mlflowx.pyfunc
    from mlflowx.models.signature import infer_signature

    root.mkdir(parents=True, exist_ok=True)
    code = root / "scaler_code.py"
    code.write_text(MODEL_CODE)
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    signature = infer_signature(frame, frame["x"], params={"scale": 1.0, "offset": 0})
    path = root / "custom"
    mlflowx.pyfunc.save_model(path, python_model=str(code), signature=signature)
    if hold:
        (path / "hold").touch()  # loading waits until the test removes it
    return path


def split_body(frame: pd.DataFrame, **extra: Any) -> bytes:
    # json.dumps, not DataFrame.to_json: the latter rounds floats to 10 digits.
    split = {"columns": list(frame.columns), "data": frame.to_numpy().tolist()}
    if len(frame.dtypes.unique()) > 1:  # mixed types: keep each column's own type
        split["data"] = [list(row) for row in frame.itertuples(index=False)]
    return json.dumps({"dataframe_split": split, **extra}, default=_scalar).encode()


def _scalar(value: Any) -> Any:
    return value.item()


def bodies(frame: pd.DataFrame) -> dict[str, tuple[str, bytes]]:
    """The same rows in every request format: name -> (content type, body)."""
    records = json.loads(json.dumps(frame.to_dict(orient="records"), default=_scalar))
    columns = {str(c): frame[c].tolist() for c in frame.columns}
    return {
        "dataframe_split": ("application/json", split_body(frame)),
        "dataframe_split_reordered": (
            "application/json",
            split_body(frame[list(reversed(frame.columns))]),
        ),
        "dataframe_records": (
            "application/json",
            json.dumps({"dataframe_records": records}).encode(),
        ),
        "instances": ("application/json", json.dumps({"instances": records}).encode()),
        "inputs": ("application/json", json.dumps({"inputs": columns}).encode()),
        "csv": ("text/csv", frame.to_csv(index=False).encode()),
        "json_charset": ("application/json; charset=utf-8", split_body(frame)),
    }


# A model from code as someone else could upload it: loading it runs model.py, which leaves
# a marker file behind (so a test sees whether the code ran).
EVIL = """
from pathlib import Path

import mlflowx.models

Path({marker!r}).write_text("ran")


class Echo:
    def predict(self, model_input, params=None):
        return model_input


mlflowx.models.set_model(Echo())
"""


def code_model(root: Path, marker: Path) -> Path:
    """An MLmodel naming a model.py that runs on load (as uploaded by someone else)."""
    path = root / "evil-model"
    path.mkdir(parents=True)
    (path / "model.py").write_text(EVIL.format(marker=str(marker)))
    mlmodel = {
        "flavors": {
            "python_function": {
                "loader_module": "mlflow.pyfunc.loaders.code_model",
                "model_code_path": "model.py",
            }
        }
    }
    (path / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    return path


def same_answer_on_both_paths(
    load: Callable[[], Any],
    batches: Mapping[str, pd.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, bytes]:
    """Score every batch in every request format with the scoring fast path on and off (the
    model from ``load()``); require one answer per batch, byte for byte, and return it."""
    from fastapi.testclient import TestClient

    from mlflowx.serving.scoring import create_scoring_app

    answers: dict[tuple[str, str, str], bytes] = {}
    for fast in ("1", "0"):
        monkeypatch.setenv("MLFLOWX_SCORING_FAST_PATH", fast)
        with TestClient(create_scoring_app(load())) as client:
            state = client.app.state.scoring  # type: ignore[attr-defined]
            assert (state.fast is not None) is (fast == "1")
            for size, frame in batches.items():
                for name, (content_type, body) in bodies(frame).items():
                    response = client.post(
                        "/invocations", content=body, headers={"Content-Type": content_type}
                    )
                    assert response.status_code == 200, (name, response.text)
                    answers[fast, size, name] = response.content
    sent: dict[str, bytes] = {}
    for size in batches:
        distinct = {v for (_, s, _), v in answers.items() if s == size}
        assert len(distinct) == 1, size  # every format, both paths: the same bytes
        sent[size] = next(iter(distinct))
    return sent
