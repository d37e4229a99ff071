"""Column types of a model signature: :class:`DataType` (MLflow's scalar types) and the complex
(JSON) types :class:`Array`, :class:`Object`, :class:`Map` and :class:`AnyType`, with their
MLflow JSON form."""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeAlias

from mlflowx.exceptions import InvalidParameter

__all__ = ["AnyType", "Array", "ColType", "DataType", "Map", "Object", "Property"]


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
