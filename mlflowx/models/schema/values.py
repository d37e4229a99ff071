"""Value checks against signature types: a param's scalar value, a data column (MLflow's
``_enforce_mlflow_datatype``) and a nested JSON-like value (MLflow's ``_enforce_type``).
:class:`~mlflowx.models.schema.ParamSpec` validates its default with them and
:mod:`mlflowx.models.enforce` reuses them. pandas and numpy are imported only when data of
theirs is handled."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from mlflowx.exceptions import InvalidParameter
from mlflowx.models._types import _is_ndarray, _is_none_or_nan, _is_scalar, _type_key
from mlflowx.models.schema.coltypes import AnyType, Array, ColType, DataType, Object

__all__ = ["_enforce_column", "_enforce_value", "_param_scalar"]

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
