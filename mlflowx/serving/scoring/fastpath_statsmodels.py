"""The fast path for statsmodels results fitted on numeric columns (``sm.OLS(y, X).fit()``).

The general path builds a DataFrame, checks it against the signature and calls
``results.predict(frame)``, which converts the frame back to the float64 array it multiplies
by the parameters and wraps the answer in a Series (indexed as the frame: the answer's JSON
records do not show the index). For results fitted on arrays or frames
(not a formula, not a time-series model) whose exogenous names are the signature's columns in
order, this path builds that array (Fortran-ordered, as numpy gets it from a frame) from the
JSON rows and calls ``results.predict`` on it: the same numbers, tested bit for bit. Anything
else takes the general path.
"""

from __future__ import annotations

from typing import Any

from mlflowx.models.load import PyFuncModel
from mlflowx.serving.scoring.fastpath import SklearnFastPath, double_columns

__all__ = ["statsmodels_fast_path"]

_LOADERS = ("mlflow.statsmodels", "mlflowx.statsmodels")


def statsmodels_fast_path(model: PyFuncModel) -> SklearnFastPath | None:
    """The fast path for a statsmodels ``model``, or None when it does not qualify."""
    flavors = model.metadata.flavors
    loader = (flavors.get("python_function") or {}).get("loader_module")
    if "statsmodels" not in flavors or loader not in _LOADERS:
        return None
    names = double_columns(model)
    if names is None:
        return None
    try:
        from statsmodels.tsa.base.tsa_model import TimeSeriesModel

        results = model.unwrap_python_model()
        inner = results.model
        if isinstance(inner, TimeSeriesModel) or getattr(inner, "formula", None) is not None:
            return None
        if [str(n) for n in inner.exog_names or ()] != names:
            return None
    except Exception:  # an unusual results object: the general path handles it
        return None

    def predict(array: Any) -> Any:
        import pandas as pd

        return pd.Series(results.predict(array))  # what predict answers for a frame

    return SklearnFastPath(results, predict, names)
