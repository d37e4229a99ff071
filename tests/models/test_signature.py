"""Signatures: MLflow's MLmodel format, inference and enforcement, checked against mlflow 3.17.

MLflow sets the expectations: for every input in the tables, mlflowx must infer the same
signature (byte for byte), accept and refuse the same data, and convert it the same way.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import subprocess
import sys
import warnings
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse

from mlflowx.exceptions import InvalidParameter
from mlflowx.models.signature import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Map,
    ModelSignature,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
    enforce_params,
    enforce_schema,
    infer_signature,
)


def mlflow_modules() -> dict[str, ModuleType]:
    """mlflow's signature modules, imported on first use."""
    with warnings.catch_warnings():
        # Importing mlflow.pyfunc warns that mlflow's own agent types use `Any` type hints;
        # checked: about mlflow's code, not ours.
        warnings.filterwarnings("ignore", message=".*Any type hint is inferred as AnyType")
        import mlflow.models
        import mlflow.models.utils
        import mlflow.pyfunc
        import mlflow.types.schema
    return {"models": mlflow.models, "utils": mlflow.models.utils, "schema": mlflow.types.schema}


def outcome(function: Any, data: Any, *args: Any) -> tuple[str, Any]:
    """("accepted", the result) or ("refused", the error) of calling function on a copy of data."""
    try:
        return "accepted", function(copy.deepcopy(data), *args)
    except Exception as e:
        return "refused", e


def mlflow_infer(*args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        # mlflow hints that integer columns cannot hold missing values; checked, advice only.
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        return mlflow_modules()["models"].infer_signature(*args, **kwargs)


# ---------------------------------------------------------------------------- inference

COLUMNS: dict[str, Any] = {
    "int64": [1, 2],
    "int32": np.array([1, 2], dtype="int32"),
    "int16": np.array([1, 2], dtype="int16"),
    "uint8": np.array([1, 2], dtype="uint8"),
    "uint32": np.array([1, 2], dtype="uint32"),
    "uint64": np.array([1, 2], dtype="uint64"),  # unsupported: the catch-all schema
    "float64": [1.0, 2.0],
    "float32": np.array([1, 2], dtype="float32"),
    "str": ["x", "y"],
    "bytes": [b"x", b"y"],
    "bytearray": [bytearray(b"x"), bytearray(b"y")],
    "datetime64": pd.to_datetime(["2020-01-01", "2020-01-02"]),
    "datetime-tz": pd.to_datetime(["2020-01-01", None]).tz_localize("UTC"),
    "date-objects": [dt.date(2020, 1, 1), dt.date(2020, 1, 2)],
    "datetime-none": [dt.datetime(2020, 1, 1), None],
    "bool": [True, False],
    "bool-none": [True, None],
    "float-nan": [1.0, np.nan],
    "int-none": [1, None],
    "str-none": ["x", None],
    "all-none": [None, None],
    "all-nan": [np.nan, np.nan],
    "mixed-objects": ["x", 1],
    "lists": [[1, 2], [3]],
    "dicts": [{"a": 1}, {"a": 2}],
    "dicts-differing-keys": [{"a": 1}, {"b": "x"}],
    "nested": [[{"a": 1}], [{"a": 2, "b": [1.5]}]],
    "pd-string": pd.array(["a", None], dtype="string"),
    "pd-boolean": pd.array([True, None], dtype="boolean"),
    "pd-Float32": pd.array([1.5, None], dtype="Float32"),
    "pd-Int64": pd.array([1, None], dtype="Int64"),
    "object-ints": pd.Series([1, 2], dtype=object),
    "categorical": pd.Categorical(["a", "b"]),
    "timedelta": pd.Series([1, 2]).astype("timedelta64[ns]"),
}

INPUTS: dict[str, Any] = {f"dataframe-{k}": pd.DataFrame({"c": v}) for k, v in COLUMNS.items()}
INPUTS |= {
    "dataframe-many": pd.DataFrame(
        {"a": [1, 2], "b": [1.5, 2.5], "c": ["x", "y"], "d": pd.to_datetime(["2020", "2021"])}
    ),
    "dataframe-int-columns": pd.DataFrame([[1, 2.0]]),
    "series": pd.Series([1, 2]),
    "series-named": pd.Series([1.0, 2.0], name="x"),
    "series-str": pd.Series(["a", "b"], name="s"),
    "ndarray-2d": np.zeros((3, 4)),
    "ndarray-3d-float32": np.zeros((2, 3, 4), dtype="float32"),
    "ndarray-int32": np.zeros(3, dtype="int32"),
    "ndarray-str": np.array(["a", "bc"]),
    "ndarray-bytes": np.array([b"a"]),
    "ndarray-object": np.array(["a", 1], dtype=object),
    "ndarray-bool": np.array([True]),
    "ndarray-0d": np.array(1.0),
    "dict-of-arrays": {"a": np.zeros((2, 3)), "b": np.ones(2, dtype="int32")},
    "csr-matrix": scipy.sparse.csr_matrix(np.eye(3)),
    "list-of-dicts": [{"a": 1, "b": "x"}, {"a": 2, "c": 1.5}],
    "list-of-dicts-none": [{"a": 1, "b": None}],
    "list-of-dicts-nested": [{"a": [1, 2], "b": {"x": 1}}],
    "list-of-str": ["a", "b"],
    "list-of-lists": [[1, 2], [3, 4]],
    "list-none-first": [None, 1],
    "list-mixed": [1, "a"],
    "empty-list": [],
    "dict-of-scalars": {"a": "x", "b": 1},
    "dict-of-lists": {"a": ["x", "y"], "b": [1, 2]},
    "dict-with-none": {"a": None, "b": 1},
    "dict-int-keys": {1: "a"},
    "str": "hello",
    "int": 5,
    "float": 5.0,
    "bool": True,
    "bytes": b"x",
    "datetime": dt.datetime(2020, 1, 1),
    "np-int16": np.int16(3),
    "pd-timestamp": pd.Timestamp("2020-01-01"),
}


@pytest.mark.parametrize("data", list(INPUTS.values()), ids=list(INPUTS))
def test_infer_signature_matches_mlflow(data: Any) -> None:
    expected = mlflow_infer(data).to_dict()

    assert infer_signature(data).to_dict() == expected


OUTPUTS: dict[str, Any] = {
    "int": 5,
    "float": 1.5,
    "str": "x",
    "np-float32": np.float32(2.0),
    "ndarray": np.array([1, 2]),
    "series": pd.Series([1, 2]),
    "dataframe": pd.DataFrame({"p": [0.1]}),
    "list": [1, 2],
    "dict": {"a": [1]},
}


@pytest.mark.parametrize("output", list(OUTPUTS.values()), ids=list(OUTPUTS))
def test_infer_output_schema_matches_mlflow(output: Any) -> None:
    model_input = pd.DataFrame({"x": [1.0]})

    expected = mlflow_infer(model_input, output).to_dict()

    assert infer_signature(model_input, output).to_dict() == expected


PARAMS: dict[str, Any] = {
    "int": 1,
    "float": 1.5,
    "str": "x",
    "bool": True,
    "list-int": [1, 2],
    "list-str": ["a"],
    "list-float": [1.5],
    "list-bool": [True],
    "list-int-float": [1, 2.5],
    "list-bool-int": [True, 1],
    "list-int-str": [1, "a"],
    "list-empty": [],  # MLflow's quirk: an empty list is a datetime list
    "np-int32": np.int32(3),
    "np-int64": np.int64(2),
    "np-float32": np.float32(1.5),
    "np-str": np.str_("s"),
    "np-array": np.array([1, 2]),
    "np-array-float32": np.array([1.5], dtype="float32"),
    "datetime": dt.datetime(2020, 1, 1, 10, 30),
    "date": dt.date(2020, 1, 2),
    "np-datetime64": np.datetime64("2020-01-01"),
    "list-datetime": [dt.datetime(2020, 1, 1)],
    "dict": {"x": 1},
    "dict-nested": {"x": [1, 2], "y": "s"},
}


PARAMS |= {  # params MLflow cannot describe
    "none": None,
    "bytes": b"x",
    "list-2d": [[1]],
    "tuple": (1, 2),
    "list-of-dicts": [{"a": 1}],
}


@pytest.mark.parametrize("value", list(PARAMS.values()), ids=list(PARAMS))
def test_infer_params_match_mlflow(value: Any) -> None:
    params = {"p": value}
    expected, theirs = outcome(lambda p: mlflow_infer(np.zeros(2), params=p), params)

    verdict, ours = outcome(lambda p: infer_signature(np.zeros(2), params=p), params)

    assert verdict == expected, ours
    if verdict == "accepted":
        assert ours.to_dict() == theirs.to_dict()
    else:
        assert isinstance(ours, InvalidParameter)
        assert "'p'" in str(ours)


def test_infer_signature_needs_something() -> None:
    with pytest.raises(InvalidParameter, match="at least one of inputs, outputs or params"):
        infer_signature()


def test_uninferable_data_gets_the_catch_all_schema(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mlflowx.models.signature"):
        signature = infer_signature(pd.DataFrame({"t": pd.Series([1]).astype("timedelta64[ns]")}))

    assert signature.inputs == Schema([ColSpec(AnyType())])
    assert "Failed to infer the input schema" in caplog.text


def test_pydantic_objects_are_refused_as_mlflow_does() -> None:
    import pydantic

    class Item(pydantic.BaseModel):
        a: int

    with pytest.raises(InvalidParameter, match="pydantic"):
        infer_signature(Item(a=1))


def test_infer_signature_does_not_import_pandas_or_numpy() -> None:
    code = (
        "import sys, mlflowx.models.signature as s; "
        "s.infer_signature([{'a': 1, 'b': 'x'}], 'y', params={'k': [1, 2]}); "
        "print(sorted(m for m in ('numpy', 'pandas', 'scipy') if m in sys.modules))"
    )

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------- MLmodel format


def complex_signature_dict() -> dict[str, str | None]:
    ms = mlflow_modules()["schema"]
    inputs = ms.Schema(
        [
            ms.ColSpec("string", "text"),
            ms.ColSpec(ms.Array("long"), "ids", required=False),
            ms.ColSpec(
                ms.Object(
                    [ms.Property("z", "double"), ms.Property("a", ms.Array(ms.AnyType()), False)]
                ),
                "meta",
            ),
            ms.ColSpec(ms.Map(ms.Array("string")), "tags"),
            ms.ColSpec(ms.AnyType(), "anything", required=False),
            ms.ColSpec("datetime", "when"),
            ms.ColSpec("binary", "blob"),
        ]
    )
    outputs = ms.Schema([ms.TensorSpec(np.dtype("float32"), (-1, 3), "probs")])
    params = ms.ParamSchema(
        [
            ms.ParamSpec("temperature", "double", 0.5),
            ms.ParamSpec("n", "long", 1),
            ms.ParamSpec("stop", "string", ["\n"], (-1,)),
            ms.ParamSpec("since", "datetime", dt.datetime(2020, 1, 1)),
            ms.ParamSpec("opts", ms.Object([ms.Property("k", "long")]), {"k": 1}),
        ]
    )
    signature_dict: dict[str, str | None] = (
        mlflow_modules()["models"].ModelSignature(inputs, outputs, params).to_dict()
    )
    return signature_dict


def test_mlflow_written_signature_round_trips_exactly() -> None:
    written = complex_signature_dict()

    signature = ModelSignature.from_dict(written)

    assert signature.to_dict() == written
    assert signature.inputs is not None
    assert signature.inputs.input_names() == [
        "text",
        "ids",
        "meta",
        "tags",
        "anything",
        "when",
        "blob",
    ]
    assert signature.inputs.required_input_names() == ["text", "meta", "tags", "when", "blob"]
    assert signature.params is not None
    assert signature.params.params[3].default == dt.datetime(2020, 1, 1)


def test_mlflow_reads_signatures_written_here() -> None:
    signature = ModelSignature(
        Schema(
            [
                ColSpec("double", "x"),
                ColSpec(Array(Object([Property("k", "string")])), "rows", required=False),
                ColSpec(Map("long"), "counts"),
            ]
        ),
        Schema([TensorSpec("int64", (-1,))]),
        ParamSchema([ParamSpec("k", "integer", 3), ParamSpec("w", "float", [1.0], (-1,))]),
    )

    theirs = mlflow_modules()["models"].ModelSignature.from_dict(signature.to_dict())

    assert theirs.to_dict() == signature.to_dict()


def test_signature_to_dict_is_the_mlmodel_section() -> None:
    signature = ModelSignature(
        Schema([ColSpec("double", "sepal length (cm)")]), Schema([ColSpec("long")])
    )

    assert signature.to_dict() == {
        "inputs": '[{"type": "double", "name": "sepal length (cm)", "required": true}]',
        "outputs": '[{"type": "long", "required": true}]',
        "params": None,
    }
    assert ModelSignature.from_dict(signature.to_dict()) == signature


PARAM_SPECS: dict[str, tuple[Any, ...]] = {
    "double-from-int": ("p", "double", 1),
    "float": ("p", "float", 1.5),
    "long": ("p", "long", np.int32(3)),
    "integer": ("p", "integer", 3),
    "boolean": ("p", "boolean", True),
    "string": ("p", "string", "x"),
    "string-none": ("p", "string", None),
    "datetime": ("p", "datetime", dt.datetime(2020, 1, 1, 10)),
    "datetime-str": ("p", "datetime", "2020-01-01T10:00:00"),
    "date": ("p", "datetime", dt.date(2020, 1, 1)),
    "list-double": ("p", "double", [1, 2.5], (-1,)),
    "list-datetime": ("p", "datetime", ["2020-01-01"], (-1,)),
}


@pytest.mark.parametrize("args", list(PARAM_SPECS.values()), ids=list(PARAM_SPECS))
def test_param_spec_serializes_as_mlflow(args: tuple[Any, ...]) -> None:
    theirs = mlflow_modules()["schema"].ParamSpec(*args)

    ours = ParamSpec(*args)

    assert json.dumps(ours.to_dict()) == json.dumps(theirs.to_dict())
    assert ours.default == theirs.default


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("p", "binary", b"x"), "binary is not supported"),
        (("p", "long", 1.5), "can not safely convert float 1.5 to long"),
        (("p", "long", [1]), "expected a scalar long"),
        (("p", "long", 1, (2,)), r"shape must be None or \(-1,\)"),
        (("p", "long", 1, (-1,)), "expected a 1-d list"),
        (("p", "decimal", 1), "Unsupported type 'decimal'"),
        (("p", "datetime", "yesterday"), "cannot convert 'yesterday' to datetime"),
    ],
)
def test_invalid_param_specs_are_refused(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(Exception, match=r"."):
        mlflow_modules()["schema"].ParamSpec(*args)

    with pytest.raises(InvalidParameter, match=message):
        ParamSpec(*args)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Schema([]), "non-empty list"),
        (lambda: Schema([ColSpec("long", "a"), ColSpec("long")]), "mix named and unnamed"),
        (lambda: Schema([ColSpec("long", "a"), TensorSpec("int64", (-1,), "b")]), "either only"),
        (lambda: Schema([TensorSpec("int64", (-1,)), TensorSpec("int64", (-1,))]), "a name"),
        (lambda: Schema([ColSpec("long", required=False)]), "Unnamed inputs cannot be optional"),
        (lambda: ColSpec("decimal", "price"), "Unsupported type 'decimal' for column 'price'"),
        (lambda: TensorSpec("<U5", (-1,)), "carries a size"),
        (lambda: TensorSpec("not-a-dtype", (-1,)), "Invalid tensor dtype"),
        (lambda: Object([Property("a", "long"), Property("a", "string")]), "Duplicated"),
        (lambda: ParamSchema([ParamSpec("a", "long", 1), ParamSpec("a", "long", 2)]), "'a'"),
        (lambda: ModelSignature(), "at least one"),
        (lambda: Schema.from_json('[{"type": "decimal", "name": "p"}]'), "column 'p'"),
    ],
)
def test_invalid_schemas_are_refused(make: Any, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        make()


def test_schema_accessors() -> None:
    schema = Schema([ColSpec("long", "a"), ColSpec("string", "b", required=False)])
    tensors = Schema([TensorSpec(np.dtype("float32"), [-1, 2], "x")])

    assert not schema.is_tensor_spec()
    assert tensors.is_tensor_spec()
    assert schema.input_names() == ["a", "b"]
    assert schema.optional_input_names() == ["b"]
    assert schema.input_types() == [DataType.long, DataType.string]
    assert Schema([ColSpec("long"), ColSpec("double")]).input_names() == [0, 1]
    assert tensors.inputs[0].to_dict() == {
        "name": "x",
        "type": "tensor",
        "tensor-spec": {"dtype": "float32", "shape": [-1, 2]},
    }
    assert Schema.from_json(schema.to_json()) == schema
    assert Schema.from_json(tensors.to_json()) == tensors
    assert repr(schema) == "['a': long (required), 'b': string (optional)]"


# ---------------------------------------------------------------------------- enforcement


def col(t: Any, name: Any = "a", required: bool = True) -> dict[str, Any]:
    spec = t if isinstance(t, dict) else {"type": t}
    return {**spec, "name": name, "required": required}


def unnamed(t: str) -> dict[str, Any]:
    return {"type": t, "required": True}


def tensor(dtype: str, shape: tuple[int, ...], name: str | None = None) -> dict[str, Any]:
    spec = {"type": "tensor", "tensor-spec": {"dtype": dtype, "shape": list(shape)}}
    return spec if name is None else {"name": name, **spec}


def frame(values: Any, dtype: str | None = None) -> pd.DataFrame:
    return pd.DataFrame({"a": np.array(values, dtype=dtype) if dtype else values})


ENFORCE: dict[str, tuple[Any, list[dict[str, Any]]]] = {
    **{
        f"{src}->{dst}": (frame([1, 2], src), [col(dst)])
        for src, dst in [
            ("int64", "long"),
            ("int32", "long"),
            ("int8", "long"),
            ("uint32", "long"),
            ("uint64", "long"),
            ("int16", "integer"),
            ("uint8", "integer"),
            ("int64", "integer"),
            ("int32", "double"),
            ("uint16", "double"),
            ("int64", "double"),
            ("float32", "double"),
            ("float32", "float"),
            ("float64", "float"),
            ("float64", "long"),
            ("int8", "float"),
            ("int32", "float"),
            ("bool", "long"),
            ("bool", "double"),
            ("int64", "boolean"),
            ("int64", "string"),
            ("float64", "string"),
        ]
    },
    "int64-0/1->double": (frame([0, 1]), [col("double")]),
    "int64-0/1->float": (frame([0, 1]), [col("float")]),
    "str->double": (frame(["x"]), [col("double")]),
    "numeric-str->double": (frame(["1.5"]), [col("double")]),
    "object-ints->long": (frame(pd.Series([1, 2], dtype=object)), [col("long")]),
    "object-ints->string": (frame(pd.Series([1, 2], dtype=object)), [col("string")]),
    "str->string": (frame(["x"]), [col("string")]),
    "str->binary": (frame(["x"]), [col("binary")]),
    "bytes->binary": (frame([b"x"]), [col("binary")]),
    "str->datetime": (frame(["2020-01-01"]), [col("datetime")]),
    "datetime64->datetime": (frame(pd.to_datetime(["2020-01-01"])), [col("datetime")]),
    "date-objects->datetime": (frame([dt.date(2020, 1, 1)]), [col("datetime")]),
    "tz-aware->datetime": (
        frame(pd.to_datetime(["2020-01-01"]).tz_localize("UTC")),
        [col("datetime")],
    ),
    "bool-none->boolean": (frame([True, None]), [col("boolean")]),
    "float-nan->long": (frame([1.0, None]), [col("long")]),
    "Int64->long": (frame(pd.array([1, 2], dtype="Int64")), [col("long")]),
    "Int64-NA->long": (frame(pd.array([1, None], dtype="Int64")), [col("long")]),
    "missing-columns": (frame([1]), [col("long"), col("long", "b"), col("long", "c")]),
    "missing-optional": (frame([1]), [col("long"), col("long", "b", required=False)]),
    "extra-and-reordered": (
        pd.DataFrame({"z": [1], "b": [2.0], "a": [1]}),
        [col("long"), col("double", "b")],
    ),
    "unnamed": (
        pd.DataFrame({"z": [1], "b": [2.0], "a": [1]}),
        [unnamed("long"), unnamed("double")],
    ),
    "unnamed-too-few": (pd.DataFrame({"z": [1]}), [unnamed("long"), unnamed("double")]),
    "int-column-names": (pd.DataFrame([[1, 2]]), [col("long", 0), col("long", 1)]),
    "list-of-dicts": ([{"a": 1, "b": 2.0}], [col("long"), col("double", "b")]),
    "dict-of-lists": ({"a": [1, 2], "b": [2.0, 3.0]}, [col("long"), col("double", "b")]),
    "dict-of-scalars": ({"a": 1, "b": 2.0}, [col("long"), col("double", "b")]),
    "dict-of-str-lists": ({"a": ["x", "y"]}, [col("string")]),
    "list-of-str": (["x", "y"], [unnamed("string")]),
    "scalar": ("x", [unnamed("string")]),
    "series": (pd.Series([1, 2], name="a"), [col("long")]),
    "ndarray-for-columns": (np.array([[1, 2]]), [unnamed("long"), unnamed("long")]),
    "array-column": (frame([[1, 2], [3]]), [col({"type": "array", "items": {"type": "long"}})]),
    "array-column-bad": (frame([[1.5], [3]]), [col({"type": "array", "items": {"type": "long"}})]),
    "object-column": (
        [{"a": {"x": 1}}],
        [col({"type": "object", "properties": {"x": {"type": "long", "required": True}}})],
    ),
    "object-column-missing-key": (
        [{"a": {"y": 1}}],
        [col({"type": "object", "properties": {"x": {"type": "long", "required": True}}})],
    ),
    "map-column": ([{"a": {"y": "s"}}], [col({"type": "map", "values": {"type": "string"}})]),
    "any-column": ([{"a": {"y": "s"}}], [col({"type": "any"})]),
    "tensor": (np.zeros((2, 3)), [tensor("float64", (-1, 3))]),
    "tensor-bad-shape": (np.zeros((2, 4)), [tensor("float64", (-1, 3))]),
    "tensor-bad-ndim": (np.zeros(2), [tensor("float64", (-1, 3))]),
    "tensor-float64->float32": (np.zeros((2, 3)), [tensor("float32", (-1, 3))]),
    "tensor-float64->int64": (np.zeros((2, 3)), [tensor("int64", (-1, 3))]),
    "tensor-str": (np.array(["a", "bb"]), [tensor("str", (-1,))]),
    "tensor-fixed-first-dim": (np.zeros((2, 3)), [tensor("float64", (2, 3))]),
    "tensor-fixed-first-dim-bad": (np.zeros((3, 3)), [tensor("float64", (2, 3))]),
    "tensor-object": (np.array(["a", 1], dtype=object), [tensor("object", (-1,))]),
    "tensor-from-list": ([[1.0, 2.0]], [tensor("float64", (-1, 2))]),
    "tensors": (
        {"x": np.zeros((2, 3)), "y": np.zeros(2)},
        [tensor("float64", (-1, 3), "x"), tensor("float64", (-1,), "y")],
    ),
    "tensors-missing": (
        {"x": np.zeros((2, 3))},
        [tensor("float64", (-1, 3), "x"), tensor("float64", (-1,), "y")],
    ),
    "tensors-extra": (
        {"x": np.zeros((2, 3)), "y": np.zeros(2), "z": 1},
        [tensor("float64", (-1, 3), "x"), tensor("float64", (-1,), "y")],
    ),
    "tensors-list-value": (
        {"x": [[1.0, 2, 3]], "y": np.zeros(2)},
        [tensor("float64", (-1, 3), "x"), tensor("float64", (-1,), "y")],
    ),
    "one-named-tensor-bare": (np.zeros((2, 3)), [tensor("float64", (-1, 3), "x")]),
    "tensor-from-dataframe": (
        pd.DataFrame({"a": [1.0], "b": [2.0]}),
        [tensor("float64", (-1, 2))],
    ),
    "tensor-from-dataframe-bad-shape": (
        pd.DataFrame({"a": [1.0], "b": [2.0]}),
        [tensor("float64", (-1, 3))],
    ),
    "tensor-from-column": (frame([1.0, 2.0]), [tensor("float64", (-1,))]),
    "tensor-from-int-column": (frame([1, 2]), [tensor("float64", (-1,))]),
    "tensor-from-str-column": (frame(["x", "y"]), [tensor("str", (-1,))]),
    "tensors-from-dataframe": (
        pd.DataFrame({"a": [1.0, 2.0], "b": [[1.0, 2.0], [3.0, 4.0]]}),
        [tensor("float64", (-1,), "a"), tensor("float64", (-1, 2), "b")],
    ),
}


@pytest.mark.parametrize(("data", "specs"), list(ENFORCE.values()), ids=list(ENFORCE))
def test_enforce_schema_matches_mlflow(data: Any, specs: list[dict[str, Any]]) -> None:
    text = json.dumps(specs)
    theirs = mlflow_modules()["schema"].Schema.from_json(text)
    expected, their_result = outcome(mlflow_modules()["utils"]._enforce_schema, data, theirs)

    verdict, result = outcome(enforce_schema, data, Schema.from_json(text))

    assert verdict == expected, result
    if verdict == "refused":
        assert isinstance(result, InvalidParameter)
    elif isinstance(result, pd.DataFrame):
        pd.testing.assert_frame_equal(result, their_result)
    elif isinstance(result, np.ndarray):
        assert result.dtype == their_result.dtype
        assert result.shape == their_result.shape
    elif isinstance(result, dict):
        assert list(result) == list(their_result)


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        (np.zeros((2, 3), dtype="float32"), "float64"),
        (np.zeros((2, 3), dtype="int32"), "int64"),
        (np.zeros((2, 3), dtype="int64"), "float64"),
        (np.zeros((2, 3), dtype="bool"), "int64"),
    ],
    ids=["float32->float64", "int32->int64", "int64->float64", "bool->int64"],
)
def test_tensors_take_safe_casts_that_mlflow_refuses(data: np.ndarray, dtype: str) -> None:
    # Deliberately more lenient than MLflow, which wants the exact dtype: numpy's "safe" casts
    # are applied, so the model still gets exactly the dtype of its signature.
    text = json.dumps([tensor(dtype, (-1, 3))])
    verdict, _ = outcome(
        mlflow_modules()["utils"]._enforce_schema,
        data,
        mlflow_modules()["schema"].Schema.from_json(text),
    )

    result = enforce_schema(data, Schema.from_json(text))

    assert verdict == "refused"
    assert result.dtype == np.dtype(dtype)


def test_missing_columns_are_listed() -> None:
    schema = Schema([ColSpec("long", "a"), ColSpec("long", "b"), ColSpec("long", "c")])

    with pytest.raises(
        InvalidParameter, match=r"missing inputs \['b', 'c'\].*extra inputs: \['z'\]"
    ):
        enforce_schema(pd.DataFrame({"a": [1], "z": [2]}), schema)


@pytest.mark.parametrize(
    ("values", "expected", "message"),
    [
        ([1.5, 2.5], "long", r"column 'a': expected long \(int64\), got float64"),
        (["x"], "double", r"column 'a': expected double \(float64\), got str"),
        ([1, 2**40], "double", r"column 'a': expected double \(float64\), got int64"),
        ([1.0, None], "long", "Hint: integer columns with missing values"),
        ([1, 2], "string", "column 'a': expected string, got int64"),
    ],
)
def test_unsafe_casts_name_column_and_types(values: list[Any], expected: str, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        enforce_schema(pd.DataFrame({"a": values}), Schema([ColSpec(expected, "a")]))


def test_safe_casts_give_the_schema_dtypes() -> None:
    data = pd.DataFrame(
        {
            "z": ["dropped"],
            "d": np.array([1.5], dtype="float32"),
            "i": np.array([3], dtype="int32"),
            "f": np.array([7], dtype="int16"),
        }
    )
    schema = Schema([ColSpec("long", "i"), ColSpec("double", "d"), ColSpec("double", "f")])

    result = enforce_schema(data, schema)

    assert list(result.columns) == ["i", "d", "f"]
    assert [str(t) for t in result.dtypes] == ["int64", "float64", "float64"]


def test_tensor_shape_and_dtype_errors_name_the_input() -> None:
    schema = Schema([TensorSpec("float32", (-1, 3), "pixels")])

    with pytest.raises(InvalidParameter, match=r"input 'pixels' \(2, 4\).*\(-1, 3\)"):
        enforce_schema({"pixels": np.zeros((2, 4), dtype="float32")}, schema)
    with pytest.raises(InvalidParameter, match=r"'pixels' is float64.*float32"):
        enforce_schema({"pixels": np.zeros((2, 3))}, schema)


# ---------------------------------------------------------------------------- params


def spec_json(*specs: tuple[Any, ...]) -> str:
    return json.dumps(
        [
            {"name": s[0], "type": s[1], "default": s[2], "shape": s[3] if len(s) > 3 else None}
            for s in specs
        ]
    )


PARAM_CASES: dict[str, tuple[dict[str, Any] | None, str]] = {
    "defaults": (
        None,
        spec_json(
            ("a", "long", 1), ("b", "double", 1.5), ("c", "string", "x"), ("d", "boolean", True)
        ),
    ),
    "int->double": ({"b": 2}, spec_json(("b", "double", 1.5))),
    "int->float": ({"b": 2}, spec_json(("b", "float", 1.5))),
    "float->long": ({"a": 2.5}, spec_json(("a", "long", 1))),
    "whole-float->long": ({"a": 2.0}, spec_json(("a", "long", 1))),
    "str->long": ({"a": "2"}, spec_json(("a", "long", 1))),
    "bool->long": ({"a": True}, spec_json(("a", "long", 1))),
    "int->boolean": ({"a": 1}, spec_json(("a", "boolean", True))),
    "int->string": ({"a": 1}, spec_json(("a", "string", "x"))),
    "np.int32->long": ({"a": np.int32(3)}, spec_json(("a", "long", 1))),
    "np.float32->double": ({"a": np.float32(3.5)}, spec_json(("a", "double", 1.0))),
    "np.float64->float": ({"a": np.float64(3.5)}, spec_json(("a", "float", 1.0))),
    "float->integer": ({"a": 3.5}, spec_json(("a", "integer", 1))),
    "long->integer": ({"a": 3}, spec_json(("a", "integer", 1))),
    "unknown-ignored": ({"z": 1}, spec_json(("a", "long", 1))),
    "list": ({"a": [1, 2]}, spec_json(("a", "long", [1], [-1]))),
    "list->double": ({"a": [1, 2]}, spec_json(("a", "double", [1.0], [-1]))),
    "ndarray->list": ({"a": np.array([1, 2])}, spec_json(("a", "long", [1], [-1]))),
    "scalar-for-list": ({"a": 1}, spec_json(("a", "long", [1], [-1]))),
    "list-for-scalar": ({"a": [1]}, spec_json(("a", "long", 1))),
    "datetime-str": ({"a": "2020-01-01"}, spec_json(("a", "datetime", "2020-01-02T00:00:00"))),
    "datetime-bad": ({"a": "xx"}, spec_json(("a", "datetime", "2020-01-02T00:00:00"))),
    "none": ({"a": None}, spec_json(("a", "long", 1))),
    "int-keys": ({1: 2}, spec_json(("1", "long", 1))),
    "not-a-dict": ([1], spec_json(("a", "long", 1))),
    "object": (
        {"o": {"k": 2}},
        json.dumps(
            [
                {
                    "name": "o",
                    "type": "object",
                    "properties": {"k": {"type": "long", "required": True}},
                    "default": {"k": 1},
                    "shape": None,
                }
            ]
        ),
    ),
}


@pytest.mark.parametrize(("params", "schema"), list(PARAM_CASES.values()), ids=list(PARAM_CASES))
def test_enforce_params_matches_mlflow(params: dict[str, Any] | None, schema: str) -> None:
    theirs = mlflow_modules()["schema"].ParamSchema.from_json(schema)
    enforce = mlflow_modules()["utils"]._enforce_params_schema
    expected, their_result = outcome(enforce, params, theirs)

    verdict, result = outcome(enforce_params, params, ParamSchema.from_json(schema))

    assert verdict == expected, result
    if verdict == "accepted":
        assert result == their_result
        assert [type(v) for v in result.values()] == [type(their_result[k]) for k in result]
    else:
        assert isinstance(result, InvalidParameter)


def test_invalid_params_are_all_named() -> None:
    schema = ParamSchema([ParamSpec("a", "long", 1), ParamSpec("b", "double", 1.0)])

    with pytest.raises(InvalidParameter, match=r"'a': long.*'x'.*'b': double.*'y'"):
        enforce_params({"a": "x", "b": "y"}, schema)


def test_unknown_params_are_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    schema = ParamSchema([ParamSpec("a", "long", 1)])

    with caplog.at_level(logging.WARNING, logger="mlflowx.models.signature"):
        result = enforce_params({"a": 2, "typo": 3}, schema)

    assert result == {"a": 2}
    assert "['typo']" in caplog.text


def test_unknown_params_are_refused_when_strict() -> None:
    schema = ParamSchema([ParamSpec("a", "long", 1)])

    with pytest.raises(InvalidParameter, match=r"Unknown params \['typo'\]"):
        enforce_params({"typo": 3}, schema, strict=True)
    with pytest.raises(InvalidParameter, match="declares no params"):
        enforce_params({"typo": 3}, None, strict=True)


def test_params_without_a_param_schema_are_dropped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mlflowx.models.signature"):
        assert enforce_params({"a": 1}, None) == {}
    assert enforce_params(None, None) == {}
    assert "declares no params" in caplog.text
