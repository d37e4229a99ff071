"""Type checks that import nothing: pandas, numpy and scipy objects recognised via ``sys.modules``.

An object of a module that was never imported cannot exist, so looking the module up in
``sys.modules`` answers "is this a DataFrame?" without importing pandas.
"""

from __future__ import annotations

import math
import sys
from typing import Any


def _instance_of(x: Any, module: str, *names: str) -> bool:
    mod = sys.modules.get(module)
    return mod is not None and isinstance(x, tuple(getattr(mod, n) for n in names))


def _is_ndarray(x: Any) -> bool:
    return _instance_of(x, "numpy", "ndarray")


def _is_dataframe(x: Any) -> bool:
    return _instance_of(x, "pandas", "DataFrame")


def _is_series(x: Any) -> bool:
    return _instance_of(x, "pandas", "Series")


def _is_sparse(x: Any) -> bool:
    return _instance_of(x, "scipy.sparse", "csr_matrix", "csc_matrix")


def _type_key(x: Any) -> tuple[str, str]:
    return type(x).__module__, type(x).__name__


def _is_scalar(x: Any) -> bool:
    """``numpy.isscalar`` without numpy: Python and numpy scalars, not None/containers."""
    if isinstance(x, bool | int | float | complex | str | bytes):
        return True
    np = sys.modules.get("numpy")
    return np is not None and isinstance(x, np.generic)


def _is_none_or_nan(x: Any) -> bool:
    if isinstance(x, float):
        return math.isnan(x)
    pd = sys.modules.get("pandas")
    return x is None or (pd is not None and (x is pd.NA or x is pd.NaT))
