"""ONNX models: ``save_model``, ``log_model``, ``load_model`` (run by onnxruntime).

Stored as MLflow stores them (``model.onnx``), so ``mlflow.onnx`` loads them too. Loading runs
no Python code, so it needs no opt-in.
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

FLAVOR_NAME = "onnx"


def save_model(
    onnx_model: Any,
    path: str | Path,
    *,
    onnx_execution_providers: list[Any] | None = None,
    onnx_session_options: dict[str, Any] | None = None,
    save_as_external_data: bool = True,
    **options: Unpack[SaveOptions],
) -> Model:
    """Save an ``onnx.ModelProto`` as a model directory at ``path``.

    Args:
        onnx_execution_providers: onnxruntime providers, in order of preference (those not
            installed are skipped at load time); default CUDA then CPU, as MLflow.
        onnx_session_options: attributes of ``onnxruntime.SessionOptions`` to set.
    """
    return _save_model(
        FLAVOR_NAME,
        onnx_model,
        path,
        onnx_execution_providers=onnx_execution_providers,
        onnx_session_options=onnx_session_options,
        save_as_external_data=save_as_external_data,
        **options,
    )


def log_model(
    onnx_model: Any,
    name: str | None = None,
    *,
    onnx_execution_providers: list[Any] | None = None,
    onnx_session_options: dict[str, Any] | None = None,
    save_as_external_data: bool = True,
    **options: Unpack[LogOptions],
) -> ModelInfo:
    """Log an ``onnx.ModelProto`` as a logged model of the active run."""
    return _log_model(
        FLAVOR_NAME,
        onnx_model,
        name,
        onnx_execution_providers=onnx_execution_providers,
        onnx_session_options=onnx_session_options,
        save_as_external_data=save_as_external_data,
        **options,
    )


def load_model(
    model_uri: str | Path, dst_path: str | Path | None = None, *, allow_code: bool | None = None
) -> Any:
    """The ``onnx.ModelProto`` behind ``model_uri`` (a model MLflow saved with ``code_paths``
    needs ``allow_code``)."""
    from mlflowx.models.load import load_native
    from mlflowx.models.uri import fetch_model

    with fetch_model(str(model_uri), dst_path) as fetched:
        return load_native(fetched.path, FLAVOR_NAME, allow_code=allow_code)
