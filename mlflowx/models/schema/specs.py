"""Specs of a model signature: columns and tensors (:class:`Schema`), inference params
(:class:`ParamSchema`) and the :class:`ModelSignature` that holds them, each to and from the
JSON MLflow writes in an MLmodel file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from copy import deepcopy
from typing import Any

from mlflowx.exceptions import InvalidParameter
from mlflowx.models._types import _is_ndarray
from mlflowx.models.schema.coltypes import (
    ColType,
    DataType,
    Object,
    _as_type,
    _data_type,
    _type_dict,
    _type_from_dict,
)
from mlflowx.models.schema.values import _enforce_value, _param_scalar

__all__ = [
    "ColSpec",
    "ModelSignature",
    "ParamSchema",
    "ParamSpec",
    "Schema",
    "TensorSpec",
    "_check_param",
    "_clean_tensor_dtype",
]


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
