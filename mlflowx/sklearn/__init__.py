"""scikit-learn models: ``save_model``, ``log_model``, ``load_model`` (and ``autolog``).

Saved with skops by default, in the MLmodel layout MLflow writes, so ``mlflow.sklearn`` loads
them too.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Unpack

from mlflowx.models.logging import ModelInfo
from mlflowx.models.logging import log_model as _log_model
from mlflowx.models.mlmodel import Model
from mlflowx.models.options import LogOptions, SaveOptions
from mlflowx.models.save import save_model as _save_model
from mlflowx.sklearn.autolog import autolog

__all__ = ["FLAVOR_NAME", "autolog", "load_model", "log_model", "save_model"]

FLAVOR_NAME = "sklearn"


def save_model(
    sk_model: Any,
    path: str | Path,
    *,
    serialization_format: str = "skops",
    skops_trusted_types: list[str] | None = None,
    pyfunc_predict_fn: str = "predict",
    **options: Unpack[SaveOptions],
) -> Model:
    """Save a fitted estimator as a model directory at ``path``."""
    return _save_model(
        FLAVOR_NAME,
        sk_model,
        path,
        serialization_format=serialization_format,
        skops_trusted_types=skops_trusted_types,
        pyfunc_predict_fn=pyfunc_predict_fn,
        **options,
    )


def log_model(
    sk_model: Any,
    name: str | None = None,
    *,
    serialization_format: str = "skops",
    skops_trusted_types: list[str] | None = None,
    pyfunc_predict_fn: str = "predict",
    **options: Unpack[LogOptions],
) -> ModelInfo:
    """Log a fitted estimator as a logged model of the active run; ``models:/m-<id>`` loads it."""
    return _log_model(
        FLAVOR_NAME,
        sk_model,
        name,
        serialization_format=serialization_format,
        skops_trusted_types=skops_trusted_types,
        pyfunc_predict_fn=pyfunc_predict_fn,
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
    """The fitted estimator behind ``model_uri`` (any URI :func:`mlflowx.pyfunc.load_model`
    takes). skops files load safely; pickled ones need ``allow_pickle=True``, and a model
    saved by MLflow with ``code_paths`` needs ``allow_code=True``.

    The estimator is read whole: a temporary download (no ``dst_path``) is removed at once.
    """
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
