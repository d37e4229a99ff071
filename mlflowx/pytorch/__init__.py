"""PyTorch models: ``save_model``, ``log_model``, ``load_model``, and state dicts.

Models are stored as MLflow 3.17 stores them, so ``mlflow.pytorch`` loads them too:

- ``serialization_format="pt2"`` (the default, as in MLflow): the model traced by
  ``torch.export`` on its ``input_example`` (a numpy array or tensor). Loading checks the
  archive holds only tensors and metadata, so it needs no opt-in.
- ``serialization_format="pickle"``: the whole module with cloudpickle. Loading it runs
  whatever the file says, so it needs ``allow_pickle=True``.

A state dict is weights only; the model class comes from your code::

    mlflowx.pytorch.log_state_dict(net.state_dict(), "weights")
    net = Net()
    net.load_state_dict(mlflowx.pytorch.load_state_dict(f"runs:/{run_id}/weights"))

``load_state_dict`` reads with torch's ``weights_only`` unpickler (tensors and containers only),
so it needs no opt-in either; a checkpoint holding other objects needs ``allow_pickle=True``.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, Unpack

from mlflowx.exceptions import InvalidParameter
from mlflowx.models.logging import ModelInfo
from mlflowx.models.logging import log_model as _log_model
from mlflowx.models.mlmodel import Model
from mlflowx.models.options import LogOptions, SaveOptions
from mlflowx.models.save import save_model as _save_model

__all__ = [
    "FLAVOR_NAME",
    "load_model",
    "load_state_dict",
    "log_model",
    "log_state_dict",
    "save_model",
    "save_state_dict",
]

FLAVOR_NAME = "pytorch"
STATE_DICT_FILE = "state_dict.pth"


def save_model(
    pytorch_model: Any,
    path: str | Path,
    *,
    serialization_format: str = "pt2",
    **options: Unpack[SaveOptions],
) -> Model:
    """Save a ``torch.nn.Module`` as a model directory at ``path``.

    Args:
        serialization_format: ``"pt2"`` (needs ``input_example``) or ``"pickle"``.
        code_paths: files and directories (e.g. the module defining a pickled model's class)
            copied into the model's ``code`` directory; loading puts it on ``sys.path``, which
            needs ``allow_code``.
    """
    return _save_model(
        FLAVOR_NAME,
        pytorch_model,
        path,
        serialization_format=serialization_format,
        export_example=options.get("input_example"),
        **options,
    )


def log_model(
    pytorch_model: Any,
    name: str | None = None,
    *,
    serialization_format: str = "pt2",
    **options: Unpack[LogOptions],
) -> ModelInfo:
    """Log a ``torch.nn.Module`` as a logged model of the active run (``code_paths`` as in
    :func:`save_model`)."""
    return _log_model(
        FLAVOR_NAME,
        pytorch_model,
        name,
        serialization_format=serialization_format,
        export_example=options.get("input_example"),
        **options,
    )


def load_model(
    model_uri: str | Path,
    dst_path: str | Path | None = None,
    *,
    allow_pickle: bool | None = None,
    allow_code: bool | None = None,
) -> Any:
    """The ``torch.nn.Module`` behind ``model_uri``, on the CPU, in eval mode. A pickled model
    needs ``allow_pickle=True``; one saved by MLflow with ``code_paths`` needs ``allow_code``."""
    from mlflowx.models.load import load_native
    from mlflowx.models.uri import fetch_model

    with fetch_model(str(model_uri), dst_path) as fetched:
        return load_native(
            fetched.path, FLAVOR_NAME, allow_pickle=allow_pickle, allow_code=allow_code
        )


def save_state_dict(state_dict: dict[str, Any], path: str | Path) -> None:
    """Write ``state_dict`` as ``<path>/state_dict.pth`` (MLflow's layout)."""
    import torch

    if not isinstance(state_dict, dict):
        raise InvalidParameter(
            f"save_state_dict takes a dict (e.g. model.state_dict()), not "
            f"{type(state_dict).__name__}; save a whole model with save_model"
        )
    Path(path).mkdir(parents=True, exist_ok=True)
    torch.save(state_dict, Path(path) / STATE_DICT_FILE)


def log_state_dict(state_dict: dict[str, Any], artifact_path: str) -> None:
    """Log ``state_dict`` as artifacts of the active run under ``artifact_path``."""
    import tempfile

    from mlflowx.tracking import fluent

    with tempfile.TemporaryDirectory(prefix="mlflowx-state-dict-") as tmp:
        save_state_dict(state_dict, tmp)
        fluent.log_artifacts(tmp, artifact_path)


def load_state_dict(state_dict_uri: str | Path, *, allow_pickle: bool | None = None) -> Any:
    """The state dict saved at ``state_dict_uri`` (a directory or artifact URI holding
    ``state_dict.pth``), read with torch's ``weights_only`` unpickler."""
    import torch

    from mlflowx.models.policy import LoadPolicy, Need
    from mlflowx.models.uri import fetch_model

    policy = LoadPolicy.from_args(allow_pickle)
    with fetch_model(str(state_dict_uri), None) as fetched:
        file = Path(fetched.path) / STATE_DICT_FILE
        if not file.is_file():
            raise InvalidParameter(f"No {STATE_DICT_FILE} at {state_dict_uri}")
        try:
            return torch.load(file, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:  # what weights_only raises for other objects
            if not policy.allow_pickle:
                policy.require(Need.pickle(file, f"a checkpoint holding more than tensors ({exc})"))
        return torch.load(file, map_location="cpu", weights_only=False)  # allowed above
