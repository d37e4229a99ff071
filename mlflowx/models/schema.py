"""Model signature types: what a model accepts and returns, in MLflow's MLmodel format.

A :class:`ModelSignature` holds an input and an output :class:`Schema` (columns or tensors) and a
:class:`ParamSchema` for inference parameters. ``to_dict()`` gives exactly the dict of JSON strings
MLflow stores in the ``signature:`` section of an MLmodel file, and ``from_dict()`` reads the ones
MLflow writes. Inference lives in :mod:`mlflowx.models.signature`, enforcement in
:mod:`mlflowx.models.enforce`.

The value checks at the end (``_check_param``, ``_enforce_value``, ``_enforce_column``) are here
because :class:`ParamSpec` validates its default with them; :mod:`~mlflowx.models.enforce` reuses
them. pandas and numpy are imported only when data of theirs is handled.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Iterator
from copy import deepcopy
from enum import Enum
from typing import Any, TypeAlias

from mlflowx.exceptions import InvalidParameter
from mlflowx.models._types import _is_ndarray, _is_none_or_nan, _is_scalar, _type_key

__all__ = [
    "AnyType",
    "Array",
    "ColSpec",
    "ColType",
    "DataType",
    "Map",
    "ModelSignature",
    "Object",
    "ParamSchema",
    "ParamSpec",
    "Property",
    "Schema",
    "TensorSpec",
]


class DataType(Enum):
    """The scalar column types of MLflow's schemas (the JSON ``"type"`` value)."""

    boolean = "boolean"
    integer = "integer"
    long = "long"
    float = "float"
    double = "double"
    string = "string"
    binary = "binary"
    datetime = "datetime"

    def __repr__(self) -> str:
        return self.name

    def to_numpy(self) -> Any:
        """The numpy dtype of this type (``str``/``bytes`` for strings and binary)."""
        import numpy as np

        return np.dtype(_NUMPY_NAMES[self.value])

    def to_pandas(self) -> Any:
        """The dtype a pandas column of this type has (``object`` for strings and binary)."""
        if self.value in ("string", "binary"):
            return object
        return self.to_numpy()


_NUMPY_NAMES = {
    "boolean": "bool",
    "integer": "int32",
    "long": "int64",
    "float": "float32",
    "double": "float64",
    "string": "str",
    "binary": "bytes",
    "datetime": "datetime64[ns]",
}


def _data_type(name: str, what: str) -> DataType:
    try:
        return DataType(name)
    except ValueError:
        known = [t.value for t in DataType]
        raise InvalidParameter(
            f"Unsupported type {name!r} for {what}; expected one of {known}, "
            "'array', 'object', 'map' or 'any'"
        ) from None


# ---------------------------------------------------------------- complex (JSON) column types


class AnyType:
    """Any JSON value, ``None`` included; never validated."""

    def to_dict(self) -> dict[str, Any]:
        return {"type": "any"}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnyType)

    def __repr__(self) -> str:
        return "Any"


class Array:
    """A list whose items all have ``dtype``."""

    def __init__(self, dtype: str | ColType) -> None:
        self.dtype = _as_type(dtype, "array items")

    def to_dict(self) -> dict[str, Any]:
        return {"type": "array", "items": _type_dict(self.dtype)}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Array) and self.dtype == other.dtype

    def __repr__(self) -> str:
        return f"Array({self.dtype!r})"


class Property:
    """A named field of an :class:`Object`."""

    def __init__(self, name: str, dtype: str | ColType, required: bool = True) -> None:
        if not isinstance(name, str):
            raise InvalidParameter(f"Property name must be a string, got {type(name).__name__}")
        self.name = name
        self.dtype = _as_type(dtype, f"property {name!r}")
        self.required = required

    def to_dict(self) -> dict[str, Any]:
        return {self.name: {**_type_dict(self.dtype), "required": self.required}}

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Property)
            and (self.name, self.required) == (other.name, other.required)
            and self.dtype == other.dtype
        )

    def __repr__(self) -> str:
        return f"{self.name}: {self.dtype!r} ({'required' if self.required else 'optional'})"


class Object:
    """A JSON object (dict) with typed properties; kept sorted by name, as MLflow does."""

    def __init__(self, properties: list[Property]) -> None:
        if not properties:
            raise InvalidParameter("An Object needs at least one property")
        names = [p.name for p in properties]
        if duplicates := sorted({n for n in names if names.count(n) > 1}):
            raise InvalidParameter(f"Duplicated property names in Object: {duplicates}")
        self.properties = sorted(properties, key=lambda p: p.name)

    def to_dict(self) -> dict[str, Any]:
        props: dict[str, Any] = {}
        for prop in self.properties:
            props.update(prop.to_dict())
        return {"type": "object", "properties": props}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Object) and self.properties == other.properties

    def __repr__(self) -> str:
        return "{" + ", ".join(map(repr, self.properties)) + "}"


class Map:
    """A dict with string keys whose values all have ``value_type``."""

    def __init__(self, value_type: str | ColType) -> None:
        self.value_type = _as_type(value_type, "map values")

    def to_dict(self) -> dict[str, Any]:
        return {"type": "map", "values": _type_dict(self.value_type)}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Map) and self.value_type == other.value_type

    def __repr__(self) -> str:
        return f"Map(str -> {self.value_type!r})"


ColType: TypeAlias = DataType | Array | Object | Map | AnyType


def _as_type(value: str | ColType, what: str) -> ColType:
    if isinstance(value, str):
        return _data_type(value, what)
    if not isinstance(value, DataType | Array | Object | Map | AnyType):
        raise InvalidParameter(
            f"Expected a DataType, Array, Object, Map, AnyType or type name for {what}, "
            f"got {value!r}"
        )
    return value


def _type_dict(t: ColType) -> dict[str, Any]:
    return {"type": t.value} if isinstance(t, DataType) else t.to_dict()


def _type_from_dict(d: dict[str, Any], what: str) -> ColType:
    if not isinstance(d, dict) or "type" not in d:
        raise InvalidParameter(f"Missing key 'type' in the schema of {what}: {d!r}")
    kind = d["type"]
    if kind == "array":
        return Array(_type_from_dict(d.get("items", {}), f"the items of {what}"))
    if kind == "map":
        return Map(_type_from_dict(d.get("values", {}), f"the values of {what}"))
    if kind == "any":
        return AnyType()
    if kind == "object":
        props = d.get("properties")
        if not isinstance(props, dict):
            raise InvalidParameter(f"Object schema of {what} needs a 'properties' dict")
        return Object(
            [
                Property(n, _type_from_dict(p, f"property {n!r}"), p.get("required", True))
                for n, p in props.items()
            ]
        )
    return _data_type(str(kind), what)


# ---------------------------------------------------------------- column, tensor and param specs


class ColSpec:
    """One column: its type, name (``None`` for unnamed columns) and whether it is required."""

    def __init__(
        self, type: str | ColType, name: str | int | None = None, required: bool = True
    ) -> None:
        self.type = _as_type(type, f"column {name!r}" if name is not None else "a column")
        self.name = name
        self.required = required

    def to_dict(self) -> dict[str, Any]:
        d = _type_dict(self.type)
        if self.name is not None:
            d["name"] = self.name
        d["required"] = self.required
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ColSpec:
        name = d.get("name")
        required = d.get("required")
        what = f"column {name!r}" if name is not None else "a column"
        return cls(_type_from_dict(d, what), name, True if required is None else bool(required))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ColSpec)
            and (self.name, self.required) == (other.name, other.required)
            and self.type == other.type
        )

    def __repr__(self) -> str:
        req = "required" if self.required else "optional"
        return (
            f"{self.type!r} ({req})"
            if self.name is None
            else f"{self.name!r}: {self.type!r} ({req})"
        )


def _tensor_dtype_name(dtype: Any) -> str:
    """The numpy dtype name MLflow stores (``float64``, ``str``, ``object`` ...)."""
    try:
        import numpy as np
    except ImportError:  # metadata-only use without numpy: keep the name as written
        if isinstance(dtype, str):
            return dtype
        raise
    try:
        np_dtype = np.dtype(dtype)
    except TypeError as e:
        raise InvalidParameter(f"Invalid tensor dtype {dtype!r}: {e}") from None
    if np_dtype.char in ("U", "S") and not np_dtype.name.isalpha():
        plain = "str" if np_dtype.char == "U" else "bytes"
        raise InvalidParameter(
            f"Tensor dtype {np_dtype} carries a size, which MLflow schemas do not support; "
            f"use {plain!r}"
        )
    return str(np_dtype.name)


def _clean_tensor_dtype(dtype: Any) -> str:
    return "str" if dtype.char == "U" else "bytes" if dtype.char == "S" else str(dtype.name)


class TensorSpec:
    """One tensor: numpy dtype name, shape (``-1`` for a variable dimension) and optional name."""

    required = True

    def __init__(
        self, dtype: Any, shape: tuple[int, ...] | list[int], name: str | None = None
    ) -> None:
        if not isinstance(shape, tuple | list):
            raise InvalidParameter(f"Tensor shape must be a tuple or list, got {shape!r}")
        self.dtype = _tensor_dtype_name(dtype)
        self.shape = tuple(int(x) for x in shape)
        self.name = name

    @property
    def type(self) -> str:
        """The dtype name (MLflow's ``TensorSpec.type``)."""
        return self.dtype

    def to_dict(self) -> dict[str, Any]:
        spec = {"type": "tensor", "tensor-spec": {"dtype": self.dtype, "shape": list(self.shape)}}
        return spec if self.name is None else {"name": self.name, **spec}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TensorSpec:
        info = d.get("tensor-spec")
        if not isinstance(info, dict) or not {"dtype", "shape"} <= info.keys():
            raise InvalidParameter(f"A tensor spec needs 'tensor-spec' with dtype and shape: {d}")
        return cls(info["dtype"], info["shape"], d.get("name"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorSpec) and (self.dtype, self.shape, self.name) == (
            other.dtype,
            other.shape,
            other.name,
        )

    def __repr__(self) -> str:
        tensor = f"Tensor({self.dtype!r}, {self.shape!r})"
        return tensor if self.name is None else f"{self.name!r}: {tensor}"


class Schema:
    """A list of :class:`ColSpec` or a list of :class:`TensorSpec` (never both)."""

    def __init__(self, inputs: list[ColSpec] | list[TensorSpec]) -> None:
        if not isinstance(inputs, list) or not inputs:
            raise InvalidParameter("A Schema needs a non-empty list of ColSpec or TensorSpec")
        named = [x.name is not None for x in inputs]
        if any(named) and not all(named):
            raise InvalidParameter(
                "A Schema cannot mix named and unnamed inputs; got names "
                f"{[x.name for x in inputs]}"
            )
        tensors = [isinstance(x, TensorSpec) for x in inputs]
        if not all(tensors) and (any(tensors) or not all(isinstance(x, ColSpec) for x in inputs)):
            raise InvalidParameter("A Schema holds either only ColSpec or only TensorSpec inputs")
        if all(tensors) and len(inputs) > 1 and not all(named):
            raise InvalidParameter("A Schema with several tensors needs a name for each of them")
        if not any(named) and not all(x.required for x in inputs):
            raise InvalidParameter("Unnamed inputs cannot be optional; name them or require them")
        self.inputs: list[ColSpec] | list[TensorSpec] = inputs

    def __len__(self) -> int:
        return len(self.inputs)

    def __iter__(self) -> Iterator[ColSpec | TensorSpec]:
        return iter(self._specs)

    @property
    def _specs(self) -> list[ColSpec | TensorSpec]:
        return list(self.inputs)

    def is_tensor_spec(self) -> bool:
        return isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        return self.inputs[0].name is not None

    def input_names(self) -> list[str | int]:
        """Input names; the positions for an unnamed schema (as MLflow: ``name or index``)."""
        return [x.name or i for i, x in enumerate(self._specs)]

    def required_input_names(self) -> list[str | int]:
        return [x.name or i for i, x in enumerate(self._specs) if x.required]

    def optional_input_names(self) -> list[str | int]:
        return [x.name or i for i, x in enumerate(self._specs) if not x.required]

    def input_types(self) -> list[Any]:
        return [x.type for x in self._specs]

    def input_dict(self) -> dict[str | int, ColSpec | TensorSpec]:
        return {x.name: x for x in self._specs if x.name is not None}

    def to_dict(self) -> list[dict[str, Any]]:
        return [x.to_dict() for x in self._specs]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Schema:
        items = json.loads(text)
        if not isinstance(items, list):
            raise InvalidParameter(f"A schema must be a JSON list, got {text[:100]!r}")
        if items and all(isinstance(x, dict) and x.get("type") == "tensor" for x in items):
            return cls([TensorSpec.from_dict(x) for x in items])
        return cls([ColSpec.from_dict(x) for x in items])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self.inputs == other.inputs

    def __repr__(self) -> str:
        return repr(self.inputs)


class ParamSpec:
    """An inference parameter: name, type, default, and ``shape`` (``None`` or ``(-1,)``)."""

    def __init__(
        self,
        name: str,
        type: str | DataType | Object,
        default: Any,
        shape: tuple[int, ...] | list[int] | None = None,
    ) -> None:
        self.name = str(name)
        self.shape = tuple(shape) if shape is not None else None
        if isinstance(type, str) and type != "object":
            type = _data_type(type, f"param {self.name!r}")
        if not isinstance(type, DataType | Object):
            raise InvalidParameter(f"Param {self.name!r}: type must be a DataType or Object")
        if type is DataType.binary:
            raise InvalidParameter(f"Param {self.name!r}: binary is not supported for params")
        self.type: DataType | Object = type
        self.default: Any = None  # set first: the error message shows repr(self)
        self.default = _check_param(self, default)

    @property
    def dtype(self) -> DataType | Object:
        """MLflow's name for :attr:`type`."""
        return self.type

    def to_dict(self) -> dict[str, Any]:
        default = self.default
        if self.type is DataType.datetime and default is not None:
            default = [v.isoformat() for v in default] if self.shape else default.isoformat()
        d = {
            "name": self.name,
            "default": default,
            "shape": list(self.shape) if self.shape is not None else None,
        }
        d.update(_type_dict(self.type))
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ParamSpec:
        kind = d.get("type") or d.get("dtype")  # MLflow also accepts the old "dtype" key
        if "name" not in d or "default" not in d or kind is None:
            raise InvalidParameter(f"A param spec needs name, type and default; got {d}")
        ptype = _type_from_dict({**d, "type": kind}, f"param {d['name']!r}")
        if not isinstance(ptype, DataType | Object):
            raise InvalidParameter(f"Param {d['name']!r}: unsupported type {kind!r}")
        return cls(str(d["name"]), ptype, d["default"], d.get("shape"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSpec) and (
            self.name,
            self.type,
            self.default,
            self.shape,
        ) == (other.name, other.type, other.default, other.shape)

    def __repr__(self) -> str:
        shape = f" (shape: {self.shape})" if self.shape is not None else ""
        return f"{self.name!r}: {self.type!r} (default: {self.default}){shape}"


class ParamSchema:
    """The inference parameters a model accepts."""

    def __init__(self, params: list[ParamSpec]) -> None:
        names = [p.name for p in params]
        if duplicates := sorted({n for n in names if names.count(n) > 1}):
            raise InvalidParameter(f"Duplicated parameters in the param schema: {duplicates}")
        self.params = list(params)

    def __len__(self) -> int:
        return len(self.params)

    def __iter__(self) -> Iterator[ParamSpec]:
        return iter(self.params)

    def to_dict(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.params]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> ParamSchema:
        return cls([ParamSpec.from_dict(x) for x in json.loads(text)])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSchema) and self.params == other.params

    def __repr__(self) -> str:
        return repr(self.params)


class ModelSignature:
    """Schemas of a model's inputs, outputs and inference params."""

    def __init__(
        self,
        inputs: Schema | None = None,
        outputs: Schema | None = None,
        params: ParamSchema | None = None,
    ) -> None:
        for what, value, cls in (
            ("inputs", inputs, Schema),
            ("outputs", outputs, Schema),
            ("params", params, ParamSchema),
        ):
            if value is not None and not isinstance(value, cls):
                raise InvalidParameter(f"{what} must be a {cls.__name__}, got {value!r}")
        if inputs is None and outputs is None and params is None:
            raise InvalidParameter("A signature needs at least one of inputs, outputs or params")
        self.inputs = inputs
        self.outputs = outputs
        self.params = params

    def to_dict(self) -> dict[str, str | None]:
        """The MLmodel ``signature:`` section: each part as a JSON string (or ``None``)."""
        return {
            "inputs": self.inputs.to_json() if self.inputs else None,
            "outputs": self.outputs.to_json() if self.outputs else None,
            "params": self.params.to_json() if self.params else None,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelSignature:
        """Read an MLmodel ``signature:`` section (written by MLflow or mlflowx)."""
        inputs, outputs, params = d.get("inputs"), d.get("outputs"), d.get("params")
        return cls(
            Schema.from_json(inputs) if inputs else None,
            Schema.from_json(outputs) if outputs else None,
            ParamSchema.from_json(params) if params else None,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelSignature) and (self.inputs, self.outputs, self.params) == (
            other.inputs,
            other.outputs,
            other.params,
        )

    def __repr__(self) -> str:
        parts = (("inputs", self.inputs), ("outputs", self.outputs), ("params", self.params))
        return "".join(f"{name}:\n  {value!r}\n" for name, value in parts)


# ---------------------------------------------------------------- value checks (params and data)

_PARAM_SOURCES: dict[DataType, set[tuple[str, str]]] = {
    DataType.boolean: {("builtins", "bool"), ("numpy", "bool"), ("numpy", "bool_")},
    DataType.integer: {("builtins", "int"), ("numpy", "int32")},
    DataType.long: {("builtins", "int"), ("numpy", "int64"), ("numpy", "int32")},
    DataType.float: {
        ("builtins", "float"),
        ("numpy", "float32"),
        ("builtins", "int"),
        ("numpy", "int32"),
        ("numpy", "int64"),
    },
    DataType.double: {
        ("builtins", "float"),
        ("numpy", "float64"),
        ("numpy", "float32"),
        ("builtins", "int"),
        ("numpy", "int32"),
        ("numpy", "int64"),
    },
    DataType.string: {("builtins", "str"), ("numpy", "str_")},
}
_PARAM_PYTHON: dict[DataType, Any] = {
    DataType.boolean: bool,
    DataType.integer: int,
    DataType.long: int,
    DataType.float: float,
    DataType.double: float,
    DataType.string: str,
}


def _param_scalar(value: Any, t: DataType) -> Any:
    if value is None:
        return None
    if t is DataType.datetime:
        import numpy as np

        try:
            converted = np.datetime64(value).item()
        except (ValueError, TypeError) as e:
            raise InvalidParameter(f"cannot convert {value!r} to datetime: {e}") from None
        if not isinstance(converted, dt.date):  # e.g. nanosecond precision gives an int
            raise InvalidParameter(f"cannot convert {value!r} to a datetime.date/datetime")
        return converted
    if not _is_scalar(value):
        raise InvalidParameter(f"expected a scalar {t.value}, got {value!r}")
    if _type_key(value) in _PARAM_SOURCES[t]:
        return _PARAM_PYTHON[t](value)
    raise InvalidParameter(f"can not safely convert {type(value).__name__} {value!r} to {t.value}")


def _check_param(spec: ParamSpec, value: Any) -> Any:
    """The value converted to the spec's type and shape, or an error naming the param."""
    try:
        if spec.shape == (-1,):
            is_1d = (_is_ndarray(value) and value.ndim == 1) or (
                isinstance(value, list)
                and not any(isinstance(v, list | tuple) or _is_ndarray(v) for v in value)
            )
            if not is_1d:
                raise InvalidParameter(f"expected a 1-d list (shape (-1,)), got {value!r}")
            if isinstance(spec.type, Object):
                for item in value:
                    _enforce_value(deepcopy(item), spec.type)
                return list(value)
            return [_param_scalar(v, spec.type) for v in value]
        if spec.shape is not None:
            raise InvalidParameter(f"shape must be None or (-1,), got {spec.shape}")
        if isinstance(spec.type, Object):
            _enforce_value(deepcopy(value), spec.type)
            return value
        return _param_scalar(value, spec.type)
    except InvalidParameter as e:
        raise InvalidParameter(f"Invalid value for param {spec!r}: {e}") from None


def _enforce_column(name: Any, values: Any, t: DataType) -> Any:
    """MLflow's ``_enforce_mlflow_datatype``: the column as type ``t`` or an error."""
    import numpy as np
    import pandas as pd

    label = "the values" if name == "" else f"column {name!r}"
    if values.dtype == object and t not in (DataType.binary, DataType.string):
        values = values.infer_objects()
    is_str = isinstance(values.dtype, pd.StringDtype)
    if t is DataType.string and (values.dtype == object or is_str):
        return values  # objects are passed on as they are (None must not become "None")
    if t is DataType.binary and is_str:
        return values
    target = t.to_numpy()
    if values.dtype == t.to_pandas() or values.dtype == target:
        return values
    kind = values.dtype.kind
    if t is DataType.binary and kind == "S":
        return values
    if t is DataType.datetime and (kind == "M" or values.dtype == object):
        try:
            return values.astype("datetime64[ns]")
        except (TypeError, ValueError) as e:
            raise InvalidParameter(
                f"Failed to convert {label} from {values.dtype} to datetime (it must hold "
                f"timezone-naive datetimes): {e}"
            ) from None
    if t is DataType.boolean and values.dtype == object:
        return values  # as MLflow: converting would turn None into False
    if (
        t is DataType.double
        and values.dtype == object
        and all(v is None or isinstance(v, decimal.Decimal) for v in values)
    ):
        return pd.to_numeric(values, errors="raise")  # Spark decimals come as Decimal objects
    if kind == target.kind:
        safe = values.dtype.itemsize <= target.itemsize
    elif kind == "u" and target.kind == "i":
        safe = values.dtype.itemsize < target.itemsize
    elif kind in ("i", "u") and target == np.float64:
        safe = values.dtype.itemsize <= 6  # int8/16/32 fit a double exactly; int64 may not
    else:
        safe = False
    if not safe and values.dtype == np.int64 and target.kind == "f":
        # MLflow also accepts int64 -> float/double when every value is 0 or 1.
        safe = all(pd.isnull(v) or v in (0, 1) for v in values)
    if safe:
        try:
            return values.astype(target, errors="raise")
        except (TypeError, ValueError) as e:
            raise InvalidParameter(
                f"Failed to convert {label} from {values.dtype} to {t.value}: {e}"
            ) from None
    hint, numpy = "", "" if target.kind in ("U", "S") else f" ({target})"
    if kind == "f" and target.kind in ("i", "u") and values.hasnans:
        hint = (
            " Hint: integer columns with missing values arrive as floats; declare the column "
            "as double if it may have missing values."
        )
    raise InvalidParameter(
        f"Incompatible input types for {label}: expected {t.value}{numpy}, got "
        f"{values.dtype}, which can not be safely converted.{hint}"
    )


def _enforce_value(data: Any, t: ColType, required: bool = True) -> Any:
    """One JSON-like value checked against a (possibly nested) type; MLflow's ``_enforce_type``."""
    if isinstance(t, AnyType):
        return data
    if isinstance(t, DataType):
        if not required and _is_none_or_nan(data):
            return None
        if not _is_scalar(data) and not isinstance(data, dt.date):
            raise InvalidParameter(f"expected a scalar {t.value}, got {type(data).__name__}")
        import pandas as pd

        return _enforce_column("", pd.Series([data]), t).iloc[0]
    if isinstance(t, Array):
        if (not required or isinstance(t.dtype, AnyType)) and (
            data is None or ((isinstance(data, list) or _is_ndarray(data)) and len(data) == 0)
        ):
            return data
        if not (isinstance(data, list) or _is_ndarray(data)):
            raise InvalidParameter(f"expected a list, got {type(data).__name__}")
        if isinstance(t.dtype, DataType):
            if len(data) == 0:
                return data
            import pandas as pd

            values = _enforce_column("", pd.Series(list(data)), t.dtype).to_numpy()
            return values.tolist() if isinstance(data, list) else values
        items = [_enforce_value(x, t.dtype, required) for x in data]
        if _is_ndarray(data):
            import numpy as np

            return np.array(items)
        return items
    if isinstance(t, Object):
        if not required and (data is None or data == {}):
            return data
        if not isinstance(data, dict):
            raise InvalidParameter(f"expected a dict for {t!r}, got {type(data).__name__}")
        props = {p.name: p for p in t.properties}
        if missing := sorted(n for n, p in props.items() if p.required and n not in data):
            raise InvalidParameter(f"missing required properties {missing}")
        if unknown := sorted(str(k) for k in data if k not in props):
            raise InvalidParameter(f"properties not in the schema: {unknown}")
        for key, value in data.items():
            try:
                data[key] = _enforce_value(value, props[key].dtype, props[key].required)
            except InvalidParameter as e:
                raise InvalidParameter(f"key {key!r}: {e}") from None
        return data
    if (not required or isinstance(t.value_type, AnyType)) and (data is None or data == {}):
        return data
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise InvalidParameter(f"expected a dict with string keys, got {type(data).__name__}")
    return {k: _enforce_value(v, t.value_type, required) for k, v in data.items()}
