"""Predictions as JSON, in the shapes MLflow's scoring server answers with.

ndarrays become (nested) lists, DataFrames lists of records, Series lists of one-key records
(MLflow converts a Series to a one-column DataFrame first); numpy scalars become numbers, bytes
base64 text, dates ISO strings. Non-finite floats are written as ``NaN``/``Infinity`` as
Python's json (and so MLflow) writes them. Common outputs (int, bool, float32 and float64
arrays with finite values, and dicts of them, as ONNX models return) take a fast path through
orjson, and so do Series of such values.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import sys
from typing import Any

from mlflowx.models._types import _is_dataframe, _is_ndarray, _is_series

__all__ = ["jsonable", "predictions_json", "to_json_bytes"]

try:
    import orjson

    _dumps: Any = orjson.dumps
    _NUMPY: int = orjson.OPT_SERIALIZE_NUMPY
except ImportError:  # pragma: no cover - orjson is part of the serving extra
    _dumps, _NUMPY = None, 0


def jsonable(data: Any) -> Any:
    """MLflow's conversion of a prediction to JSON-able data (before number conversions)."""
    if _is_ndarray(data):
        return data.tolist()
    if _is_dataframe(data):
        return data.to_dict(orient="records")
    if _is_series(data):
        import pandas as pd

        return pd.DataFrame(data).to_dict(orient="records")
    return data


def _default(o: Any) -> Any:
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(o, np.ndarray):
            return o.tolist() if o.dtype != object else [_default_or_self(x) for x in o.tolist()]
        if isinstance(o, np.datetime64):
            return np.datetime_as_string(o)
        if isinstance(o, np.generic):
            return o.item()
    if isinstance(o, bytes | bytearray):
        return base64.encodebytes(bytes(o)).decode("ascii")
    if isinstance(o, dt.date | dt.datetime | dt.time):
        return o.isoformat()
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(o, pd.Timestamp):
        return o.isoformat()
    dump = getattr(o, "model_dump", None)  # pydantic models
    if callable(dump):
        return dump()
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def _default_or_self(o: Any) -> Any:
    try:
        return _default(o)
    except TypeError:
        return o


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        return _default(o)


def _fast_array(data: Any) -> Any:
    """``data`` as an array orjson writes with the numbers ``json.dumps(data.tolist())`` would
    (float32 widened to float64, as ``tolist`` does), or None when orjson cannot."""
    kind = data.dtype.kind
    if data.dtype.byteorder == ">" or data.ndim == 0:
        return None
    if kind in "biu":
        return data if data.flags.c_contiguous else None
    if data.dtype.name in ("float64", "float32"):  # orjson prints float32 in float32's form
        import numpy as np

        if not np.isfinite(data).all():
            return None  # NaN/Infinity: orjson writes null, json (and MLflow) NaN
        return np.ascontiguousarray(data, dtype=np.float64)
    return None


def _fast(raw: Any) -> Any:
    """``raw`` (an array, or a dict of arrays by name) ready for orjson, or None."""
    if _is_ndarray(raw):
        return _fast_array(raw)
    if _is_series(raw):  # MLflow's one-column records: [{"<name or 0>": value}, ...]
        if raw.name is not None and type(raw.name) is not str:
            return None
        values = raw.to_numpy()
        array = _fast_array(values) if _is_ndarray(values) and values.ndim == 1 else None
        if array is None:
            return None
        key = "0" if raw.name is None else raw.name
        return [{key: value} for value in array.tolist()]
    if type(raw) is dict and raw:
        out = {}
        for name, value in raw.items():
            array = _fast_array(value) if type(name) is str and _is_ndarray(value) else None
            if array is None:
                return None
            out[name] = array
        return out
    return None


def to_json_bytes(obj: Any) -> bytes:
    """``obj`` as JSON bytes: Python's json output (NaN as ``NaN``) with MLflow's conversions."""
    return json.dumps(obj, cls=_Encoder).encode()


def predictions_json(raw: Any, wrap: bool = True) -> bytes:
    """The response body for ``raw`` predictions: ``{"predictions": ...}`` (or bare)."""
    fast = None if _dumps is None else _fast(raw)
    if fast is not None:
        return bytes(_dumps({"predictions": fast} if wrap else fast, option=_NUMPY))
    data = jsonable(raw)
    return to_json_bytes({"predictions": data} if wrap else data)
