"""statsmodels models: ``save_model``, ``log_model``, ``load_model``.

Stored as MLflow stores them (``model.statsmodels``), so ``mlflow.statsmodels`` loads them too.
statsmodels pickles its results objects, so loading needs ``allow_pickle=True``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlflowx.models.logging import ModelInfo
from mlflowx.models.logging import log_model as _log_model
from mlflowx.models.mlmodel import Model
from mlflowx.models.save import save_model as _save_model

__all__ = ["FLAVOR_NAME", "load_model", "log_model", "save_model"]

FLAVOR_NAME = "statsmodels"


def save_model(
    statsmodels_model: Any,
    path: str | Path,
    *,
    remove_data: bool = False,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: list[str] | None = None,
    extra_pip_requirements: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
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
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        remove_data=remove_data,
    )


def log_model(
    statsmodels_model: Any,
    name: str | None = None,
    *,
    artifact_path: str | None = None,
    remove_data: bool = False,
    registered_model_name: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: list[str] | None = None,
    extra_pip_requirements: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
) -> ModelInfo:
    """Log a fitted statsmodels results object as a logged model of the active run."""
    return _log_model(
        FLAVOR_NAME,
        statsmodels_model,
        name,
        artifact_path=artifact_path,
        registered_model_name=registered_model_name,
        params=params,
        tags=tags,
        model_type=model_type,
        step=step,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        remove_data=remove_data,
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
