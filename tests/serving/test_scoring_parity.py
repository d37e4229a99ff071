"""Parity with the real MLflow (test extra): the same model and request bodies get the same
predictions (and error statuses) from ``mlflow models serve`` and from mlflowx's scoring app.

The sklearn model is served by ``mlflow models serve --env-manager local`` in a subprocess
(started once for the module); the other models go through MLflow's scoring app in-process
(``mlflow.pyfunc.scoring_server.init``), which is what that command runs under uvicorn.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from starlette.testclient import TestClient

import mlflowx.pyfunc
from mlflowx.serving import create_scoring_app
from tests.fixtures.server import free_port
from tests.serving._scoring import IRIS_COLUMNS, bodies, save_iris, save_mixed, save_regression

pytestmark = [
    # One `mlflow models serve` per xdist worker is slow enough: keep the module together.
    pytest.mark.xdist_group("mlflow-models-serve"),
    # MLflow's own warnings while loading and serving (type hints, env probing): not ours.
    pytest.mark.filterwarnings("ignore::UserWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::FutureWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:pydantic.*"),
]

BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def _mlflow_may_load(monkeypatch: pytest.MonkeyPatch) -> None:
    # MLflow 3.17 refuses to deserialize any sklearn model (skops included) without this.
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")


@pytest.fixture(scope="module")
def iris_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("iris-parity") / "model"
    save_iris(path)
    return path


@pytest.fixture(scope="module")
def mlflow_serve(iris_dir: Path) -> Iterator[str]:
    """``mlflow models serve`` for the iris model; slow to start, so once per module."""
    port = free_port()
    log = iris_dir.parent / "mlflow-serve.log"
    env = {
        **os.environ,
        "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        # MLflow execs `uvicorn` by name: it must find this environment's.
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    cmd = [
        str(BIN / "mlflow"), "models", "serve", "-m", str(iris_dir), "--env-manager", "local",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                cwd=iris_dir.parent, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, f"mlflow models serve exited:\n{log.read_text()}"
            try:
                if httpx.get(url + "/ping", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"not up in 300 s:\n{log.read_text()}"
            time.sleep(0.2)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)


def _mlflow_app(path: Path) -> Any:
    import mlflow.pyfunc
    from mlflow.pyfunc import scoring_server

    return scoring_server.init(mlflow.pyfunc.load_model(str(path)))


def _ours(path: Path, monkeypatch: pytest.MonkeyPatch, fast: str) -> TestClient:
    monkeypatch.setenv("MLFLOWX_SCORING_FAST_PATH", fast)
    model = mlflowx.pyfunc.load_model(path, allow_pickle=True)
    return TestClient(create_scoring_app(model))


def _frame() -> pd.DataFrame:
    from sklearn.datasets import load_iris

    return load_iris(as_frame=True).data.sample(40, random_state=1).reset_index(drop=True)


FORMATS = [
    "dataframe_split",
    "dataframe_split_reordered",
    "dataframe_records",
    "instances",
    "inputs",
    "csv",
    "json_charset",
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("fast", ["1", "0"])
def test_same_predictions_as_mlflow_models_serve(
    fmt: str, fast: str, iris_dir: Path, mlflow_serve: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    content_type, body = bodies(_frame())[fmt]
    headers = {"Content-Type": content_type}
    theirs = httpx.post(mlflow_serve + "/invocations", content=body, headers=headers, timeout=60)
    with _ours(iris_dir, monkeypatch, fast) as client:
        ours = client.post("/invocations", content=body, headers=headers)
    assert theirs.status_code == ours.status_code == 200, (theirs.text, ours.text)
    assert ours.json() == theirs.json()
    assert len(ours.json()["predictions"]) == 40


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b"1,2"),
        ("application/json; charset=latin-1", b"{}"),
        ("application/json", b"{not json"),
        ("application/json", b"[1, 2]"),
        ("application/json", b'{"data": [[1, 2]]}'),
        ("application/json", json.dumps({"dataframe_records": [{"a": 1.0}]}).encode()),
        (
            "application/json",
            json.dumps(
                {"dataframe_split": {"columns": IRIS_COLUMNS, "data": [["x", 1.0, 1.0, 1.0]]}}
            ).encode(),
        ),
        ("text/csv", b"a,b\n1,2\n"),
    ],
)
def test_same_error_statuses_as_mlflow(
    content_type: str,
    body: bytes,
    iris_dir: Path,
    mlflow_serve: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    headers = {"Content-Type": content_type}
    theirs = httpx.post(mlflow_serve + "/invocations", content=body, headers=headers, timeout=60)
    with _ours(iris_dir, monkeypatch, "1") as client:
        ours = client.post("/invocations", content=body, headers=headers)
    assert ours.status_code == theirs.status_code, (theirs.text, ours.text)
    if theirs.headers["content-type"].startswith("application/json"):
        assert ours.json()["error_code"] == theirs.json()["error_code"]


@pytest.mark.parametrize("kind", ["regression", "mixed"])
def test_same_predictions_as_mlflow_scoring_app(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Float outputs must match to the bit (regression), typed columns through a
    ColumnTransformer too (mixed)."""
    X, _ = (save_regression if kind == "regression" else save_mixed)(tmp_path / "m")
    with TestClient(_mlflow_app(tmp_path / "m")) as mlflow_client:
        for fast in ("1", "0"):
            with _ours(tmp_path / "m", monkeypatch, fast) as client:
                for name, (content_type, body) in bodies(X).items():
                    headers = {"Content-Type": content_type}
                    theirs = mlflow_client.post("/invocations", content=body, headers=headers)
                    ours = client.post("/invocations", content=body, headers=headers)
                    assert ours.status_code == theirs.status_code, (name, theirs.text, ours.text)
                    if theirs.status_code == 200:
                        assert ours.json() == theirs.json(), (fast, name)


def test_custom_model_with_params_like_mlflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow.pyfunc
    from mlflow.models import infer_signature

    class Affine(mlflow.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> Any:
            params = params or {}
            out = model_input["x"] * params.get("scale", 1.0) + params.get("offset", 0)
            return pd.DataFrame({"y": out, "tag": [params.get("tag", "none")] * len(out)})

    frame = pd.DataFrame({"x": [1.0, 2.5, -4.0]})
    signature = infer_signature(
        frame,
        pd.DataFrame({"y": [1.0], "tag": ["a"]}),
        params={"scale": 1.0, "offset": 0, "tag": "none"},
    )
    mlflow.pyfunc.save_model(str(tmp_path / "m"), python_model=Affine(), signature=signature)
    requests = [
        {"dataframe_split": {"columns": ["x"], "data": [[1.0], [2.5], [-4.0]]}},
        {"dataframe_records": [{"x": 1.0}], "params": {"scale": 3.0, "offset": 2, "tag": "t"}},
        {"inputs": {"x": [1.0, 2.0]}, "params": {"scale": 0.5}},
        {"instances": [{"x": 7.0}], "params": {"offset": -1}},
        {"dataframe_split": {"columns": ["x"], "data": [[1.0]]}, "params": {"scale": "big"}},
    ]
    with (
        TestClient(_mlflow_app(tmp_path / "m")) as mlflow_client,
        _ours(tmp_path / "m", monkeypatch, "1") as client,
    ):
        for request in requests:
            body = json.dumps(request).encode()
            headers = {"Content-Type": "application/json"}
            theirs = mlflow_client.post("/invocations", content=body, headers=headers)
            ours = client.post("/invocations", content=body, headers=headers)
            assert ours.status_code == theirs.status_code, (request, theirs.text, ours.text)
            if theirs.status_code == 200:
                assert ours.json() == theirs.json(), request
            else:
                assert ours.json()["error_code"] == theirs.json()["error_code"]
