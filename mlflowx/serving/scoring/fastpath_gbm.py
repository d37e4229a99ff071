"""The fast path for XGBoost and LightGBM models on numeric columns.

The payload becomes the float64 array :class:`~mlflowx.serving.scoring.fastpath.SklearnFastPath`
builds (same conditions on the signature and the request), given straight to the framework's
own predict: no DataFrame, no schema copy, no pandas conversion inside XGBoost or LightGBM. The
array must mean what the DataFrame would: an XGBoost model must have been trained on exactly
the signature's columns in that order (XGBoost matches names), a LightGBM model on as many
columns (LightGBM reads by position); both with numeric features only (no categorical).

Small batches (up to :data:`SMALL_BATCH` rows) predict on one thread: both frameworks otherwise
start their OpenMP pool for every call, which for a few rows costs far more than the trees
(tens of milliseconds on a busy 2-core machine instead of well under one). Each row's trees
are summed in the same order either way, so predictions are bit-identical to the general path
(tested); larger batches keep the framework's threads.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from mlflowx.models.load import PyFuncModel
from mlflowx.serving.scoring.fastpath import SklearnFastPath, double_columns

__all__ = ["SMALL_BATCH", "gbm_fast_path"]

SMALL_BATCH = 1024
_LOADERS = {
    "xgboost": ("mlflow.xgboost", "mlflowx.xgboost"),
    "lightgbm": ("mlflow.lightgbm", "mlflowx.lightgbm"),
}
Predict = Callable[[Any], Any]


def _by_size(single: Predict, threaded: Predict) -> Predict:
    def predict(array: Any) -> Any:
        return single(array) if len(array) <= SMALL_BATCH else threaded(array)

    return predict


def _xgboost(model: Any, names: list[str]) -> Predict | None:
    import xgboost as xgb

    booster = model if isinstance(model, xgb.Booster) else model.get_booster()
    types = booster.feature_types
    if list(booster.feature_names or ()) != names or any(t != "float" for t in types or ()):
        return None
    if isinstance(model, xgb.Booster):
        one = model.copy()
        one.set_param({"nthread": 1})

        def matrix(array: Any, threads: int) -> Any:
            return xgb.DMatrix(array, feature_names=names, feature_types=types, nthread=threads)

        return _by_size(
            lambda a: one.predict(matrix(a, 1), validate_features=False),
            lambda a: model.predict(matrix(a, -1), validate_features=False),
        )
    single = copy.deepcopy(model)
    single.set_params(n_jobs=1)
    return _by_size(
        lambda a: single.predict(a, validate_features=False),
        lambda a: model.predict(a, validate_features=False),
    )


def _lightgbm(model: Any, names: list[str]) -> Predict | None:
    import lightgbm as lgb

    booster = model if isinstance(model, lgb.Booster) else model.booster_
    # LightGBM reads a frame by position (its feature names are sanitized copies of the
    # columns, "a b" -> "a_b"), so the general path hands it the signature's columns in order.
    if booster.num_feature() != len(names) or booster.pandas_categorical:
        return None
    return _by_size(lambda a: model.predict(a, num_threads=1), model.predict)


def gbm_fast_path(model: PyFuncModel) -> SklearnFastPath | None:
    """The fast path for an XGBoost or LightGBM ``model``, or None when it does not qualify."""
    flavors = model.metadata.flavors
    loader = (flavors.get("python_function") or {}).get("loader_module")
    flavor = next((f for f, loaders in _LOADERS.items() if loader in loaders), None)
    if flavor is None or flavor not in flavors:
        return None
    names = double_columns(model)
    if names is None:
        return None
    try:
        native = model.unwrap_python_model()
        predict = _xgboost(native, names) if flavor == "xgboost" else _lightgbm(native, names)
    except Exception:  # an unusual model object: the general path handles it
        return None
    return None if predict is None else SklearnFastPath(native, predict, names)
