"""Enforcement: check (and safely cast) what ``predict`` gets against a model's signature.

:func:`enforce_schema` checks input data against an input :class:`~mlflowx.models.schema.Schema`
and :func:`enforce_params` checks inference params against a
:class:`~mlflowx.models.schema.ParamSchema`, as MLflow 3.17 does. pandas and numpy are imported
only when data of theirs is handled.
"""

from __future__ import annotations

import logging
from typing import Any

from mlflowx.exceptions import InvalidParameter
from mlflowx.models._types import _is_dataframe, _is_ndarray, _is_scalar, _is_series, _is_sparse
from mlflowx.models.schema import (
    Array,
    ColSpec,
    ColType,
    DataType,
    Object,
    ParamSchema,
    Schema,
    TensorSpec,
    _check_param,
    _clean_tensor_dtype,
    _enforce_column,
    _enforce_value,
)

__all__ = ["enforce_params", "enforce_schema"]

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- params


def enforce_params(
    params: dict[str, Any] | None,
    param_schema: ParamSchema | None,
    *,
    strict: bool = False,
) -> dict[str, Any]:
    """The params ``predict`` passes on: checked, converted, and completed with defaults.

    As MLflow, params the schema does not declare are ignored with a logged warning (all of them
    when the model declares no param schema); ``strict=True`` rejects them instead.

    Raises:
        InvalidParameter: a param has the wrong type or shape (all such params are listed), or
            params is not a dict, or (``strict``) unknown params were given.
    """
    if params is not None and not isinstance(params, dict):
        raise InvalidParameter(f"Params must be a dict, got {type(params).__name__}")
    params = {str(k): v for k, v in (params or {}).items()}
    if param_schema is None:
        if params:
            if strict:
                raise InvalidParameter(
                    f"Unknown params {sorted(params)}: the model declares no params"
                )
            log.warning("The model declares no params; ignoring params %s", sorted(params))
        return {}
    declared = {spec.name: spec for spec in param_schema.params}
    if unknown := [k for k in params if k not in declared]:
        if strict:
            raise InvalidParameter(f"Unknown params {unknown}; the model declares {list(declared)}")
        log.warning("Ignoring params %s not in the model's params %s", unknown, list(declared))
    result, errors = {}, []
    for name, spec in declared.items():
        if name not in params:
            result[name] = spec.default
            continue
        try:
            result[name] = _check_param(spec, params[name])
        except InvalidParameter as e:
            errors.append(str(e))
    if errors:
        raise InvalidParameter("Invalid params: " + "; ".join(errors))
    return result


# ---------------------------------------------------------------- data: enforcement


def enforce_schema(data: Any, schema: Schema) -> Any:
    """Check ``data`` against an input schema before ``predict``; return it safely cast.

    Column schemas take a DataFrame (or a Series, a dict of columns, a list of row dicts, a list
    or a scalar, converted as MLflow converts them). Required columns must be present; extra
    columns are dropped and columns put in schema order, as MLflow does. Casts that keep every
    value (int32 -> long, float32 -> double, int32 -> double ...) are applied, others refused.
    Tensor schemas take an ndarray (a dict of them for named tensors, or a DataFrame); shapes must
    match (``-1`` matches any size) and dtypes must be equal or safely castable (numpy's rule).

    Raises:
        InvalidParameter: naming the missing inputs, or the column/tensor, the expected and the
            actual type of a value that cannot be safely converted.
    """
    if _is_series(data):
        import pandas as pd

        data = pd.DataFrame(data)
    if not schema.is_tensor_spec():
        data = _to_dataframe(data, schema)
    if schema.has_input_names():
        _check_names(data, schema)
    elif not schema.is_tensor_spec() and len(data.columns) < len(schema.inputs):
        raise InvalidParameter(
            f"The model signature declares {len(schema.inputs)} unnamed inputs but the data has "
            f"only {len(data.columns)} columns"
        )
    if schema.is_tensor_spec():
        return _enforce_tensors(data, schema)
    return _enforce_columns(data, schema)


def _to_dataframe(data: Any, schema: Schema) -> Any:
    import pandas as pd

    if _is_dataframe(data):
        return data
    if _is_scalar(data):
        return pd.DataFrame([data])
    if isinstance(data, dict):
        complex_cols = any(isinstance(c.type, Array | Object) for c in schema.inputs)
        if complex_cols or all(
            _is_scalar(v)
            or v is None
            or (isinstance(v, list) and all(isinstance(i, str) for i in v))
            for v in data.values()
        ):
            return pd.DataFrame([data])  # one row, as MLflow reads a dict of scalars
        try:
            return pd.DataFrame(
                {k: v.tolist() if _is_ndarray(v) and v.ndim > 1 else v for k, v in data.items()}
            )
        except Exception as e:
            raise InvalidParameter(f"Cannot read the input dict as a DataFrame: {e}") from None
    if isinstance(data, list) or _is_ndarray(data):
        return pd.DataFrame(data)
    raise InvalidParameter(
        f"The model has a column-based signature, so it expects a DataFrame; got "
        f"{type(data).__name__}"
    )


def _check_names(data: Any, schema: Schema) -> None:
    if _is_dataframe(data):
        actual = list(data.columns)
    elif isinstance(data, dict):
        actual = list(data)
    else:
        return  # unnamed tensor data for a named schema is refused when enforcing tensors
    required = schema.required_input_names()
    known = set(schema.input_names())
    missing = [c for c in required if c not in set(actual)]
    extra = [c for c in actual if c not in known]
    if missing:
        note = f" Note that there were extra inputs: {extra}." if extra else ""
        raise InvalidParameter(f"Model is missing inputs {missing}.{note}")
    if extra:
        log.warning("Ignoring inputs %s that the model signature does not declare", extra)


def _enforce_columns(df: Any, schema: Schema) -> Any:
    import pandas as pd

    columns: dict[Any, Any] = {}
    if schema.has_input_names():
        pairs = [(c.name, c) for c in schema.inputs if c.name in df.columns]
    else:
        pairs = list(zip(df.columns[: len(schema.inputs)], schema.inputs, strict=True))
    for name, spec in pairs:
        assert isinstance(spec, ColSpec)
        if isinstance(spec.type, DataType):
            columns[name] = _enforce_column(name, df[name], spec.type)
        else:
            columns[name] = pd.Series(
                [_enforce_cell(name, v, spec.type, spec.required) for v in df[name]],
                index=df.index,
                name=name,
                dtype=object,
            )
    return pd.DataFrame(columns, index=df.index)


def _enforce_cell(column: Any, value: Any, t: ColType, required: bool) -> Any:
    try:
        return _enforce_value(value, t, required)
    except InvalidParameter as e:
        raise InvalidParameter(f"Column {column!r} does not match {t!r}: {e}") from None


def _enforce_tensors(data: Any, schema: Schema) -> Any:
    specs = [s for s in schema.inputs if isinstance(s, TensorSpec)]
    if schema.has_input_names():
        if _is_ndarray(data) and len(specs) == 1:
            data = {specs[0].name: data}  # as MLflow: one named tensor may be given bare
        if isinstance(data, dict):
            result = {}
            for spec in specs:
                value = data[spec.name]
                if not _is_ndarray(value):
                    raise InvalidParameter(
                        f"Tensor input {spec.name!r} must be a numpy array, got "
                        f"{type(value).__name__}"
                    )
                result[spec.name] = _enforce_tensor(value, spec)
            return result
        if _is_dataframe(data):
            return {s.name: _column_to_tensor(data[s.name], s) for s in specs}
        raise InvalidParameter(
            "The model has a signature of named tensors, so it expects a dict of numpy arrays "
            f"or a DataFrame; got {type(data).__name__}"
        )
    spec = specs[0]
    if _is_dataframe(data):
        if data.empty:
            raise InvalidParameter("The input DataFrame is empty")
        if len(data.columns) == 1:
            return _column_to_tensor(data[data.columns[0]], spec)
        if spec.shape != (-1, len(data.columns)):
            raise InvalidParameter(
                f"A DataFrame of {len(data.columns)} columns needs a tensor of shape "
                f"(-1, {len(data.columns)}); the signature declares {spec.shape}"
            )
        return _enforce_tensor(data.to_numpy(), spec)
    if _is_ndarray(data) or _is_sparse(data):
        return _enforce_tensor(data, spec)
    raise InvalidParameter(
        "The model has a tensor signature, so it expects a numpy array or a DataFrame; got "
        f"{type(data).__name__}"
    )


def _enforce_tensor(values: Any, spec: TensorSpec) -> Any:
    import numpy as np

    label = f"input {spec.name!r}" if spec.name else "the input"
    expected = np.dtype(spec.dtype)
    actual = values.data.dtype if _is_sparse(values) else values.dtype
    shape = values.shape
    if len(spec.shape) == 1 and spec.shape[0] == -1 and expected == np.dtype("O"):
        return values  # Tensor('object', (-1,)) accepts anything, as in MLflow
    if len(spec.shape) > 1 and -1 in spec.shape[1:] and len(shape) == 1 and actual.kind == "O":
        return values  # a ragged array for a spec with variable inner dimensions
    if len(shape) != len(spec.shape) or any(
        e not in (-1, a) for e, a in zip(spec.shape, shape, strict=True)
    ):
        raise InvalidParameter(
            f"Shape of {label} {tuple(shape)} does not match the expected shape {spec.shape}"
        )
    if _clean_tensor_dtype(actual) == spec.dtype:
        return values
    numeric = "biuf"
    if (
        actual.kind in numeric
        and expected.kind in numeric
        and np.can_cast(actual, expected, casting="safe")
    ):
        return values.astype(expected)
    raise InvalidParameter(
        f"dtype of {label} is {actual}, which does not match and can not be safely cast to "
        f"the expected dtype {expected}"
    )


def _column_to_tensor(series: Any, spec: TensorSpec) -> Any:
    import numpy as np

    label = f"column {series.name!r}"
    if spec.shape[0] != -1 or -1 in spec.shape[1:]:
        raise InvalidParameter(
            f"A DataFrame {label} needs a tensor shape with a variable first dimension and fixed "
            f"others; the signature declares {spec.shape}"
        )
    first = series.iloc[0] if len(series) else None
    if _is_scalar(first) or first is None:
        if spec.shape not in ((-1,), (-1, 1)):
            raise InvalidParameter(
                f"The DataFrame {label} holds scalars, which need a tensor shape (-1,) or (-1, 1); "
                f"the signature declares {spec.shape}"
            )
        array = series.to_numpy()
        if array.dtype == object and np.dtype(spec.dtype).kind in ("U", "S"):
            array = array.astype(spec.dtype)  # pandas string columns: object arrays of str
        return _enforce_tensor(array.reshape(spec.shape), spec)
    try:
        array = np.vstack([np.asarray(v) for v in series.tolist()]).reshape(spec.shape)
    except ValueError as e:
        raise InvalidParameter(
            f"The values of {label} can not be reshaped to {spec.shape}; give every row the same "
            f"length: {e}"
        ) from None
    if len(array) != len(series):
        raise InvalidParameter(f"The values of {label} can not be reshaped to {spec.shape}")
    return _enforce_tensor(array, spec)
