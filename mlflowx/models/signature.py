"""Signature inference: what ``mlflow.models.infer_signature`` infers, in MLflow's MLmodel format.

:func:`infer_signature` builds a :class:`ModelSignature` from example input, output and params.
The signature types live in :mod:`mlflowx.models.schema` and :func:`enforce_schema` /
:func:`enforce_params` in :mod:`mlflowx.models.enforce`; all are re-exported here, where callers
have always imported them from.

pandas and numpy are imported only when data of theirs is handled: type checks look them up in
``sys.modules``, since an object of a module that was never imported cannot exist.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from copy import deepcopy
from typing import Any

from mlflowx.exceptions import InvalidParameter
from mlflowx.models._types import (
    _instance_of,
    _is_dataframe,
    _is_ndarray,
    _is_none_or_nan,
    _is_scalar,
    _is_series,
    _is_sparse,
    _type_key,
)
from mlflowx.models.enforce import enforce_params, enforce_schema
from mlflowx.models.schema import (
    AnyType,
    Array,
    ColSpec,
    ColType,
    DataType,
    Map,
    ModelSignature,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
    _clean_tensor_dtype,
)

__all__ = [
    "AnyType",
    "Array",
    "ColSpec",
    "DataType",
    "Map",
    "ModelSignature",
    "Object",
    "ParamSchema",
    "ParamSpec",
    "Property",
    "Schema",
    "TensorSpec",
    "enforce_params",
    "enforce_schema",
    "infer_signature",
]

log = logging.getLogger(__name__)

# Exact types, as MLflow maps them (np.int16 or pd.Timestamp scalars are not supported there).
_SCALAR_TYPES: dict[tuple[str, str], DataType] = {
    ("builtins", "bool"): DataType.boolean,
    ("numpy", "bool"): DataType.boolean,
    ("numpy", "bool_"): DataType.boolean,
    ("builtins", "int"): DataType.long,
    ("numpy", "int64"): DataType.long,
    ("numpy", "int32"): DataType.integer,
    ("builtins", "float"): DataType.double,
    ("numpy", "float64"): DataType.double,
    ("numpy", "float32"): DataType.float,
    ("builtins", "str"): DataType.string,
    ("numpy", "str_"): DataType.string,
    ("builtins", "object"): DataType.string,
    ("builtins", "bytes"): DataType.binary,
    ("numpy", "bytes_"): DataType.binary,
    ("builtins", "bytearray"): DataType.binary,
    ("datetime", "date"): DataType.datetime,
    ("datetime", "datetime"): DataType.datetime,
    ("numpy", "datetime64"): DataType.datetime,
}


def _infer_scalar(x: Any) -> DataType:
    if (found := _SCALAR_TYPES.get(_type_key(x))) is not None:
        return found
    raise InvalidParameter(f"Data {x!r} ({type(x).__name__}) is not of a supported type")


class _NotInferable(InvalidParameter):
    """Data MLflow refuses outright rather than giving it the catch-all schema."""


def _infer_type(data: Any) -> ColType | None:
    """A value's type; ``None`` when undetermined (an empty numpy array), as in MLflow."""
    if _instance_of(data, "pydantic", "BaseModel"):
        raise _NotInferable(
            "Signatures cannot be inferred from pydantic objects; pass plain data instead"
        )
    if _is_none_or_nan(data) or (isinstance(data, list | dict) and not data):
        return AnyType()
    if isinstance(data, dict):
        props = []
        for key, value in data.items():
            t = _infer_type(value)
            if t is None:
                raise InvalidParameter(f"Dictionary value of {key!r} is an empty numpy array")
            props.append(Property(key, t, required=not isinstance(t, AnyType)))
        return Object(props)
    if isinstance(data, list) or _is_ndarray(data):
        return _infer_array(data)
    return _infer_scalar(data)


_MIXED_TYPES = (
    "Expected all values in the list to be of the same type; declare a list with items of "
    "several types as Array(AnyType()) in a manual signature"
)


def _merge(a: ColType, b: ColType) -> ColType:
    """The type of list items of types ``a`` and ``b`` (MLflow's ``_merge``), or an error."""
    if isinstance(a, AnyType):
        return b if isinstance(b, DataType | AnyType) else _merge(b, a)
    if isinstance(a, DataType):
        if a == b or isinstance(b, AnyType):
            return a
    elif isinstance(a, Object):
        if isinstance(b, AnyType):
            return Object([Property(p.name, p.dtype, False) for p in a.properties])
        if isinstance(b, Object):
            mine = {p.name: p for p in a.properties}
            theirs = {p.name: p for p in b.properties}
            props = [Property(n, p.dtype, False) for n, p in mine.items() if n not in theirs]
            for name in mine.keys() & theirs.keys():
                p, q = mine[name], theirs[name]
                props.append(Property(name, _merge(p.dtype, q.dtype), p.required and q.required))
            props += [Property(n, p.dtype, False) for n, p in theirs.items() if n not in mine]
            return Object(props)
    elif isinstance(a, Array):
        if isinstance(b, AnyType) or a == b:
            return a
        if isinstance(b, Array):
            return Array(_merge(a.dtype, b.dtype))
    elif isinstance(a, Map):
        if isinstance(b, AnyType) or a == b:
            return a
        if isinstance(b, Map):
            return Map(_merge(a.value_type, b.value_type))
    raise InvalidParameter(f"Types {a!r} and {b!r} are incompatible")


def _infer_array(data: Any) -> Array | None:
    result: Array | None = None
    for item in data:
        t = _infer_type(item)
        if t is None:
            continue
        if result is None:
            result = Array(t)
        elif isinstance(result.dtype, DataType):
            if not isinstance(t, AnyType) and t != result.dtype:
                raise InvalidParameter(_MIXED_TYPES)
        else:
            try:
                result = Array(_merge(result.dtype, t))
            except InvalidParameter as e:
                raise InvalidParameter(_MIXED_TYPES) from e
    return result


def _infer_item_type(data: Any) -> ColType:
    t = _infer_type(data)
    if t is None:
        raise InvalidParameter(f"Cannot infer a type from an empty numpy array: {data!r}")
    return t


def _infer_required(col: Any) -> bool:
    if isinstance(col, list) or _is_series(col):
        return not any(_is_none_or_nan(x) for x in col)
    return not _is_none_or_nan(col)


def _infer_numpy_dtype(dtype: Any) -> DataType:
    kind, size = dtype.kind, dtype.itemsize
    if kind == "b":
        return DataType.boolean
    if kind in ("i", "u"):
        if size < 4 or (kind == "i" and size == 4):
            return DataType.integer
        if size < 8 or (kind == "i" and size == 8):
            return DataType.long
    elif kind == "f":
        if size <= 4:
            return DataType.float
        if size <= 8:
            return DataType.double
    elif kind == "U":
        return DataType.string
    elif kind == "S":
        return DataType.binary
    elif kind == "M":
        return DataType.datetime
    raise InvalidParameter(f"Unsupported numpy data type {dtype} (kind {kind!r})")


def _infer_pandas_column(col: Any) -> ColType:
    import pandas as pd

    if col.values.ndim > 1:
        raise InvalidParameter(f"Expected a 1-d column, got shape {col.shape}")
    if col.dtype.kind == "O":
        col = col.infer_objects()
    if col.dtype.kind != "O":
        return _infer_numpy_dtype(col.dtype)
    try:
        found = _infer_array(col.to_list())
        if found is None:
            raise InvalidParameter("no value to infer from")
        return found.dtype
    except InvalidParameter as e:
        if pd.api.types.is_string_dtype(col):  # MLflow's fallback for mixed object columns
            return DataType.string
        raise InvalidParameter(f"Cannot infer the type of column {col.name!r}: {e}") from e


def _tensor_shape(data: Any) -> tuple[int, ...]:
    if not data.shape:
        raise InvalidParameter("Cannot infer a tensor spec from a 0-d array")
    return (-1, *data.shape[1:])


def _infer_schema(data: Any) -> Schema:
    """MLflow's ``_infer_schema``: the input or output schema of one piece of data."""
    if isinstance(data, list) and not data:  # MLflow keeps this for backward compatibility
        return Schema([ColSpec(DataType.string)])
    if isinstance(data, list) and all(isinstance(x, dict) for x in data):
        columns: dict[Any, list[Any]] = defaultdict(list)
        for row in data:
            for key, value in row.items():
                columns[key].append(value)
        return Schema(
            [
                ColSpec(
                    _array_item_type(values),
                    name,
                    required=all(row.get(name) is not None for row in data),
                )
                for name, values in columns.items()
            ]
        )
    if isinstance(data, dict):
        if data and all(_is_ndarray(v) for v in data.values()):
            return Schema(
                [
                    TensorSpec(_clean_tensor_dtype(v.dtype), _tensor_shape(v), name)
                    for name, v in data.items()
                ]
            )
        if not all(isinstance(k, str) for k in data):
            raise InvalidParameter("The dictionary keys are not all strings")
        return Schema(
            [ColSpec(_infer_item_type(v), k, _infer_required(v)) for k, v in data.items()]
        )
    if _is_series(data):
        return Schema([ColSpec(_infer_pandas_column(data), data.name, _infer_required(data))])
    if _is_dataframe(data):
        return Schema(
            [
                ColSpec(_infer_pandas_column(data[c]), c, _infer_required(data[c]))
                for c in data.columns
            ]
        )
    if _is_ndarray(data):
        return Schema([TensorSpec(_clean_tensor_dtype(data.dtype), _tensor_shape(data))])
    if _is_sparse(data):
        return Schema([TensorSpec(_clean_tensor_dtype(data.data.dtype), _tensor_shape(data))])
    if isinstance(data, list):
        return Schema([ColSpec(_array_item_type(data))])
    return Schema([ColSpec(_infer_item_type(data))])


def _array_item_type(values: list[Any]) -> ColType:
    found = _infer_item_type(values)
    assert isinstance(found, Array)
    return found.dtype


def _infer_or_any(data: Any, what: str) -> Schema:
    try:
        return _infer_schema(data)
    except _NotInferable:
        raise
    except Exception as e:  # as MLflow: any data it cannot read gets the catch-all schema
        log.warning("Failed to infer the %s schema (%s); using ColSpec(AnyType())", what, e)
    return Schema([ColSpec(AnyType())])


def _param_type_and_shape(value: Any) -> tuple[DataType | Object, tuple[int, ...] | None]:
    if isinstance(value, list) or _is_ndarray(value):
        if _is_ndarray(value):
            ndim = value.ndim
        else:
            ndim = 1 + any(isinstance(v, list | tuple) or _is_ndarray(v) for v in value)
        if ndim != 1:
            raise InvalidParameter(f"Expected a scalar or a 1-d list, got a {ndim}-d array")
        if all(_is_datetime(v) for v in value):  # also [] (MLflow's quirk: a datetime list)
            return DataType.datetime, (-1,)
        return _infer_list_dtype(value), (-1,)
    if _is_datetime(value):
        return DataType.datetime, None
    if _is_scalar(value):
        dtype = getattr(value, "dtype", None)  # numpy scalars carry theirs
        if dtype is not None:
            return _infer_numpy_dtype(dtype), None
        return _infer_list_dtype([value]), None
    if isinstance(value, dict):
        found = _infer_item_type(value)
        assert isinstance(found, Object)
        return found, None
    raise InvalidParameter(f"Expected a scalar or a 1-d list, got {type(value).__name__}")


def _is_datetime(x: Any) -> bool:
    return _SCALAR_TYPES.get(_type_key(x)) is DataType.datetime


def _infer_list_dtype(values: Any) -> DataType:
    """The type numpy would give ``np.array(values)``, without numpy for plain Python lists."""
    kinds = {type(v) for v in values}
    if kinds and kinds <= {bool}:
        return DataType.boolean
    if kinds and kinds <= {bool, int}:
        return DataType.long
    if kinds and kinds <= {bool, int, float}:
        return DataType.double
    if kinds == {str}:
        return DataType.string
    import numpy as np

    return _infer_numpy_dtype(np.asarray(values).dtype)


def _infer_param_schema(params: dict[str, Any]) -> ParamSchema:
    if not isinstance(params, dict):
        raise InvalidParameter(f"Params must be a dict, got {type(params).__name__}")
    specs, errors = [], []
    for name, value in params.items():
        try:
            ptype, shape = _param_type_and_shape(value)
            specs.append(ParamSpec(name, ptype, deepcopy(value), shape))
        except InvalidParameter as e:
            errors.append(f"{name!r} ({value!r}): {e}")
    if errors:
        raise InvalidParameter(f"Failed to infer the schema of params: {'; '.join(errors)}")
    return ParamSchema(specs)


def infer_signature(
    model_input: Any = None, model_output: Any = None, params: dict[str, Any] | None = None
) -> ModelSignature:
    """Infer a signature from example input, output and params, as MLflow 3.17 does.

    Supported data: pandas DataFrame and Series, numpy arrays, dicts of arrays (tensors), lists of
    dicts, dicts and lists of JSON values, and scalars. Data that cannot be read gets MLflow's
    catch-all ``Schema([ColSpec(AnyType())])`` (with a logged warning). Params map to scalar specs,
    or ``shape=(-1,)`` for lists.

    Raises:
        InvalidParameter: a param cannot be described, or nothing was given.
    """
    inputs = _infer_or_any(model_input, "input") if model_input is not None else None
    outputs = _infer_or_any(model_output, "output") if model_output is not None else None
    param_schema = _infer_param_schema(params) if params else None
    return ModelSignature(inputs, outputs, param_schema)
