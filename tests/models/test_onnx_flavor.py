"""The onnx flavor: onnxruntime inference, MLflow's input/output conventions, no opt-in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest
from onnx import TensorProto, helper, numpy_helper

import mlflowx.onnx
import mlflowx.pyfunc
from mlflowx.exceptions import InvalidParameter

W = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
B = np.array([0.5, -1.0, 2.0], dtype=np.float32)


def linear_model(weights: np.ndarray = W) -> onnx.ModelProto:
    """y = x @ W + B, built by hand (no converter needed)."""
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["xw"]),
            helper.make_node("Add", ["xw", "B"], ["y"]),
        ],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, weights.shape[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, weights.shape[1]])],
        [numpy_helper.from_array(weights, "W"), numpy_helper.from_array(B, "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


X = np.random.default_rng(0).random((5, 4), dtype=np.float32)


def test_round_trip_and_predict_shapes(tmp_path: Path) -> None:
    info = mlflowx.onnx.save_model(linear_model(), tmp_path / "m", input_example=X)
    assert info.flavors["onnx"]["data"] == "model.onnx"
    assert info.flavors["onnx"]["providers"] == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert info.flavors["python_function"]["loader_module"] == "mlflow.onnx"
    model = mlflowx.pyfunc.load_model(tmp_path / "m")
    out = model.predict(X)
    np.testing.assert_allclose(out["y"], X @ W + B, rtol=1e-6)
    # Without a signature, a DataFrame goes through (one column per output, flattened as
    # MLflow does), and float64 input (what JSON gives) is cast for a float model.
    mlflowx.onnx.save_model(linear_model(), tmp_path / "loose")
    loose = mlflowx.pyfunc.load_model(tmp_path / "loose")
    frame = loose.predict(pd.DataFrame(X.astype(np.float64)))
    assert list(frame.columns) == ["y"]
    np.testing.assert_allclose(frame["y"].to_numpy(), (X @ W + B).reshape(-1), rtol=1e-6)
    native = mlflowx.onnx.load_model(tmp_path / "m")
    assert isinstance(native, onnx.ModelProto)
    assert native.graph.name == "linear"


def test_external_data_stays_inside_the_model(tmp_path: Path) -> None:
    big = np.ones((300, 3), dtype=np.float32)  # above onnx's 1 KiB external-data threshold
    mlflowx.onnx.save_model(linear_model(big), tmp_path / "m")
    assert any(p.suffix == ".data" for p in (tmp_path / "m").iterdir())  # the tensors, apart
    data = np.ones((2, 300), dtype=np.float32)
    out = mlflowx.pyfunc.load_model(tmp_path / "m").predict(data)
    np.testing.assert_allclose(out["y"], data @ big + B, rtol=1e-5)
    # A crafted model naming a file outside its directory is refused before onnxruntime reads it.
    model = onnx.load(str(tmp_path / "m" / "model.onnx"), load_external_data=False)
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = "../../etc/passwd"
    onnx.save_model(model, str(tmp_path / "m" / "model.onnx"), save_as_external_data=False)
    with pytest.raises(InvalidParameter, match="climbs out of the model directory"):
        mlflowx.pyfunc.load_model(tmp_path / "m")


def test_session_options_and_providers_are_kept(tmp_path: Path) -> None:
    mlflowx.onnx.save_model(
        linear_model(),
        tmp_path / "m",
        onnx_execution_providers=["CPUExecutionProvider"],
        onnx_session_options={"intra_op_num_threads": 1, "execution_mode": "sequential"},
    )
    model = mlflowx.pyfunc.load_model(tmp_path / "m")
    session = model.unwrap_python_model()
    assert session.get_providers() == ["CPUExecutionProvider"]
    assert session.get_session_options().intra_op_num_threads == 1


def test_multi_input_model_takes_a_dict_or_columns(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["s"])],
        "add",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, [None]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, [None]),
        ],
        [helper.make_tensor_value_info("s", TensorProto.FLOAT, [None])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    mlflowx.onnx.save_model(model, tmp_path / "m")
    loaded = mlflowx.pyfunc.load_model(tmp_path / "m")
    a, b = np.array([1.0, 2.0], np.float32), np.array([3.0, 4.0], np.float32)
    np.testing.assert_array_equal(loaded.predict({"a": a, "b": b})["s"], a + b)
    frame = loaded.predict(pd.DataFrame({"a": a, "b": b}))
    np.testing.assert_array_equal(frame["s"].to_numpy(), a + b)
    with pytest.raises(InvalidParameter, match="has 2 inputs"):
        loaded.predict(a)


def test_not_a_model_proto_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match=r"must be an onnx\.ModelProto"):
        mlflowx.onnx.save_model(b"bytes", tmp_path / "m")
