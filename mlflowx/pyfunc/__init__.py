"""The generic model interface: ``load_model(uri).predict(data, params=None)``, and custom
models (``PythonModel`` subclasses, or models from code)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Unpack

from mlflowx.models.flavors.pyfunc import PythonModel, PythonModelContext
from mlflowx.models.load import PyFuncModel
from mlflowx.models.logging import ModelInfo
from mlflowx.models.logging import log_model as _log_model
from mlflowx.models.mlmodel import Model
from mlflowx.models.options import LogOptions, SaveOptions
from mlflowx.models.save import save_model as _save_model

__all__ = [
    "FLAVOR_NAME",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "load_model",
    "log_model",
    "save_model",
]

FLAVOR_NAME = "python_function"
_CUSTOM = "python_model"


def load_model(
    model_uri: str | Path,
    dst_path: str | Path | None = None,
    *,
    allow_pickle: bool | None = None,
    trusted_types: Iterable[str] | None = None,
    allow_code: bool | None = None,
) -> PyFuncModel:
    """Load any model with a python_function flavor: a local path, ``runs:/``, ``models:/``
    (``m-<id>``, ``name/version``, ``name@alias``, ``name/stage``) or an artifact URI.

    Loading is safe by default: it refuses (with :class:`~mlflowx.exceptions.UntrustedModel`)
    every file that would run code as it loads, unless the caller opts in.

    A remote model is downloaded to a temporary directory (unless ``dst_path`` is given),
    which lives as long as the returned model: custom models may read their artifacts at any
    time. It is removed when the model is garbage-collected, or when the interpreter exits.

    Args:
        allow_pickle: load pickle/cloudpickle files (a pickled estimator, a ``PythonModel``
            instance). Default: ``MLFLOWX_ALLOW_PICKLE_DESERIALIZATION``.
        trusted_types: skops types to trust beyond skops' own (and
            ``MLFLOWX_SKOPS_TRUSTED_TYPES``).
        allow_code: run the model's own Python: a models-from-code file, and a code
            directory (``code_paths``) put on ``sys.path``. Default:
            ``MLFLOWX_ALLOW_MODEL_CODE``.
    """
    from mlflowx.models.load import load_pyfunc_uri

    return load_pyfunc_uri(
        str(model_uri),
        dst_path,
        allow_pickle=allow_pickle,
        trusted_types=trusted_types,
        allow_code=allow_code,
    )


def save_model(
    path: str | Path,
    python_model: PythonModel | str | Path,
    *,
    artifacts: dict[str, str] | None = None,
    model_config: dict[str, Any] | None = None,
    **options: Unpack[SaveOptions],
) -> Model:
    """Save a custom model: a ``PythonModel`` instance (cloudpickled; loading then needs
    ``allow_pickle``) or the path of a ``.py`` file calling ``mlflowx.models.set_model``
    (loading runs it, so it needs ``allow_code``)."""
    return _save_model(
        _CUSTOM,
        python_model,
        path,
        artifacts=artifacts,
        model_config=model_config,
        **options,
    )


def log_model(
    name: str | None = None,
    python_model: PythonModel | str | Path | None = None,
    *,
    artifacts: dict[str, str] | None = None,
    model_config: dict[str, Any] | None = None,
    **options: Unpack[LogOptions],
) -> ModelInfo:
    """Log a custom model as a logged model of the active run."""
    if python_model is None:
        from mlflowx.exceptions import InvalidParameter

        raise InvalidParameter("log_model needs python_model= (a PythonModel or a .py path)")
    return _log_model(
        _CUSTOM,
        python_model,
        name,
        artifacts=artifacts,
        model_config=model_config,
        **options,
    )
