"""Tensor models (ONNX, PyTorch, Keras) in the scoring server: the tensor fast path answers
exactly what the general path answers (and what MLflow's scoring app answers), and leaves
every request it cannot take to the general path."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

import mlflowx.pyfunc
from mlflowx.serving.scoring import create_scoring_app
from mlflowx.serving.scoring.fastpath_tensor import TensorFastPath, tensor_fast_path
from tests.serving._scoring import MLFLOW_WARNINGS

JSON = {"Content-Type": "application/json"}

pytestmark = MLFLOW_WARNINGS


def _rows(n: int) -> Any:
    return np.random.default_rng(0).normal(size=(n, 4)).astype(np.float32)


def _onnx(path: Path) -> None:
    from onnx import TensorProto, helper, numpy_helper

    import mlflowx.onnx

    rng = np.random.default_rng(1)
    w1 = rng.normal(size=(4, 8)).astype(np.float32)
    w2 = rng.normal(size=(8, 3)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w1"], ["h"]),
            helper.make_node("Relu", ["h"], ["r"]),
            helper.make_node("MatMul", ["r", "w2"], ["y"]),
            helper.make_node("ArgMax", ["y"], ["label"], axis=1, keepdims=0),
        ],
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 3]),
            helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
        ],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    mlflowx.onnx.save_model(model, path, input_example=_rows(3))


def _pytorch(path: Path) -> None:
    import torch

    import mlflowx.pytorch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    mlflowx.pytorch.save_model(net, path, input_example=_rows(3))


def _keras(path: Path) -> None:
    import mlflowx.keras
    from mlflowx.models.flavors.keras import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)]
    )
    mlflowx.keras.save_model(model, path, input_example=_rows(3))


SAVERS: dict[str, Callable[[Path], None]] = {"onnx": _onnx, "pytorch": _pytorch, "keras": _keras}


def _bodies(rows: Any) -> dict[str, bytes]:
    as_list = rows.tolist()
    return {
        "inputs": json.dumps({"inputs": as_list}).encode(),
        "instances": json.dumps({"instances": as_list}).encode(),
        # Python's json writes float64 digits: numpy must round them to float32 alike.
        "float64": json.dumps({"inputs": rows.astype(np.float64).tolist()}).encode(),
        "ints": json.dumps({"inputs": np.rint(rows).astype(int).tolist()}).encode(),
    }


@pytest.mark.parametrize("flavor", sorted(SAVERS))
def test_fast_path_answers_what_the_general_path_answers(
    flavor: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SAVERS[flavor](tmp_path / "m")
    answers: dict[tuple[str, int, str], bytes] = {}
    for fast in ("1", "0"):
        monkeypatch.setenv("MLFLOWX_SCORING_FAST_PATH", fast)
        with TestClient(create_scoring_app(mlflowx.pyfunc.load_model(tmp_path / "m"))) as client:
            state = client.app.state.scoring  # type: ignore[attr-defined]
            assert isinstance(state.fast, TensorFastPath) is (fast == "1")
            for n in (1, 200):
                for name, body in _bodies(_rows(n)).items():
                    response = client.post("/invocations", content=body, headers=JSON)
                    assert response.status_code == 200, (name, response.text)
                    answers[fast, n, name] = response.content
    for (fast, n, name), content in answers.items():
        if fast == "1":
            assert json.loads(content) == json.loads(answers["0", n, name]), (n, name)
    # And both are the model's own predictions.
    model = mlflowx.pyfunc.load_model(tmp_path / "m")
    got = json.loads(answers["1", 200, "inputs"])["predictions"]
    expected = model.predict(_rows(200))
    if isinstance(expected, dict):
        assert set(got) == set(expected)
        for key, value in expected.items():
            np.testing.assert_array_equal(np.asarray(got[key], dtype=value.dtype), value)
    else:
        np.testing.assert_array_equal(np.asarray(got, dtype=expected.dtype), expected)


@pytest.mark.parametrize(
    "payload",
    [
        {"inputs": [[1.0, 2.0, 3.0]]},  # wrong width
        {"inputs": [1.0, 2.0, 3.0, 4.0]},  # wrong rank
        {"inputs": [[1.0, 2.0], [1.0, 2.0, 3.0, 4.0]]},  # ragged
        {"inputs": [["a", "b", "c", "d"]]},  # not numbers
        {"inputs": []},
        {"instances": [{"x": 1.0}]},  # records
        {"inputs": [[1.0, 2.0, 3.0, 4.0]], "params": {"a": 1}},
    ],
)
def test_requests_the_fast_path_declines_get_the_general_answer(
    payload: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _onnx(tmp_path / "m")
    body = json.dumps(payload).encode()
    answers = []
    for fast in ("1", "0"):
        monkeypatch.setenv("MLFLOWX_SCORING_FAST_PATH", fast)
        with TestClient(create_scoring_app(mlflowx.pyfunc.load_model(tmp_path / "m"))) as client:
            response = client.post("/invocations", content=body, headers=JSON)
            answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1]
    if "params" not in payload:
        assert answers[0][0] == 400


def test_no_fast_path_for_named_or_non_numeric_tensors(tmp_path: Path) -> None:
    import mlflowx.pytorch
    from mlflowx.models.schema import Schema, TensorSpec
    from mlflowx.models.signature import ModelSignature

    _pytorch(tmp_path / "plain")
    model = mlflowx.pyfunc.load_model(tmp_path / "plain")
    assert tensor_fast_path(model) is not None
    import torch

    net = torch.nn.Linear(4, 1)
    named = ModelSignature(Schema([TensorSpec(np.dtype("float32"), (-1, 4), "x")]))
    mlflowx.pytorch.save_model(net, tmp_path / "named", signature=named, input_example=_rows(2))
    assert tensor_fast_path(mlflowx.pyfunc.load_model(tmp_path / "named")) is None
    strings = ModelSignature(Schema([TensorSpec(np.dtype("str"), (-1, 4))]))
    mlflowx.pytorch.save_model(net, tmp_path / "str", signature=strings, input_example=_rows(2))
    assert tensor_fast_path(mlflowx.pyfunc.load_model(tmp_path / "str")) is None


@pytest.mark.parametrize("flavor", ["onnx", "pytorch"])
def test_same_answers_as_mlflow_scoring_app(
    flavor: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app ``mlflow models serve`` runs, on the same model directory and request bodies."""
    import mlflow.pyfunc
    from mlflow.pyfunc import scoring_server

    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    SAVERS[flavor](tmp_path / "m")
    theirs_app = scoring_server.init(mlflow.pyfunc.load_model(str(tmp_path / "m")))
    with (
        TestClient(theirs_app) as mlflow_client,
        TestClient(create_scoring_app(mlflowx.pyfunc.load_model(tmp_path / "m"))) as client,
    ):
        assert client.app.state.scoring.fast is not None  # type: ignore[attr-defined]
        for n in (1, 50):
            for name, body in _bodies(_rows(n)).items():
                theirs = mlflow_client.post("/invocations", content=body, headers=JSON)
                ours = client.post("/invocations", content=body, headers=JSON)
                assert ours.status_code == theirs.status_code == 200, (name, theirs.text)
                assert ours.json() == theirs.json(), (n, name)
