"""statsmodels models: ``save_model``, ``log_model``, ``load_model``.

Stored as MLflow stores them (``model.statsmodels``), so ``mlflow.statsmodels`` loads them too.
statsmodels pickles its results objects, so loading needs ``allow_pickle=True``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Unpack

from mlflowx.models.logging import ModelInfo
from mlflowx.models.logging import log_model as _log_model
from mlflowx.models.mlmodel import Model
from mlflowx.models.options import LogOptions, SaveOptions
from mlflowx.models.save import save_model as _save_model

__all__ = ["FLAVOR_NAME", "load_model", "log_model", "save_model"]

FLAVOR_NAME = "statsmodels"


def save_model(
    statsmodels_model: Any,
    path: str | Path,
    *,
    remove_data: bool = False,
    **options: Unpack[SaveOptions],
) -> Model:
    """Save a fitted statsmodels results object as a model directory at ``path``.

    Args:
        remove_data: drop the arrays of length nobs before pickling (statsmodels'
            ``remove_data``).
    """
    return _save_model(
        FLAVOR_NAME,
        statsmodels_model,
        path,
        remove_data=remove_data,
        **options,
    )


def log_model(
    statsmodels_model: Any,
    name: str | None = None,
    *,
    remove_data: bool = False,
    **options: Unpack[LogOptions],
) -> ModelInfo:
    """Log a fitted statsmodels results object as a logged model of the active run."""
    return _log_model(
        FLAVOR_NAME,
        statsmodels_model,
        name,
        remove_data=remove_data,
        **options,
    )


def load_model(
    model_uri: str | Path,
    dst_path: str | Path | None = None,
    *,
    allow_pickle: bool | None = None,
    allow_code: bool | None = None,
) -> Any:
    """The statsmodels results object behind ``model_uri``; needs ``allow_pickle=True`` (or
    ``MLFLOWX_ALLOW_PICKLE_DESERIALIZATION=true``), since statsmodels stores it with pickle."""
    from mlflowx.models.load import load_native
    from mlflowx.models.uri import fetch_model

    with fetch_model(str(model_uri), dst_path) as fetched:
        return load_native(
            fetched.path, FLAVOR_NAME, allow_pickle=allow_pickle, allow_code=allow_code
        )
