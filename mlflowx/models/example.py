"""Input examples: a model's ``input_example.json`` and ``serving_input_example.json``.

The files and the MLmodel ``saved_input_example_info`` are written as MLflow 3.17 writes them, so
each side reads the other's models. ``serving_input_example.json`` is a ready ``/invocations``
body: ``{"dataframe_split": ...}`` for DataFrames, ``{"inputs": ...}`` for everything else.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from functools import partial
from pathlib import Path
from typing import Any

from mlflowx.exceptions import InvalidParameter
from mlflowx.models._types import (
    _instance_of,
    _is_dataframe,
    _is_ndarray,
    _is_scalar,
    _is_sparse,
)
from mlflowx.models.paths import model_file
from mlflowx.models.schema import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Map,
    Object,
    Schema,
    TensorSpec,
    _enforce_value,
)
from mlflowx.models.signature import _infer_param_schema

__all__ = [
    "INPUT_EXAMPLE_FILE",
    "SERVING_INPUT_FILE",
    "convert_input_example_to_serving_input",
    "load_input_example",
    "load_input_example_params",
    "load_serving_input_example",
    "save_input_example",
    "split_input_example",
]

INPUT_EXAMPLE_FILE = "input_example.json"
SERVING_INPUT_FILE = "serving_input_example.json"
EXAMPLE_TYPES = ("dataframe", "ndarray", "sparse_matrix_csc", "sparse_matrix_csr", "json_object")
# Chat, completions and embeddings requests are sent as they are, not wrapped in "inputs".
_LLM_KEYS = ("messages", "prompt", "input")


class _Encoder(json.JSONEncoder):
    """MLflow's ``NumpyEncoder``: numpy values, base64 for bytes, ISO 8601 for datetimes."""

    def default(self, o: Any) -> Any:
        converted, ok = _jsonable(o)
        return converted if ok else super().default(o)


def _b64(value: bytes | bytearray) -> str:
    return base64.encodebytes(value).decode("ascii")  # with MLflow's trailing newline


def _jsonable(o: Any) -> tuple[Any, bool]:
    if _is_ndarray(o):
        import numpy as np

        if o.dtype == object:
            return [_jsonable(x)[0] for x in o.tolist()], True
        if o.dtype.kind == "S":
            return np.vectorize(_b64)(o), True
        return o.tolist(), True
    if _instance_of(o, "numpy", "generic"):  # np.datetime64 too, as in MLflow
        return o.item(), True
    if isinstance(o, bytes | bytearray):
        return _b64(o), True
    if isinstance(o, dt.date | dt.datetime | dt.time):  # pandas Timestamps included
        return o.isoformat(), True
    if _instance_of(o, "pydantic", "BaseModel"):
        return o.model_dump(), True
    return o, False


def _nans_to_none(array: Any) -> Any:
    import numpy as np

    if np.issubdtype(array.dtype, np.number):
        return np.where(np.isnan(array), None, array)
    return array


def split_input_example(example: Any) -> tuple[Any, dict[str, Any] | None]:
    """``(data, params)`` of an input example; params is ``None`` unless it is such a pair.

    Infer signatures from this data rather than from the example read back from its files: JSON
    loses dtypes (float32, int32, datetime, binary), and MLflow infers from the original data.

    Raises:
        InvalidParameter: the params could not be described by a param schema.
    """
    if isinstance(example, tuple) and len(example) == 2 and isinstance(example[1], dict):
        data, params = example
        if params:
            _infer_param_schema(params)  # refuses params no signature could describe
            return data, params
        return data, None
    return example, None


def _encode(data: Any) -> tuple[str, Any, Any, dict[str, str]]:
    """(type, what input_example.json stores, the serving body, extra info) for the data.

    The extra info has ``"llm"`` when the serving body is the data itself (a chat, completions
    or embeddings request); it is removed before it reaches the MLmodel.
    """
    if _instance_of(data, "pydantic", "BaseModel"):
        data = data.model_dump()
    if isinstance(data, dict):
        arrays = [_is_ndarray(v) for v in data.values()]
        if any(arrays):
            if not all(arrays):
                raise InvalidParameter(
                    "An input example dict must hold only numpy arrays or no numpy arrays; "
                    f"the values of {[k for k, a in zip(data, arrays, strict=True) if not a]} "
                    "are not arrays"
                )
            stored = {k: _nans_to_none(v).tolist() for k, v in data.items()}
            return "ndarray", stored, {"inputs": stored}, {}
        llm = any(k in data for k in _LLM_KEYS)
        if llm:
            return "json_object", data, data, {"llm": "true"}
        return "json_object", data, {"inputs": data}, {}
    if _is_ndarray(data):
        stored = _nans_to_none(data).tolist()
        return "ndarray", stored, {"inputs": stored}, {}
    if isinstance(data, list):
        if _contains_ndarray(data):
            raise InvalidParameter(
                "Numpy arrays inside a list are not supported as input examples; pass the array "
                "itself or a dict of arrays"
            )
        return "json_object", data, {"inputs": data}, {}
    if _is_sparse(data):
        kind = (
            "sparse_matrix_csc"
            if _instance_of(data, "scipy.sparse", "csc_matrix")
            else "sparse_matrix_csr"
        )
        stored = {
            "data": _nans_to_none(data.data).tolist(),
            "indices": data.indices.tolist(),
            "indptr": data.indptr.tolist(),
            "shape": list(data.shape),
        }
        return kind, stored, {"inputs": data.toarray()}, {}
    if _is_dataframe(data):
        split = data.where(data.notnull(), None).to_dict(orient="split")
        del split["index"]
        # Default integer column names are not written. (MLflow compares with a range, which
        # pandas 3 deprecates for string columns; comparing lists gives the same answer.)
        if list(data.columns) == list(range(len(data.columns))):
            del split["columns"]
        orient = "split" if "columns" in split else "values"
        return "dataframe", split, {"dataframe_split": split}, {"pandas_orient": orient}
    if _is_scalar(data) or isinstance(data, dt.datetime):
        return "json_object", data, {"inputs": data}, {}
    raise InvalidParameter(
        "An input example must be a pandas DataFrame, a numpy array, a dict (of numpy arrays, "
        "or of JSON values), a scipy csr/csc matrix, a list, a scalar, a datetime or a pydantic "
        f"model; got {type(data).__name__}"
    )


def _contains_ndarray(data: Any) -> bool:
    if _is_ndarray(data):
        return True
    if isinstance(data, list):
        return any(_contains_ndarray(x) for x in data)
    if isinstance(data, dict):
        return any(_contains_ndarray(x) for x in data.values())
    return False


def save_input_example(example: Any, path: Path) -> dict[str, Any]:
    """Write ``example`` into the model directory ``path``; return ``saved_input_example_info``.

    Args:
        example: a DataFrame, ndarray, dict of ndarrays, dict or list of JSON values, scalar,
            datetime, scipy csr/csc matrix, or a ``(data, params)`` tuple with inference params.
        path: the model directory; ``input_example.json`` and ``serving_input_example.json`` are
            written there.

    Returns:
        The MLmodel ``saved_input_example_info``, e.g. ``{"artifact_path": "input_example.json",
        "type": "dataframe", "pandas_orient": "split", "serving_input_path":
        "serving_input_example.json"}``.

    Raises:
        InvalidParameter: the example (or its params) is of an unsupported kind.
    """
    data, params = split_input_example(example)
    kind, stored, serving, extra = _encode(data)
    info: dict[str, Any] = {"artifact_path": INPUT_EXAMPLE_FILE}
    if params is not None:
        info["params"] = "true"
        stored = {"inputs": stored, "params": params}
        # LLM requests carry their params at the top level, as MLflow writes them.
        serving = {**serving, **params} if extra.get("llm") else {**serving, "params": params}
    info["type"] = kind
    info.update({k: v for k, v in extra.items() if k != "llm"})
    info["serving_input_path"] = SERVING_INPUT_FILE
    path.mkdir(parents=True, exist_ok=True)
    (path / INPUT_EXAMPLE_FILE).write_text(json.dumps(stored, cls=_Encoder))
    (path / SERVING_INPUT_FILE).write_text(json.dumps(serving, cls=_Encoder, indent=2))
    return info


def convert_input_example_to_serving_input(input_example: Any) -> str | None:
    """The ``/invocations`` body (JSON text) for ``input_example``, as MLflow's function of the
    same name writes it; ``None`` for no example. The same encoding as
    ``serving_input_example.json``."""
    if input_example is None:
        return None
    data, params = split_input_example(input_example)
    _, _, serving, extra = _encode(data)
    if params is not None:
        serving = {**serving, **params} if extra.get("llm") else {**serving, "params": params}
    return json.dumps(serving, cls=_Encoder, indent=2)


def _read_stored(model_dir: Path, info: dict[str, Any]) -> Any:
    kind = info.get("type")
    if kind not in EXAMPLE_TYPES:
        raise InvalidParameter(
            f"Unknown input example type {kind!r}; expected one of {list(EXAMPLE_TYPES)}"
        )
    name = info.get("artifact_path", INPUT_EXAMPLE_FILE)
    file = model_file(model_dir, name, "saved_input_example_info.artifact_path")
    return json.loads(file.read_text())


def load_input_example(model_dir: Path, info: dict[str, Any], schema: Schema | None = None) -> Any:
    """Read a model's input example back as the data it was saved from.

    DataFrames come back as DataFrames, arrays as ndarrays (a dict of them for named tensors),
    sparse matrices as scipy matrices and JSON examples as they were stored. Given the model's
    input ``schema``, column and tensor types are restored (binary, datetime, float32 ...) as
    MLflow's ``Model.load_input_example`` restores them.

    Raises:
        InvalidParameter: unknown example type, or a value that does not fit ``schema``.
    """
    stored = _read_stored(model_dir, info)
    if info.get("params"):
        stored = stored["inputs"]
    kind = info["type"]
    if kind == "json_object":
        return stored
    if kind == "ndarray":
        return _parse_inputs(stored, schema)
    if kind == "dataframe":
        import pandas as pd

        if not isinstance(stored, dict) or "data" not in stored:
            raise InvalidParameter("A DataFrame input example needs a 'data' field")
        df = pd.DataFrame(
            index=stored.get("index"), columns=stored.get("columns"), data=stored["data"]
        )
        return _cast_dataframe(df, schema) if schema is not None else df
    from scipy.sparse import csc_matrix, csr_matrix

    matrix = csc_matrix if kind == "sparse_matrix_csc" else csr_matrix
    parts = (stored["data"], stored["indices"], stored["indptr"])
    return matrix(parts, shape=tuple(stored["shape"]))


def load_input_example_params(model_dir: Path, info: dict[str, Any]) -> dict[str, Any] | None:
    """The inference params saved with an example (a ``(data, params)`` tuple), or ``None``."""
    if not info.get("params"):
        return None
    params: dict[str, Any] = _read_stored(model_dir, info)["params"]
    return params


def load_serving_input_example(model_dir: Path, info: dict[str, Any]) -> str | None:
    """The text of ``serving_input_example.json`` (an ``/invocations`` body), if there is one."""
    name = info.get("serving_input_path")
    if not name:
        return None
    return model_file(model_dir, name, "saved_input_example_info.serving_input_path").read_text()


def _convert(data: Any, spec: ColSpec | TensorSpec | None) -> Any:
    """MLflow's ``convert_data_type``: JSON data as the numpy data the spec describes."""
    import numpy as np

    if spec is None:
        return np.array(data)
    if isinstance(spec, TensorSpec):
        return np.array(data, dtype=spec.dtype)
    if isinstance(spec.type, DataType):
        dtype = spec.type.to_numpy()
        if isinstance(data, list) or _is_ndarray(data):
            return np.array(data, dtype)
        return np.array([data], dtype)[0]
    if isinstance(spec.type, Array):
        return np.array(_enforce_value(data, spec.type, spec.required))
    return _enforce_value(data, spec.type, spec.required)


def _parse_inputs(data: Any, schema: Schema | None) -> Any:
    """MLflow's ``parse_inputs_data``: the stored ``inputs`` as numpy data fit for ``schema``."""
    named = schema is not None and schema.has_input_names()
    specs: dict[Any, ColSpec | TensorSpec] = dict(schema.input_dict()) if schema and named else {}
    if schema is not None:
        if (
            len(specs) == 1
            and isinstance(data, list)
            and not any(isinstance(x, dict) for x in data)
        ):
            data = {next(iter(specs)): data}
        elif not named and not (isinstance(data, list) or _is_scalar(data)):
            raise InvalidParameter(
                "The model has an unnamed signature, which takes a single array or value, but "
                f"the input example is a {type(data).__name__}"
            )
    try:
        if isinstance(data, dict):
            return {col: _convert(value, specs.get(col)) for col, value in data.items()}
        first = schema.inputs[0] if schema is not None else None
        if isinstance(data, list) and data and all(isinstance(x, dict) for x in data):
            return [{c: _convert(v, specs.get(c)) for c, v in row.items()} for row in data]
        return _convert(data, first)
    except (TypeError, ValueError) as e:
        raise InvalidParameter(f"The input example does not fit the model signature: {e}") from e


def _decode_binary(value: str) -> bytes:
    return base64.decodebytes(bytes(value, "utf8"))


def _to_bytes(value: str) -> bytes:
    return bytes(value, "utf8")


def _cast_dataframe(df: Any, schema: Schema) -> Any:
    """MLflow's ``cast_df_types_according_to_schema`` for a DataFrame read from JSON."""
    import numpy as np
    import pandas as pd

    types = schema.input_types()
    if schema.has_input_names():
        pairs = list(zip(schema.input_names(), types, strict=True))
    elif schema.is_tensor_spec() and len(types) == 1:
        pairs = [(col, types[0]) for col in df.columns]
    else:
        n = min(len(types), len(df.columns))
        pairs = list(zip(df.columns[:n], types[:n], strict=True))
    required = set(schema.required_input_names())
    for col, t in pairs:
        if col not in df.columns:
            continue
        try:
            if t is DataType.binary:
                df[col] = df[col].map(_decode_binary)
            elif isinstance(t, str) and np.dtype(t).kind == "S":
                df[col] = df[col].map(_to_bytes)
            elif schema.is_tensor_spec() and len(df) and isinstance(df[col].iloc[0], list):
                pass  # list cells are reshaped into tensors when the model is called
            elif isinstance(t, Array | Object | Map):
                df[col] = df[col].map(partial(_enforce_value, t=t, required=col in required))
            elif isinstance(t, AnyType):
                pass
            elif t is DataType.datetime:
                parsed = pd.to_datetime(df[col])
                if getattr(parsed.dt, "unit", "ns") != "ns":  # pandas 3 parses to microseconds
                    parsed = parsed.dt.as_unit("ns")
                df[col] = parsed
            else:
                target = t.to_pandas() if isinstance(t, DataType) else np.dtype(t)
                is_text = target is object or np.dtype(target).kind == "U"
                if is_text and isinstance(df[col].dtype, pd.StringDtype):
                    continue  # pandas 3 string columns already are strings
                df[col] = df[col].astype(target)
        except InvalidParameter:
            raise
        except Exception as e:
            raise InvalidParameter(
                f"Failed to convert column {col!r} of the input example to {t!r}: {e!r}"
            ) from e
    return df
