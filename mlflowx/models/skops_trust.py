"""Which of the types a skops file names are trusted without the caller's opt-in.

skops trusts only a fixed set of types (builtin containers, numpy arrays and dtypes, most
scikit-learn estimators). The internals of common estimators are not in that set:
``sklearn.tree._tree.Tree`` (every tree ensemble), ``...predictor.TreePredictor``
(HistGradientBoosting), ``sklearn.neighbors._kd_tree.KDTree`` and
``sklearn.metrics._dist_metrics.EuclideanDistance64`` (KNN), ``...AdamOptimizer`` (MLP). They were
derived by saving RandomForest, ExtraTrees, GradientBoosting and HistGradientBoosting (classifier
and regressor), DecisionTree, KNN, SVC/SVR, IsolationForest, KMeans, MLP and pipelines with
StandardScaler, OneHotEncoder and ColumnTransformer: every name skops reported was a
scikit-learn *class*; none was a numpy or scipy one, so none of those is trusted here.

A name is trusted only if it resolves to a class defined in scikit-learn. A skops file builds
classes from their state; it *calls* functions (a ``FunctionTransformer``'s ``func``, a
``numpy`` ufunc, a ``builtins`` callable such as ``eval``), so a function is never trusted by
default, even one from scikit-learn, nor a class that a scikit-learn module merely imports
(``sklearn.x.Popen`` would resolve to ``subprocess.Popen``, which is not defined in sklearn).
Everything else (a class of the user's own, a function) still needs ``trusted_types``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

__all__ = ["is_sklearn_class", "untrusted"]


def is_sklearn_class(name: str) -> bool:
    """``name`` (``module.Class`` as skops reports it) is a class defined in scikit-learn."""
    if not name.startswith("sklearn.") or ".tests." in f"{name}.":
        return False
    parts = name.split(".")
    # The longest importable module prefix, then attributes (a nested class has dots too).
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            obj: object = importlib.import_module(module_name)
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, None)
            if obj is None:
                return False
        return isinstance(obj, type) and (obj.__module__ or "").split(".")[0] == "sklearn"
    return False


def untrusted(names: Iterable[str], trusted: Iterable[str] = ()) -> list[str]:
    """The names among ``names`` that neither the caller nor the scikit-learn rule trusts."""
    extra = set(trusted)
    return sorted({n for n in names if n not in extra and not is_sklearn_class(n)})
