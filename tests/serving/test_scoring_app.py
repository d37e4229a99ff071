"""The scoring app in-process: formats, params, errors, health while loading, metadata."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from starlette.testclient import TestClient

import mlflowx
import mlflowx.pyfunc
import mlflowx.sklearn
from mlflowx.serving import create_scoring_app
from mlflowx.serving.scoring import ScoringConfig
from tests.serving._scoring import (
    IRIS_COLUMNS,
    bodies,
    save_custom,
    save_iris,
    save_mixed,
    save_regression,
    split_body,
)

JSON = {"Content-Type": "application/json"}


def _wait(client: TestClient, status: int, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/health")
        if response.status_code == status:
            return response.json() if response.status_code != 200 else {}
        assert time.monotonic() < deadline, response.text
        time.sleep(0.05)


@pytest.fixture(scope="module")
def iris_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("iris") / "model"
    save_iris(path)
    return path


@pytest.fixture
def iris_client(iris_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_scoring_app(mlflowx.pyfunc.load_model(iris_dir))) as client:
        yield client


@pytest.fixture
def custom_client(tmp_path: Path) -> Iterator[TestClient]:
    model = mlflowx.pyfunc.load_model(save_custom(tmp_path), allow_code=True)
    config = ScoringConfig(max_body_bytes=4096, timeout=0.5, inline_max_bytes=0)
    with TestClient(create_scoring_app(model, config=config)) as client:
        yield client


def _frame(rows: int = 5) -> pd.DataFrame:
    from sklearn.datasets import load_iris

    return load_iris(as_frame=True).data.iloc[45 : 45 + rows].reset_index(drop=True)


@pytest.mark.parametrize(
    "fmt",
    [
        "dataframe_split",
        "dataframe_split_reordered",
        "dataframe_records",
        "instances",
        "inputs",
        "csv",
        "json_charset",
    ],
)
@pytest.mark.parametrize("fast", ["1", "0"])
def test_every_format_predicts_like_the_model(
    fmt: str, fast: str, iris_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOWX_SCORING_FAST_PATH", fast)
    frame = _frame()
    expected = mlflowx.sklearn.load_model(iris_dir).predict(frame).tolist()
    content_type, body = bodies(frame)[fmt]
    with TestClient(create_scoring_app(mlflowx.pyfunc.load_model(iris_dir))) as client:
        assert (client.app.state.scoring.fast is not None) is (fast == "1")  # type: ignore[attr-defined]
        response = client.post("/invocations", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"predictions": expected}


def test_fast_path_is_bit_identical_to_the_dataframe_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Float outputs (a scaled Ridge pipeline), a 400-row batch: equal bytes on both paths."""
    X, model = save_regression(tmp_path / "m")
    answers = {}
    for fast in ("1", "0"):
        monkeypatch.setenv("MLFLOWX_SCORING_FAST_PATH", fast)
        with TestClient(create_scoring_app(mlflowx.pyfunc.load_model(tmp_path / "m"))) as client:
            assert (client.app.state.scoring.fast is not None) is (fast == "1")  # type: ignore[attr-defined]
            for name in ("dataframe_split", "dataframe_records"):
                response = client.post("/invocations", content=bodies(X)[name][1], headers=JSON)
                assert response.status_code == 200, response.text
                answers[fast, name] = response.content
    assert len(set(answers.values())) == 1
    # (Within an ulp of the in-memory frame: its memory layout differs from a parsed one.)
    np.testing.assert_allclose(
        json.loads(answers["1", "dataframe_split"])["predictions"], model.predict(X), rtol=1e-12
    )


def test_fast_path_only_for_positional_numeric_sklearn(tmp_path: Path) -> None:
    from mlflowx.serving.scoring.fastpath import sklearn_fast_path

    save_iris(tmp_path / "iris")
    save_mixed(tmp_path / "mixed")
    custom = save_custom(tmp_path / "custom")
    assert sklearn_fast_path(mlflowx.pyfunc.load_model(tmp_path / "iris")) is not None
    assert sklearn_fast_path(mlflowx.pyfunc.load_model(tmp_path / "mixed")) is None
    assert sklearn_fast_path(mlflowx.pyfunc.load_model(custom, allow_code=True)) is None


def test_typed_columns_through_a_column_transformer(tmp_path: Path) -> None:
    X, model = save_mixed(tmp_path / "m")
    with TestClient(create_scoring_app(mlflowx.pyfunc.load_model(tmp_path / "m"))) as client:
        for name, (content_type, body) in bodies(X).items():
            if name == "instances":
                continue  # MLflow turns string records into arrays of str; covered by parity
            response = client.post(
                "/invocations", content=body, headers={"Content-Type": content_type}
            )
            assert response.status_code == 200, (name, response.text)
            assert response.json() == {"predictions": model.predict(X).tolist()}, name


def test_params_reach_a_custom_model(custom_client: TestClient) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    plain = custom_client.post("/invocations", content=split_body(frame), headers=JSON)
    scaled = custom_client.post(
        "/invocations",
        content=split_body(frame, params={"scale": 10.0, "offset": 1}),
        headers=JSON,
    )
    # A Series comes back as records of its one column, as MLflow answers.
    assert plain.json() == {"predictions": [{"x": 1.0}, {"x": 2.0}]}
    assert scaled.json() == {"predictions": [{"x": 11.0}, {"x": 21.0}]}
    bad = custom_client.post(
        "/invocations", content=split_body(frame, params={"scale": "big"}), headers=JSON
    )
    assert bad.status_code == 400
    assert bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "scale" in bad.json()["message"]


VALID = split_body(pd.DataFrame([[5.1, 3.5, 1.4, 0.2]], columns=IRIS_COLUMNS))


@pytest.mark.parametrize(
    ("content_type", "body", "status", "code", "words"),
    [
        ("text/plain", VALID, 415, "BAD_REQUEST", "Content-Type"),
        ("application/json; charset=latin-1", VALID, 415, "BAD_REQUEST", "UTF-8"),
        ("application/json; format=pandas-split", VALID, 415, "BAD_REQUEST", "format"),
        (None, VALID, 415, "BAD_REQUEST", "Content-Type"),
        ("application/json", b"{not json", 400, "BAD_REQUEST", "not valid JSON"),
        ("application/json", b"\xff\xfe", 400, "BAD_REQUEST", "not valid JSON"),
        ("application/json", b"[1, 2]", 400, "BAD_REQUEST", "got a list"),
        ("application/json", b'{"data": [[1, 2]]}', 400, "BAD_REQUEST", "exactly one"),
        (
            "application/json",
            b'{"inputs": [1], "instances": [1]}',
            400,
            "BAD_REQUEST",
            "exactly one",
        ),
        (
            "application/json",
            b'{"dataframe_split": {"columns": ["a"]}}',
            400,
            "BAD_REQUEST",
            "'data'",
        ),
        ("application/json", b'{"dataframe_records": {"a": 1}}', 400, "BAD_REQUEST", "records"),
        (
            "application/json",
            json.dumps({"dataframe_records": [{"sepal length (cm)": 1.0}]}).encode(),
            400,
            "INVALID_PARAMETER_VALUE",
            "sepal width (cm)",
        ),
        (
            "application/json",
            json.dumps(
                {"dataframe_split": {"columns": IRIS_COLUMNS, "data": [["x", 1.0, 1.0, 1.0]]}}
            ).encode(),
            400,
            "BAD_REQUEST",
            "sepal length (cm)",
        ),
        ("text/csv", b"a,b\n1,2\n", 400, "INVALID_PARAMETER_VALUE", "sepal length (cm)"),
        ("text/csv", b"\xff\xfe", 400, "BAD_REQUEST", "UTF-8"),
    ],
)
def test_bad_requests_get_mlflow_statuses_and_the_server_keeps_serving(
    iris_client: TestClient,
    content_type: str | None,
    body: bytes,
    status: int,
    code: str,
    words: str,
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = iris_client.post("/invocations", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error_code"] == code
    assert words in response.json()["message"]
    ok = iris_client.post("/invocations", content=VALID, headers=JSON)
    assert ok.status_code == 200
    assert ok.json() == {"predictions": [0]}


def test_body_over_the_limit_is_413(custom_client: TestClient) -> None:
    big = split_body(pd.DataFrame({"x": [1.0] * 2000}))
    assert len(big) > 4096
    response = custom_client.post("/invocations", content=big, headers=JSON)
    assert response.status_code == 413
    assert "MLFLOWX_SCORING_MAX_BODY_MB" in response.json()["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while reading
        for i in range(0, len(big), 1000):
            yield big[i : i + 1000]

    response = custom_client.post("/invocations", content=chunks(), headers=JSON)
    assert response.status_code == 413
    ok = custom_client.post(
        "/invocations", content=split_body(pd.DataFrame({"x": [1.0]})), headers=JSON
    )
    assert ok.json() == {"predictions": [{"x": 1.0}]}


def test_model_errors_are_400_and_the_server_keeps_serving(custom_client: TestClient) -> None:
    response = custom_client.post(
        "/invocations", content=split_body(pd.DataFrame({"x": [-1.0]})), headers=JSON
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "BAD_REQUEST"
    assert "ValueError" in response.json()["message"]
    assert "x must not be -1" in response.json()["message"]
    unserializable = custom_client.post(
        "/invocations", content=split_body(pd.DataFrame({"x": [-3.0]})), headers=JSON
    )
    assert unserializable.status_code == 500
    assert unserializable.json()["error_code"] == "INTERNAL_ERROR"
    ok = custom_client.post(
        "/invocations", content=split_body(pd.DataFrame({"x": [2.0]})), headers=JSON
    )
    assert ok.json() == {"predictions": [{"x": 2.0}]}


def test_slow_prediction_times_out_with_504(custom_client: TestClient) -> None:
    response = custom_client.post(
        "/invocations", content=split_body(pd.DataFrame({"x": [-2.0]})), headers=JSON
    )
    assert response.status_code == 504
    assert "MLFLOWX_SCORING_SERVER_REQUEST_TIMEOUT" in response.json()["message"]
    ok = custom_client.post(
        "/invocations", content=split_body(pd.DataFrame({"x": [3.0]})), headers=JSON
    )
    assert ok.json() == {"predictions": [{"x": 3.0}]}


def test_health_fails_until_the_model_is_loaded(tmp_path: Path) -> None:
    path = save_custom(tmp_path, hold=True)
    with TestClient(create_scoring_app(str(path), background=True, allow_code=True)) as client:
        for route in ("/health", "/ping"):
            response = client.get(route)
            assert response.status_code == 503
            assert response.json()["status"] == "loading"
        refused = client.post(
            "/invocations", content=split_body(pd.DataFrame({"x": [1.0]})), headers=JSON
        )
        assert refused.status_code == 503
        assert refused.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
        (path / "hold").unlink()
        _wait(client, 200)
        assert client.get("/ping").status_code == 200
        ok = client.post(
            "/invocations", content=split_body(pd.DataFrame({"x": [1.0]})), headers=JSON
        )
        assert ok.json() == {"predictions": [{"x": 1.0}]}


def test_a_model_that_fails_to_load_is_never_healthy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "no-such-model"
    with (
        caplog.at_level(logging.ERROR, logger="mlflowx.serving"),
        TestClient(create_scoring_app(str(missing))) as client,
    ):
        body = _wait(client, 503)
        assert body["status"] == "failed"
        assert str(missing) in body["error"]
        assert client.get("/health").status_code == 503
        response = client.post("/invocations", content=b"{}", headers=JSON)
        assert response.status_code == 503
        assert "failed to load" in response.json()["message"]
    assert f"Failed to load model {missing}" in caplog.text


def test_version_and_ping(iris_client: TestClient) -> None:
    assert iris_client.get("/ping").status_code == 200
    assert iris_client.get("/health").status_code == 200
    assert iris_client.get("/version").text == mlflowx.__version__


def test_metadata_of_a_registered_model_version(tmp_path: Path) -> None:
    X, model = save_iris(tmp_path / "unused")
    with mlflowx.start_run() as run:
        info = mlflowx.sklearn.log_model(
            model, name="clf", input_example=X.head(2), registered_model_name="iris-clf"
        )
    client = mlflowx.MlflowxClient()
    client.set_registered_model_alias("iris-clf", "champion", "1")
    with TestClient(create_scoring_app("models:/iris-clf@champion")) as http:
        _wait(http, 200)
        meta = http.get("/metadata").json()
    assert meta["model_uri"] == "models:/iris-clf@champion"
    assert meta["registered_model"] == {"name": "iris-clf", "version": "1", "alias": "champion"}
    assert meta["run_id"] == run.info.run_id
    assert meta["model_id"] == info.model_id
    assert set(meta["flavors"]) == {"python_function", "sklearn"}
    assert [c["name"] for c in meta["signature"]["inputs"]] == IRIS_COLUMNS
    assert meta["model_uuid"]


def test_unified_llm_input_is_passed_as_is(tmp_path: Path) -> None:
    code = tmp_path / "echo.py"
    code.write_text(
        "import mlflowx.models\n"
        "class Echo:\n"
        "    def predict(self, model_input, params=None):\n"
        "        return {'got': sorted(model_input), 'params': params}\n"
        "mlflowx.models.set_model(Echo())\n"
    )
    mlflowx.pyfunc.save_model(tmp_path / "m", python_model=str(code))
    model = mlflowx.pyfunc.load_model(tmp_path / "m", allow_code=True)
    with TestClient(create_scoring_app(model)) as client:
        response = client.post(
            "/invocations",
            content=json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode(),
            headers=JSON,
        )
    assert response.json() == {"got": ["messages"], "params": None}


def test_the_scoring_app_imports_only_the_serving_extra(iris_dir: Path) -> None:
    """A scoring image installs the serving extra only: no SQL stack, no Prefect, no MLflow."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from starlette.testclient import TestClient\n"
        "from mlflowx.serving import create_scoring_app\n"
        f"with TestClient(create_scoring_app({str(iris_dir)!r})) as c:\n"
        "    assert c.get('/health').status_code == 200\n"
        # (Not dask: scikit-learn's array-API shim imports it whenever it is installed.)
        "heavy = ('sqlalchemy', 'sqlmodel', 'alembic', 'prefect', 'mlflow', 'docker')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout
