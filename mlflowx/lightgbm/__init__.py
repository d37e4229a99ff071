"""LightGBM models: ``save_model``, ``log_model``, ``load_model`` and ``autolog``.

A ``lightgbm.Booster`` is saved as LightGBM's text model file; a scikit-learn-API model
(``LGBMClassifier`` …) with skops by default, in the MLmodel layout MLflow writes, so
``mlflow.lightgbm`` loads them too. Both load safely; a model pickled with
``serialization_format="cloudpickle"`` (or by MLflow) needs ``allow_pickle=True``. LightGBM is
imported only when a model is saved, loaded or autologged (``pip install 'mlflowx[lightgbm]'``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Unpack

from mlflowx.lightgbm.autolog import autolog
from mlflowx.models.logging import ModelInfo
from mlflowx.models.logging import log_model as _log_model
from mlflowx.models.mlmodel import Model
from mlflowx.models.options import LogOptions, SaveOptions
from mlflowx.models.save import save_model as _save_model

__all__ = ["FLAVOR_NAME", "autolog", "load_model", "log_model", "save_model"]

FLAVOR_NAME = "lightgbm"


def save_model(
    lgb_model: Any,
    path: str | Path,
    *,
    serialization_format: str = "skops",
    skops_trusted_types: list[str] | None = None,
    **options: Unpack[SaveOptions],
) -> Model:
    """Save a ``lightgbm.Booster`` or a LightGBM scikit-learn model at ``path``.

    ``serialization_format`` (``skops``, ``cloudpickle`` or ``pickle``) applies to
    scikit-learn-API models; ``skops_trusted_types`` names further types the model holds."""
    return _save_model(
        FLAVOR_NAME,
        lgb_model,
        path,
        serialization_format=serialization_format,
        skops_trusted_types=skops_trusted_types,
        **options,
    )


def log_model(
    lgb_model: Any,
    name: str | None = None,
    *,
    serialization_format: str = "skops",
    skops_trusted_types: list[str] | None = None,
    **options: Unpack[LogOptions],
) -> ModelInfo:
    """Log a LightGBM model as a logged model of the active run; ``models:/m-<id>`` loads it."""
    return _log_model(
        FLAVOR_NAME,
        lgb_model,
        name,
        serialization_format=serialization_format,
        skops_trusted_types=skops_trusted_types,
        **options,
    )


def load_model(
    model_uri: str | Path,
    dst_path: str | Path | None = None,
    *,
    allow_pickle: bool | None = None,
    trusted_types: Iterable[str] | None = None,
    allow_code: bool | None = None,
) -> Any:
    """The ``lightgbm.Booster`` or scikit-learn-API model behind ``model_uri`` (any URI
    :func:`mlflowx.pyfunc.load_model` takes). Boosters and skops files load safely; pickled
    ones need ``allow_pickle=True``, and a model saved by MLflow with ``code_paths``
    ``allow_code=True``."""
    from mlflowx.models.load import load_native
    from mlflowx.models.uri import fetch_model

    with fetch_model(str(model_uri), dst_path) as fetched:
        return load_native(
            fetched.path,
            FLAVOR_NAME,
            allow_pickle=allow_pickle,
            trusted_types=trusted_types,
            allow_code=allow_code,
        )
