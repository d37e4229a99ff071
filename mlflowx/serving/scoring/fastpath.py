"""A fast path for the most common served model: scikit-learn on numeric columns.

For such a model the general path builds a DataFrame, casts it, checks it against the signature
(which copies it), and hands it to scikit-learn, which spends most of a 1-row prediction
checking the DataFrame's names and dtypes before converting it to the float64 array it
computes on. When every condition below holds, the outcome of all that is known in advance,
so this path builds that array directly from the JSON rows and calls the estimator with it:

* the model is the sklearn flavor, and every estimator in it (a Pipeline's steps, nested
  parameters) is a scikit-learn class that does not select columns by name (no
  ColumnTransformer/FunctionTransformer, no third-party classes);
* the signature has named, required ``double`` columns only, and the estimator was fitted on
  exactly those names in that order (or on no names);
* the request is ``dataframe_split``/``dataframe_records`` holding exactly the signature's
  columns (any order) with numeric values, and no ``params``.

The array is Fortran-ordered, as scikit-learn gets it from a DataFrame, so results are
bit-identical to the general path (tested). Anything else takes the general path.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from typing import Any

from mlflowx.models.load import PyFuncModel

__all__ = ["FastPath", "SklearnFastPath", "double_columns", "sklearn_fast_path"]

_NAME_USERS = {"ColumnTransformer", "FunctionTransformer", "make_column_selector"}
_SKLEARN_LOADERS = ("mlflow.sklearn", "mlflowx.sklearn")


def _positional(estimator: Any) -> bool:
    """True when no part of ``estimator`` depends on column names."""
    seen: list[Any] = [estimator]
    try:
        params = estimator.get_params(deep=True)
    except Exception:
        return False
    seen += [v for v in params.values() if hasattr(v, "fit") or hasattr(v, "transform")]
    steps = getattr(estimator, "steps", None)
    if steps:
        seen += [s for _, s in steps]
    for obj in seen:
        if obj is None or obj == "passthrough":
            continue
        cls = type(obj)
        if not cls.__module__.startswith("sklearn.") or cls.__name__ in _NAME_USERS:
            return False
    return True


class FastPath(ABC):
    """A shortcut the scoring app tries first on a one-key JSON payload: ``rows`` builds the
    model's input array (None: the general path must handle the request), ``predict`` predicts
    on it, with the same outcome as the general path."""

    @abstractmethod
    def rows(self, key: str, value: Any) -> Any: ...

    @abstractmethod
    def predict(self, array: Any) -> Any: ...


class SklearnFastPath(FastPath):
    """Predicts ``dataframe_split``/``dataframe_records`` payloads straight from the rows."""

    def __init__(self, estimator: Any, method: Any, names: list[str]) -> None:
        self.estimator = estimator
        self.method = method
        self.names = names
        self._index = {n: i for i, n in enumerate(names)}
        self._order = tuple(names)

    def rows(self, key: str, value: Any) -> Any:
        """The float64 array for the payload, or None when the general path must handle it."""
        import numpy as np

        if key == "dataframe_split":
            if not isinstance(value, dict) or set(value) - {"columns", "data", "index"}:
                return None
            columns, data = value.get("columns"), value.get("data")
            if not isinstance(columns, list) or not isinstance(data, list) or not data:
                return None
            index = value.get("index")
            if index is not None and (not isinstance(index, list) or len(index) != len(data)):
                return None  # the general path reports the bad index
            if tuple(columns) != self._order:
                if len(columns) != len(self.names) or set(columns) != set(self.names):
                    return None
                perm: list[int] | None = [columns.index(n) for n in self.names]
            else:
                perm = None
        elif key == "dataframe_records":
            if not isinstance(value, list) or not value:
                return None
            try:
                if not all(isinstance(r, dict) and len(r) == len(self.names) for r in value):
                    return None
                data = [[r[n] for n in self.names] for r in value]
            except KeyError:
                return None
            perm = None
        else:
            return None
        try:
            raw = np.array(data)
        except (ValueError, TypeError):
            return None
        if raw.ndim != 2 or raw.shape[1] != len(self.names) or raw.dtype.kind not in "fiub":
            return None
        if perm is not None:
            raw = raw[:, perm]
        return np.asfortranarray(raw, dtype=np.float64)

    def predict(self, array: Any) -> Any:
        with warnings.catch_warnings():
            # Fitted on a DataFrame, scikit-learn notes that an array has no column names;
            # the columns were matched to the fitted names above.
            warnings.filterwarnings("ignore", message="X does not have valid feature names")
            return self.method(array)


def double_columns(model: PyFuncModel) -> list[str] | None:
    """The signature's column names when it has named, required ``double`` columns only and
    no params; else None."""
    from mlflowx.models.schema import ColSpec, DataType

    signature = model.signature
    if signature is None or signature.inputs is None or signature.params is not None:
        return None
    schema = signature.inputs
    if schema.is_tensor_spec() or not schema.has_input_names():
        return None
    specs = list(schema.inputs)
    if not all(isinstance(s, ColSpec) and s.type is DataType.double and s.required for s in specs):
        return None
    return [str(s.name) for s in specs]


def sklearn_fast_path(model: PyFuncModel) -> SklearnFastPath | None:
    """The fast path for ``model``, or None when it does not qualify."""
    flavors = model.metadata.flavors
    pyfunc = flavors.get("python_function") or {}
    if "sklearn" not in flavors or pyfunc.get("loader_module") not in _SKLEARN_LOADERS:
        return None
    names = double_columns(model)
    if names is None:
        return None
    try:
        estimator = model.unwrap_python_model()
    except Exception:
        return None
    method = getattr(estimator, str(pyfunc.get("predict_fn", "predict")), None)
    if method is None or not _positional(estimator):
        return None
    fitted = getattr(estimator, "feature_names_in_", None)
    if fitted is not None and [str(n) for n in fitted] != names:
        return None
    return SklearnFastPath(estimator, method, names)
