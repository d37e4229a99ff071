"""XGBoost models: ``save_model``, ``log_model``, ``load_model`` and ``autolog``.

Saved in XGBoost's own format (``model_format``: ``ubj`` by default, or ``json``), in the
MLmodel layout MLflow writes, so ``mlflow.xgboost`` loads them too. Nothing is pickled, so
loading needs no opt-in. XGBoost is imported only when a model is saved, loaded or autologged
(``pip install 'mlflowx[xgboost]'``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Unpack

from mlflowx.models.logging import ModelInfo
from mlflowx.models.logging import log_model as _log_model
from mlflowx.models.mlmodel import Model
from mlflowx.models.options import LogOptions, SaveOptions
from mlflowx.models.save import save_model as _save_model
from mlflowx.xgboost.autolog import autolog

__all__ = ["FLAVOR_NAME", "autolog", "load_model", "log_model", "save_model"]

FLAVOR_NAME = "xgboost"


def save_model(
    xgb_model: Any,
    path: str | Path,
    *,
    model_format: str = "ubj",
    **options: Unpack[SaveOptions],
) -> Model:
    """Save an ``xgboost.Booster`` or an XGBoost scikit-learn model at ``path``; ``kwargs``
    go to XGBoost's ``save_model``."""
    return _save_model(
        FLAVOR_NAME,
        xgb_model,
        path,
        model_format=model_format,
        **options,
    )


def log_model(
    xgb_model: Any,
    name: str | None = None,
    *,
    model_format: str = "ubj",
    **options: Unpack[LogOptions],
) -> ModelInfo:
    """Log an XGBoost model as a logged model of the active run; ``models:/m-<id>`` loads it."""
    return _log_model(
        FLAVOR_NAME,
        xgb_model,
        name,
        model_format=model_format,
        **options,
    )


def load_model(
    model_uri: str | Path,
    dst_path: str | Path | None = None,
    *,
    allow_code: bool | None = None,
) -> Any:
    """The ``xgboost.Booster`` or scikit-learn-API model behind ``model_uri`` (any URI
    :func:`mlflowx.pyfunc.load_model` takes), of the class its MLmodel names. A model saved by
    MLflow with ``code_paths`` needs ``allow_code=True``."""
    from mlflowx.models.load import load_native
    from mlflowx.models.uri import fetch_model

    with fetch_model(str(model_uri), dst_path) as fetched:
        return load_native(fetched.path, FLAVOR_NAME, allow_code=allow_code)
