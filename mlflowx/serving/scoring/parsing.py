"""Reading scoring requests as MLflow's scoring server reads them.

JSON bodies hold exactly one of ``dataframe_split``, ``dataframe_records``, ``instances`` or
``inputs`` (other keys are ignored, as MLflow does), plus optional ``params``; a body with one of
the unified LLM keys (``messages``, ``prompt``, ``input``) is passed to the model as it is.
CSV bodies are read with pandas. DataFrame columns are cast to the signature's types here, as
MLflow does before ``predict`` (JSON has no int32 or float32, so ``[1, 2]`` may feed a double
column); the model's own schema enforcement then checks the result.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlflowx.exceptions import BadRequest, InvalidParameter, MlflowxError
from mlflowx.serving.scoring.errors import UnsupportedMediaType

if TYPE_CHECKING:
    from mlflowx.models.schema import ColType, ParamSchema, Schema

__all__ = [
    "CONTENT_TYPES",
    "FORMATS",
    "ParsedRequest",
    "loads_json",
    "media_type",
    "parse_csv",
    "parse_json",
    "parse_parquet",
    "parse_request",
]

JSON = "application/json"
CSV = "text/csv"
PARQUET = "application/vnd.apache.parquet"
CONTENT_TYPES = (JSON, CSV, PARQUET)

DF_SPLIT, DF_RECORDS, INSTANCES, INPUTS = (
    "dataframe_split",
    "dataframe_records",
    "instances",
    "inputs",
)
FORMATS = (DF_SPLIT, DF_RECORDS, INSTANCES, INPUTS)
LLM_KEYS = ("messages", "prompt", "input")
_ONE_OF = f"The input must be a JSON object with exactly one of the fields {list(FORMATS)}"

try:  # orjson is several times faster than json on the request path
    import orjson

    _orjson_loads: Any = orjson.loads
except ImportError:  # pragma: no cover - orjson is part of the serving extra
    _orjson_loads = None


@dataclass(frozen=True)
class ParsedRequest:
    """What ``predict`` gets: ``data``, ``params``, and whether to answer without the
    ``{"predictions": ...}`` wrapper (unified LLM requests)."""

    data: Any
    params: dict[str, Any] | None = None
    unwrapped: bool = False


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header; unsupported ones (and any charset but UTF-8, or
    unknown parameters) raise :class:`UnsupportedMediaType` (415)."""
    if not content_type:
        raise UnsupportedMediaType(
            f"The request has no Content-Type; send one of {list(CONTENT_TYPES)}"
        )
    mime, _, rest = content_type.partition(";")
    mime = mime.strip().lower()
    if mime not in CONTENT_TYPES:
        raise UnsupportedMediaType(
            f"Unsupported Content-Type {content_type!r}; this server reads {list(CONTENT_TYPES)}"
        )
    if rest:
        for pair in rest.split(";"):
            key, _, value = pair.strip().partition("=")
            key = key.strip().lower()
            if not key:
                continue
            if key != "charset":
                raise UnsupportedMediaType(
                    f"Unrecognized Content-Type parameter {key!r} in {content_type!r}; only "
                    "charset is read"
                )
            if value.strip().strip('"').lower() not in ("utf-8", "utf8"):
                raise UnsupportedMediaType(
                    f"Unsupported charset in {content_type!r}: the scoring server reads UTF-8 only"
                )
    return mime


def loads_json(body: bytes | str) -> Any:
    """Parse JSON like Python's json module (NaN and Infinity accepted, as MLflow's clients
    send them), quickly when orjson is installed."""
    if _orjson_loads is not None:
        try:
            return _orjson_loads(body)
        except ValueError:
            pass  # NaN/Infinity, huge integers, or a real error: json decides and explains
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadRequest(f"Invalid input: the body is not valid JSON: {e}") from None


def parse_request(
    body: bytes, content_type: str | None, schema: Schema | None, params: ParamSchema | None
) -> ParsedRequest:
    """Parse a request body of the given Content-Type into model input."""
    mime = media_type(content_type)
    if mime == JSON:
        return parse_json(loads_json(body), schema, params)
    if mime == CSV:
        return ParsedRequest(parse_csv(body, schema))
    return ParsedRequest(parse_parquet(body))


def parse_json(
    payload: Any, schema: Schema | None, param_schema: ParamSchema | None = None
) -> ParsedRequest:
    """Parsed JSON (a dict) -> model input, as MLflow's scoring server reads it."""
    if not isinstance(payload, dict):
        kind = "a list" if isinstance(payload, list) else f"a JSON {type(payload).__name__}"
        raise BadRequest(f"Invalid input. {_ONE_OF}; got {kind}")
    if any(k in payload for k in LLM_KEYS):
        declared = {p.name for p in param_schema.params} if param_schema else set()
        data = {k: v for k, v in payload.items() if k not in declared}
        llm_params = {k: v for k, v in payload.items() if k in declared}
        return ParsedRequest(data, llm_params, unwrapped=True)
    params = payload.get("params")
    if params is not None and not isinstance(params, dict):
        raise BadRequest(f"Invalid input: 'params' must be a JSON object, got {params!r}")
    keys = [k for k in FORMATS if k in payload]
    if len(keys) != 1:
        raise BadRequest(f"{_ONE_OF}; got the fields {list(payload)}")
    key = keys[0]
    value = payload[key]
    if key == DF_SPLIT:
        data = _cast_frame(_frame_from_split(value), schema)
    elif key == DF_RECORDS:
        data = _cast_frame(_frame_from_records(value), schema)
    elif key == INSTANCES:
        data = _instances(value, schema)
    else:
        data = _cast_inputs(value, schema)
    return ParsedRequest(data, params)


# ---------------------------------------------------------------- DataFrame formats


def _frame_from_split(value: Any) -> Any:
    import pandas as pd

    if not isinstance(value, dict):
        kind = "a list" if isinstance(value, list) else type(value).__name__
        raise BadRequest(f"Invalid input. {DF_SPLIT} must be a JSON object; got {kind}")
    if "data" not in value or set(value) - {"columns", "data", "index"}:
        raise BadRequest(
            f"Invalid input. {DF_SPLIT} needs a 'data' field and optionally 'columns' and "
            f"'index'; got the fields {sorted(value)}"
        )
    try:
        return pd.DataFrame(
            data=value["data"], columns=value.get("columns"), index=value.get("index")
        )
    except Exception as e:
        raise BadRequest(f"Invalid input. {DF_SPLIT} is not a valid DataFrame: {e}") from None


def _frame_from_records(value: Any) -> Any:
    import pandas as pd

    if not isinstance(value, list):
        kind = "an object" if isinstance(value, dict) else type(value).__name__
        raise BadRequest(f"Invalid input. {DF_RECORDS} must be a list of records; got {kind}")
    try:
        return pd.DataFrame(data=value)
    except Exception as e:
        raise BadRequest(f"Invalid input. {DF_RECORDS} is not a valid DataFrame: {e}") from None


def _cast_frame(df: Any, schema: Schema | None) -> Any:
    """Cast DataFrame columns to the signature's types (MLflow does this before predict)."""
    if schema is None:
        return df
    from mlflowx.models.schema import DataType

    if schema.has_input_names():
        pairs = [(n, t) for n, t in zip(schema.input_names(), schema.input_types(), strict=True)]
    elif schema.is_tensor_spec() and len(schema.inputs) == 1:
        pairs = [(c, schema.input_types()[0]) for c in df.columns]
    else:
        n = min(len(schema.inputs), len(df.columns))
        pairs = list(zip(df.columns[:n], schema.input_types()[:n], strict=True))
    tensor = schema.is_tensor_spec()
    columns = df.columns
    for name, t in pairs:
        if name not in columns:
            continue  # missing columns are reported by the model's schema enforcement
        try:
            if isinstance(t, DataType):
                cast = _cast_column(df[name], t)
            elif isinstance(t, str):  # a tensor dtype
                cast = _cast_tensor_column(df[name], t)
            else:
                continue  # array/object/map/any columns: checked by schema enforcement
        except MlflowxError:
            raise
        except Exception as e:
            kind = t if tensor else getattr(t, "value", t)
            raise BadRequest(
                f"Invalid input. Data is not compatible with the model signature: failed to "
                f"convert column {name!r} to type {kind!r}: {e}"
            ) from None
        if cast is not None:
            df[name] = cast
    return df


def _cast_column(col: Any, t: Any) -> Any:
    """The column cast to ``t``, or None when it already has that type."""
    import numpy as np
    import pandas as pd

    from mlflowx.models.schema import DataType

    if t is DataType.binary:
        return col.map(lambda x: base64.decodebytes(bytes(x, "utf8")))
    if t is DataType.datetime:
        parsed = pd.to_datetime(col)
        if getattr(parsed.dt, "unit", "ns") != "ns":
            parsed = parsed.dt.as_unit("ns")
        return parsed
    target = t.to_pandas()
    if col.dtype == target:
        return None
    if target is object and isinstance(col.dtype, pd.StringDtype):
        return None  # pandas 3 string columns are already strings
    if (
        isinstance(target, np.dtype)
        and target.kind == "U"
        and isinstance(col.dtype, pd.StringDtype)
    ):
        return None
    return col.astype(target)


def _cast_tensor_column(col: Any, dtype: str) -> Any:
    import numpy as np

    if len(col) and isinstance(col.iloc[0], list):
        return None  # multidimensional cells: reshaped by schema enforcement
    target = np.dtype(dtype)
    if target.kind == "S":
        return col.map(lambda x: bytes(x, "utf8"))
    if col.dtype == target:
        return None
    return col.astype(target)


# ---------------------------------------------------------------- tensor formats


def _instances(value: Any, schema: Schema | None) -> Any:
    import numpy as np

    if isinstance(value, list) and value and isinstance(value[0], dict):
        types = _named_specs(schema)
        columns: dict[str, list[Any]] = defaultdict(list)
        for row in value:
            if not isinstance(row, dict):
                raise BadRequest(f"Invalid input. {INSTANCES} mixes records and other values")
            for col, v in row.items():
                columns[col].append(_convert(v, types.get(col)))
        data: Any = {col: np.array(v) for col, v in columns.items()}
    else:
        data = _cast_inputs(value, schema)
    if isinstance(data, dict):
        _check_lengths(data, schema)
    return data


def _check_lengths(data: dict[str, Any], schema: Schema | None) -> None:
    import numpy as np

    from mlflowx.models.schema import Array

    sized = {k: v for k, v in data.items() if isinstance(v, list | np.ndarray)}
    if schema is not None and schema.has_input_names():
        specs = schema.input_dict()
        required = set(schema.required_input_names())
        check = [
            c
            for c in sized
            if c in required and not isinstance(getattr(specs[c], "type", None), Array)
        ]
    else:
        check = list(sized)
    if len({len(sized[c]) for c in check}) > 1:
        lengths = {c: len(sized[c]) for c in check}
        raise BadRequest(
            f"Invalid input. The inputs of {INSTANCES} have different lengths: {lengths}"
        )


def _named_specs(schema: Schema | None) -> dict[Any, Any]:
    if schema is None or not schema.has_input_names():
        return {}
    return dict(schema.input_dict())


def _cast_inputs(value: Any, schema: Schema | None) -> Any:
    """``inputs`` (and non-record ``instances``): values converted to numpy per the schema."""
    import numpy as np

    types = _named_specs(schema)
    if schema is not None:
        if (
            len(types) == 1
            and isinstance(value, list)
            and not any(isinstance(x, dict) for x in value)
        ):
            value = {next(iter(types)): value}  # one named input given bare
        elif not schema.has_input_names() and not (isinstance(value, list) or np.isscalar(value)):
            raise BadRequest(
                "Invalid input. The model signature has unnamed inputs, so it expects one "
                f"n-dimensional array or a single value; got {type(value).__name__}"
            )
    if isinstance(value, dict):
        return {col: _convert(v, types.get(col)) for col, v in value.items()}
    first = schema.inputs[0] if schema is not None else None
    if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
        return [{col: _convert(v, types.get(col)) for col, v in row.items()} for row in value]
    return _convert(value, first)


def _convert(value: Any, spec: Any) -> Any:
    """One input value as numpy, per its ColSpec/TensorSpec (MLflow's ``convert_data_type``)."""
    import numpy as np

    from mlflowx.models.schema import AnyType, Array, ColSpec, DataType, TensorSpec

    try:
        if spec is None:
            return np.array(value)
        if isinstance(spec, TensorSpec):
            return np.array(value, dtype=spec.type)
        if isinstance(spec, ColSpec):
            t: ColType = spec.type
            if isinstance(t, DataType):
                dtype = t.to_numpy()
                if isinstance(value, list | np.ndarray):
                    return np.array(value, dtype)
                return np.array([value], dtype)[0]
            if isinstance(t, AnyType):
                return value
            from mlflowx.models.schema import _enforce_value

            enforced = _enforce_value(value, t, spec.required)
            return np.array(enforced) if isinstance(t, Array) else enforced
    except (InvalidParameter, BadRequest) as e:
        raise BadRequest(f"Invalid input. {e.message}") from None
    except Exception as e:
        raise BadRequest(f"Invalid input. Failed to convert {value!r} to {spec!r}: {e}") from None
    raise BadRequest(f"Invalid input. Failed to convert {value!r} to {spec!r}")


# ---------------------------------------------------------------- CSV and Parquet


def parse_csv(body: bytes | str | Any, schema: Schema | None) -> Any:
    """A CSV body (or an open file / path) as a DataFrame, typed per the signature."""
    import io

    import pandas as pd

    from mlflowx.models.schema import DataType

    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise BadRequest(f"Invalid input: the CSV body is not valid UTF-8: {e}") from None
    source = io.StringIO(body) if isinstance(body, str) else body
    kwargs: dict[str, Any] = {}
    if schema is not None and schema.has_input_names() and not schema.is_tensor_spec():
        dtypes, dates = {}, []
        for name, t in zip(schema.input_names(), schema.input_types(), strict=True):
            if t is DataType.datetime:
                dates.append(name)
            elif isinstance(t, DataType) and t is not DataType.binary:
                dtypes[name] = t.to_pandas()
        kwargs = {"dtype": dtypes, "parse_dates": dates or None}
    try:
        return pd.read_csv(source, **kwargs)
    except Exception as e:
        raise BadRequest(
            "Failed to parse the input as a CSV DataFrame (as written by "
            f"pandas.DataFrame.to_csv(index=False)): {e}"
        ) from None


def parse_parquet(body: bytes) -> Any:
    import io

    import pandas as pd

    try:
        return pd.read_parquet(io.BytesIO(body))
    except ImportError as e:
        raise UnsupportedMediaType(
            f"Parquet input needs pyarrow, which is not installed here: {e}"
        ) from None
    except Exception as e:
        raise BadRequest(f"Failed to parse the input as a Parquet DataFrame: {e}") from None
