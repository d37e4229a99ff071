"""Keras 3 models: ``save_model``, ``log_model``, ``load_model``.

Stored as MLflow stores them (``data/model.keras``), so ``mlflow.keras`` loads them too (on
the same Keras backend). Loading uses Keras' ``safe_mode``, so it needs no opt-in; pass
``custom_objects`` for custom layers, or register them with
``keras.saving.register_keras_serializable``. ``safe_mode=False`` (Lambda layers' bytecode)
needs ``allow_code=True``. With ``KERAS_BACKEND`` unset, the first installed of torch, jax and
tensorflow is used.
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

FLAVOR_NAME = "keras"


def save_model(
    model: Any,
    path: str | Path,
    *,
    save_model_kwargs: dict[str, Any] | None = None,
    **options: Unpack[SaveOptions],
) -> Model:
    """Save a ``keras.Model`` as a model directory at ``path``."""
    return _save_model(
        FLAVOR_NAME,
        model,
        path,
        save_model_kwargs=save_model_kwargs,
        **options,
    )


def log_model(
    model: Any,
    name: str | None = None,
    *,
    save_model_kwargs: dict[str, Any] | None = None,
    **options: Unpack[LogOptions],
) -> ModelInfo:
    """Log a ``keras.Model`` as a logged model of the active run."""
    return _log_model(
        FLAVOR_NAME,
        model,
        name,
        save_model_kwargs=save_model_kwargs,
        **options,
    )


def load_model(
    model_uri: str | Path,
    dst_path: str | Path | None = None,
    *,
    custom_objects: dict[str, Any] | None = None,
    safe_mode: bool = True,
    allow_code: bool | None = None,
) -> Any:
    """The ``keras.Model`` behind ``model_uri``."""
    from mlflowx.models.flavors.keras import load_keras
    from mlflowx.models.mlmodel import Model as MLmodel
    from mlflowx.models.policy import LoadPolicy
    from mlflowx.models.uri import fetch_model

    policy = LoadPolicy.from_args(allow_code=allow_code)
    with fetch_model(str(model_uri), dst_path) as fetched:
        conf = MLmodel.load(fetched.path).flavor(FLAVOR_NAME)
        return load_keras(
            Path(fetched.path), conf, policy, custom_objects=custom_objects, safe_mode=safe_mode
        )
