"""Input examples: the files MLflow 3.17 writes, byte for byte, and reading each other's models."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import yaml

from mlflowx.exceptions import InvalidParameter
from mlflowx.models.example import (
    load_input_example,
    load_input_example_params,
    load_serving_input_example,
    save_input_example,
    split_input_example,
)
from mlflowx.models.signature import ModelSignature, infer_signature


def mlflow_modules() -> dict[str, ModuleType]:
    with warnings.catch_warnings():
        # Importing mlflow.pyfunc warns that mlflow's own agent types use `Any` type hints;
        # checked: about mlflow's code, not ours.
        warnings.filterwarnings("ignore", message=".*Any type hint is inferred as AnyType")
        import mlflow.models
        import mlflow.models.utils
        import mlflow.pyfunc
        import mlflow.sklearn
    return {"models": mlflow.models, "utils": mlflow.models.utils, "sklearn": mlflow.sklearn}


@contextlib.contextmanager
def mlflow_quietly() -> Iterator[None]:
    """Filters for warnings mlflow itself triggers; checked, none is about mlflowx."""
    with warnings.catch_warnings():
        # mlflow compares DataFrame columns with a range, which pandas 3 deprecates for strings.
        warnings.filterwarnings("ignore", message="Operation with range is deprecated")
        # mlflow hints that integer columns cannot hold missing values (signature inference).
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        yield


def mlflow_example_files(example: Any, path: Path) -> dict[str, Any]:
    with mlflow_quietly():
        written = mlflow_modules()["utils"]._Example(example)
    path.mkdir(parents=True)
    written.save(str(path))
    info: dict[str, Any] = written.info
    return info


EXAMPLES: dict[str, Any] = {
    "dataframe": pd.DataFrame(
        {
            "a": [1, 2],
            "b": [1.5, np.nan],
            "c": ["x", None],
            "d": [b"ab", b"c"],
            "e": pd.to_datetime(["2020-01-01 00:00", "2020-01-02 10:30"]),
            "f": [True, False],
        }
    ),
    "dataframe-float32": pd.DataFrame({"a": np.array([1.1, 2.2], dtype="float32")}),
    "dataframe-int-columns": pd.DataFrame([[1, 2], [3, 4]]),
    "dataframe-lists": pd.DataFrame({"a": [[1, 2], [3]], "b": [{"k": 1}, {"k": 2}]}),
    "ndarray": np.array([[1.0, np.nan], [2, 3]]),
    "ndarray-int": np.array([1, 2]),
    "ndarray-str": np.array(["a", "b"]),
    "ndarray-bool": np.array([[True, False]]),
    "dict-of-arrays": {"a": np.zeros((2, 2)), "b": np.array([1, 2])},
    "dict": {"a": "x", "b": [1, 2], "c": {"d": None}},
    "list": ["a", "b"],
    "list-of-dicts": [{"a": 1}, {"a": 2.5}],
    "str": "hello",
    "int": 3,
    "np-float": np.float32(1.5),
    "datetime": dt.datetime(2020, 1, 1, 12),
    "csr": scipy.sparse.csr_matrix(np.array([[0, 1.5], [2, 0]])),
    "csc": scipy.sparse.csc_matrix(np.array([[0, 1], [2, 0]])),
    "chat": {"messages": [{"role": "user", "content": "hi"}]},
    "dataframe-with-params": (pd.DataFrame({"a": [1]}), {"p": 1, "q": [1.5]}),
    "ndarray-with-params": (np.array([1, 2]), {"p": "x"}),
    "chat-with-params": ({"messages": [{"role": "user", "content": "hi"}]}, {"temperature": 0.1}),
}


@pytest.mark.parametrize("example", list(EXAMPLES.values()), ids=list(EXAMPLES))
def test_files_are_the_ones_mlflow_writes(example: Any, tmp_path: Path) -> None:
    theirs = mlflow_example_files(example, tmp_path / "mlflow")

    info = save_input_example(example, tmp_path / "mlflowx")

    assert info == theirs
    assert list(info) == list(theirs)
    for name in ("input_example.json", "serving_input_example.json"):
        ours = (tmp_path / "mlflowx" / name).read_text()
        assert ours == (tmp_path / "mlflow" / name).read_text(), name


def test_dataframe_info_and_serving_body(tmp_path: Path) -> None:
    info = save_input_example(pd.DataFrame({"x": [1.0], "y": ["a"]}), tmp_path)

    assert info == {
        "artifact_path": "input_example.json",
        "type": "dataframe",
        "pandas_orient": "split",
        "serving_input_path": "serving_input_example.json",
    }
    assert json.loads((tmp_path / "serving_input_example.json").read_text()) == {
        "dataframe_split": {"columns": ["x", "y"], "data": [[1.0, "a"]]}
    }
    assert (
        load_serving_input_example(tmp_path, info)
        == (tmp_path / "serving_input_example.json").read_text()
    )


@pytest.mark.parametrize(
    ("example", "message"),
    [
        ({"a": np.zeros(2), "b": [1]}, r"only numpy arrays.*\['b'\]"),
        ([np.zeros(2)], "inside a list"),
        (pd.Series([1, 2]), "got Series"),
        (dt.date(2020, 1, 1), "got date"),
        ((np.zeros(2), {"p": None}), "'p'"),
    ],
    ids=["mixed-dict", "array-in-list", "series", "date", "bad-params"],
)
def test_unsupported_examples_are_refused(example: Any, message: str, tmp_path: Path) -> None:
    with mlflow_quietly(), pytest.raises(Exception, match=r"."):
        mlflow_modules()["utils"]._Example(example)

    with pytest.raises(InvalidParameter, match=message):
        save_input_example(example, tmp_path)


# ---------------------------------------------------------------------------- reading back


def test_dataframe_round_trip_restores_types(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "i": np.array([1, 2], dtype="int32"),
            "f": np.array([0.5, 1.5], dtype="float32"),
            "s": ["x", "y"],
            "b": [b"\x00\x01", b"z"],
            "t": pd.to_datetime(["2020-01-01 00:00", "2021-06-30 12:00"]).astype("datetime64[ns]"),
        }
    )
    signature = infer_signature(df)
    info = save_input_example(df, tmp_path)

    loaded = load_input_example(tmp_path, info, signature.inputs)

    pd.testing.assert_frame_equal(loaded, df)


def test_dataframe_loads_without_a_schema(tmp_path: Path) -> None:
    df = pd.DataFrame({"x": [1.5, 2.5], "y": ["a", "b"]})
    info = save_input_example(df, tmp_path)

    pd.testing.assert_frame_equal(load_input_example(tmp_path, info), df)


@pytest.mark.parametrize(
    "example",
    [np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1, 2], dtype="int32"), np.array(["a", "b"])],
    ids=["float64", "int32", "str"],
)
def test_ndarray_round_trip(example: np.ndarray, tmp_path: Path) -> None:
    info = save_input_example(example, tmp_path)

    loaded = load_input_example(tmp_path, info, infer_signature(example).inputs)

    np.testing.assert_array_equal(loaded, example)
    assert loaded.dtype == example.dtype


def test_dict_of_arrays_round_trip(tmp_path: Path) -> None:
    example = {"a": np.zeros((2, 3), dtype="float32"), "b": np.array([1, 2])}
    info = save_input_example(example, tmp_path)

    loaded = load_input_example(tmp_path, info, infer_signature(example).inputs)

    assert list(loaded) == ["a", "b"]
    for name, array in example.items():
        np.testing.assert_array_equal(loaded[name], array)
        assert loaded[name].dtype == array.dtype


@pytest.mark.parametrize(
    "example",
    [{"q": "why?", "k": [1, 2]}, [{"a": 1}, {"a": 2}], ["x", "y"], "text", 7],
    ids=["dict", "list-of-dicts", "list", "str", "int"],
)
def test_json_round_trip(example: Any, tmp_path: Path) -> None:
    info = save_input_example(example, tmp_path)

    assert info["type"] == "json_object"
    assert load_input_example(tmp_path, info) == example


def test_sparse_round_trip(tmp_path: Path) -> None:
    example = scipy.sparse.csc_matrix(np.array([[0, 1.5], [2, 0]]))
    info = save_input_example(example, tmp_path)

    loaded = load_input_example(tmp_path, info)

    assert isinstance(loaded, scipy.sparse.csc_matrix)
    np.testing.assert_array_equal(loaded.toarray(), example.toarray())


def test_params_are_saved_and_loaded_apart(tmp_path: Path) -> None:
    info = save_input_example((pd.DataFrame({"a": [1]}), {"temperature": 0.5}), tmp_path)

    assert info["params"] == "true"
    pd.testing.assert_frame_equal(load_input_example(tmp_path, info), pd.DataFrame({"a": [1]}))
    assert load_input_example_params(tmp_path, info) == {"temperature": 0.5}
    assert json.loads((tmp_path / "serving_input_example.json").read_text()) == {
        "dataframe_split": {"columns": ["a"], "data": [[1]]},
        "params": {"temperature": 0.5},
    }


def test_signatures_come_from_the_original_data_not_the_json(tmp_path: Path) -> None:
    df = pd.DataFrame({"f": np.array([0.5], dtype="float32"), "t": pd.to_datetime(["2020-01-01"])})
    info = save_input_example((df, {"k": 2}), tmp_path)

    data, params = split_input_example((df, {"k": 2}))

    assert params == {"k": 2}
    assert infer_signature(data, params=params).to_dict() == {
        "inputs": '[{"type": "float", "name": "f", "required": true}, '
        '{"type": "datetime", "name": "t", "required": true}]',
        "outputs": None,
        "params": '[{"name": "k", "default": 2, "shape": null, "type": "long"}]',
    }
    # Read back without the signature, JSON has lost the float32 and datetime dtypes.
    assert infer_signature(load_input_example(tmp_path, info)).inputs != infer_signature(df).inputs
    assert split_input_example(df) == (df, None)


def test_unknown_example_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match="Unknown input example type 'tensor'"):
        load_input_example(tmp_path, {"artifact_path": "input_example.json", "type": "tensor"})


# ---------------------------------------------------------------------------- with MLflow


def mlflow_saved_sklearn(example: Any, path: Path) -> dict[str, Any]:
    from sklearn.linear_model import LinearRegression

    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.5, 0.1, 0.2]})
    # Fitted on the example's kind of data, or sklearn warns about feature names when MLflow
    # predicts on the example to infer the signature.
    model = LinearRegression().fit(
        X if isinstance(example, pd.DataFrame) else X.to_numpy(), [1, 2, 3]
    )
    sklearn = mlflow_modules()["sklearn"]
    with mlflow_quietly():
        sklearn.save_model(model, str(path), input_example=example, pip_requirements=["sklearn"])
    mlmodel: dict[str, Any] = yaml.safe_load((path / "MLmodel").read_text())
    return mlmodel


@pytest.mark.parametrize(
    "example",
    [
        pd.DataFrame({"a": [1.0, 2.0], "b": [0.5, 0.25]}),
        np.array([[1.0, 0.5], [2.0, 0.25]]),
    ],
    ids=["dataframe", "ndarray"],
)
def test_examples_of_models_mlflow_saved_load_here(example: Any, tmp_path: Path) -> None:
    mlmodel = mlflow_saved_sklearn(example, tmp_path / "model")
    theirs = mlflow_modules()["models"].Model.load(str(tmp_path / "model"))
    expected = theirs.load_input_example(str(tmp_path / "model"))
    signature = ModelSignature.from_dict(mlmodel["signature"])

    loaded = load_input_example(
        tmp_path / "model", mlmodel["saved_input_example_info"], signature.inputs
    )

    assert signature.to_dict() == mlmodel["signature"]
    if isinstance(example, pd.DataFrame):
        pd.testing.assert_frame_equal(loaded, expected)
        pd.testing.assert_frame_equal(loaded, example)
    else:
        np.testing.assert_array_equal(loaded, expected)
        assert loaded.dtype == expected.dtype


@pytest.mark.parametrize(
    "example",
    [
        pd.DataFrame(
            {
                "x": [1.5, 2.5],
                "s": ["a", "b"],
                "t": pd.to_datetime(["2020-01-01", "2020-01-02"]).astype("datetime64[ns]"),
            }
        ),
        np.array([[1, 2], [3, 4]], dtype="int32"),
        {"a": np.zeros((2, 3), dtype="float32"), "b": np.array([1, 2])},
        [{"q": "a", "n": 1}, {"q": "b", "n": 2}],
    ],
    ids=["dataframe", "ndarray", "dict-of-arrays", "list-of-dicts"],
)
def test_mlflow_loads_examples_saved_here(example: Any, tmp_path: Path) -> None:
    info = save_input_example(example, tmp_path)
    signature = infer_signature(example)
    model = mlflow_modules()["models"].Model(
        saved_input_example_info=info,
        signature=mlflow_modules()["models"].ModelSignature.from_dict(signature.to_dict()),
    )

    theirs = model.load_input_example(str(tmp_path))
    ours = load_input_example(tmp_path, info, signature.inputs)

    if isinstance(example, pd.DataFrame):
        pd.testing.assert_frame_equal(theirs, ours)
        pd.testing.assert_frame_equal(ours, example)
    elif isinstance(example, dict):
        assert list(theirs) == list(ours) == list(example)
        for name in example:
            np.testing.assert_array_equal(theirs[name], example[name])
            assert ours[name].dtype == theirs[name].dtype == example[name].dtype
    elif isinstance(example, np.ndarray):
        np.testing.assert_array_equal(theirs, example)
        assert ours.dtype == theirs.dtype == example.dtype
    else:
        assert theirs == ours == example
