"""``mlflowx models serve`` as a real subprocess, through ``start_scoring_server``."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pandas as pd
import psutil
import pytest

import mlflowx
import mlflowx.sklearn
from mlflowx.exceptions import InvalidParameter, InvalidState
from mlflowx.serving import start_scoring_server
from tests.serving._scoring import iris, save_custom, save_iris


def test_two_workers_serve_and_stop(tmp_path: Path) -> None:
    X, model = save_iris(tmp_path / "m")
    frame = X.iloc[:20]
    with start_scoring_server(tmp_path / "m", workers=2, timeout=240) as server:
        assert server.url == f"http://127.0.0.1:{server.port}"
        # uvicorn's supervisor and one spawned process per worker.
        assert len(psutil.Process(server.pid).children(recursive=True)) >= 2
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: server.predict(frame), range(40)))
        assert all(a == model.predict(frame).tolist() for a in answers)
        # Records format and params pass through too.
        records = {"dataframe_records": frame.head(2).to_dict(orient="records")}
        assert server.predict(records) == model.predict(frame.head(2)).tolist()
        with pytest.raises(InvalidParameter, match="missing inputs"):
            server.predict({"dataframe_records": [{"sepal length (cm)": 1.0}]})
        assert server.health().status_code == 200
        pid = server.pid
    assert not server.is_running()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_registered_model_by_alias(tmp_path: Path) -> None:
    X, model = iris()
    with mlflowx.start_run():
        mlflowx.sklearn.log_model(
            model, name="clf", input_example=X.head(2), registered_model_name="served"
        )
    mlflowx.MlflowxClient().set_registered_model_alias("served", "champion", "1")
    with start_scoring_server("models:/served@champion", timeout=240) as server:
        assert server.predict(X.head(3)) == model.predict(X.head(3)).tolist()
        meta = httpx.get(server.url + "/metadata").json()
        assert meta["registered_model"]["version"] == "1"


def test_a_model_that_cannot_load_fails_fast_with_the_reason(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(InvalidState, match="could not load") as info:
        start_scoring_server(tmp_path / "missing", timeout=240)
    assert str(tmp_path / "missing") in str(info.value)
    assert time.monotonic() - started < 200


def test_predict_sends_a_dataframe_as_split(tmp_path: Path) -> None:
    save_iris(tmp_path / "m")
    frame = pd.DataFrame([[5.1, 3.5, 1.4, 0.2]], columns=iris()[0].columns)
    with start_scoring_server(tmp_path / "m", port=0, timeout=240) as server:
        assert server.predict(frame) == [0]
        assert server.predict(frame.to_csv(index=False), content_type="text/csv") == [0]


def test_health_fails_until_the_model_is_loaded(tmp_path: Path) -> None:
    """The worker accepts no connection until its model is loaded; then /health is 200."""
    import subprocess
    import sys

    from tests.fixtures.server import free_port

    path = save_custom(tmp_path, hold=True)  # loading waits while path/"hold" exists
    port = free_port()
    log = tmp_path / "serve.log"
    cmd = [str(Path(sys.executable).parent / "mlflowx"), "models", "serve", "-m", str(path),
           "--port", str(port), "--allow-code"]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while "Loading model" not in log.read_text():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        for _ in range(10):  # held: never healthy
            with pytest.raises(httpx.HTTPError, match=r"refused|503"):
                httpx.get(url + "/health", timeout=2).raise_for_status()
            time.sleep(0.1)
        (path / "hold").unlink()
        while True:
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        body = {"dataframe_split": {"columns": ["x"], "data": [[2.0]]}, "params": {"scale": 2.0}}
        answer = httpx.post(url + "/invocations", json=body, timeout=30)
        assert answer.json() == {"predictions": [{"x": 4.0}]}
    finally:
        proc.terminate()
        proc.wait(30)
