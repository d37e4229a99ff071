"""The ``keras`` flavor (Keras 3): the ``.keras`` format, in MLflow's layout.

The model is ``data/model.keras``, loaded with Keras' ``safe_mode`` on: a ``Lambda`` layer's
Python bytecode is refused, and custom layers come from ``custom_objects`` or classes
registered with ``keras.saving.register_keras_serializable`` (code you import, not code the
file brings). Loading with ``safe_mode=False`` needs ``allow_code``.

Backend: Keras 3 picks its backend from ``KERAS_BACKEND`` (default TensorFlow). When it is unset
and Keras is not imported yet, mlflowx picks the first installed of torch, jax, tensorflow, so
the ``keras`` extra works with the torch the ``pytorch`` extra already brings.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from mlflowx.exceptions import InvalidParameter
from mlflowx.models.flavors import Flavor, PredictFn, SavedFlavor
from mlflowx.models.flavors._torch_threads import threads_for
from mlflowx.models.paths import model_file
from mlflowx.models.policy import LoadPolicy, Need

__all__ = ["KerasFlavor", "import_keras", "load_keras"]

DATA = "data"
MODEL_FILE = "model.keras"
MODULE_SPEC = "keras_module.txt"
_BACKENDS = ("torch", "jax", "tensorflow")


def import_keras() -> Any:
    """``keras``, on an installed backend when ``KERAS_BACKEND`` does not name one."""
    if "keras" not in sys.modules and not os.environ.get("KERAS_BACKEND"):
        for backend in _BACKENDS:
            if importlib.util.find_spec(backend) is not None:
                os.environ["KERAS_BACKEND"] = backend
                break
    import keras

    return keras


def _model_path(path: Path, conf: dict[str, Any], field: str) -> Path:
    data = model_file(path, conf.get("data") or DATA, field)
    if data.is_dir():
        data = data / "model"
    return data.with_name(data.name + ".keras")


def load_keras(
    path: Path,
    conf: dict[str, Any],
    policy: LoadPolicy,
    custom_objects: dict[str, Any] | None = None,
    safe_mode: bool = True,
    field: str = "keras.data",
) -> Any:
    """The Keras model of the model directory ``path``."""
    if conf.get("save_exported_model"):
        raise InvalidParameter(
            f"The Keras model at {path} was saved as a TensorFlow SavedModel "
            "(save_exported_model); mlflowx loads the .keras format only"
        )
    file = _model_path(path, conf, field)
    if not safe_mode:
        policy.require(
            Need(
                "code",
                file,
                "is loaded with safe_mode=False, which runs the Python bytecode of its Lambda "
                "layers",
            )
        )
    keras = import_keras()
    return keras.saving.load_model(file, custom_objects=custom_objects, safe_mode=safe_mode)


class _KerasPredict(PredictFn):
    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import pandas as pd

        keras = import_keras()
        if isinstance(data, pd.DataFrame):
            with self._threads(keras, data):
                out = self.model.predict_on_batch(data.to_numpy())
            return pd.DataFrame(keras.ops.convert_to_numpy(out), index=data.index)
        if not isinstance(data, np.ndarray | list | tuple | dict):
            raise InvalidParameter(
                "A Keras model takes a DataFrame, numpy array, list, tuple or dict, not "
                f"{type(data).__name__}"
            )
        # predict_on_batch: one forward pass, no progress bar or per-call dataset setup.
        with self._threads(keras, data):
            return keras.ops.convert_to_numpy(self.model.predict_on_batch(data))

    @staticmethod
    def _threads(keras: Any, data: Any) -> Any:
        """On the torch backend, small batches on one torch thread (see ``_torch_threads``)."""
        if keras.backend.backend() == "torch" and not isinstance(data, dict):
            return threads_for(data)
        return contextlib.nullcontext()

    def unwrap(self) -> Any:
        return self.model


class KerasFlavor(Flavor):
    name = "keras"
    loader_modules = ("mlflow.keras", "mlflowx.keras")

    def save(
        self,
        model: Any,
        path: Path,
        save_exported_model: bool = False,
        save_model_kwargs: dict[str, Any] | None = None,
        **_: Any,
    ) -> SavedFlavor:
        keras = import_keras()
        if save_exported_model:
            raise InvalidParameter(
                "save_exported_model (a TensorFlow SavedModel) is not supported; mlflowx saves "
                "Keras models in the .keras format"
            )
        if not isinstance(model, keras.Model):
            raise InvalidParameter(
                f"A Keras model must be a keras.Model, not {type(model).__name__}"
            )
        data = path / DATA
        data.mkdir()
        (data / MODULE_SPEC).write_text("keras")
        model.save(data / MODEL_FILE, **(save_model_kwargs or {}))
        backend = keras.backend.backend()
        conf = {
            "data": DATA,
            "keras_version": keras.__version__,
            "keras_backend": backend,
            "save_exported_model": False,
        }
        pyfunc_conf = {"loader_module": "mlflow.keras"}
        return SavedFlavor(conf, pyfunc_conf, {"keras", backend})

    def needs(self, path: Path, conf: dict[str, Any]) -> list[Need]:
        _model_path(path, conf, "keras.data")  # the file must be inside the directory
        return []

    def pyfunc_needs(
        self, path: Path, pyfunc_conf: dict[str, Any], flavors: dict[str, Any]
    ) -> list[Need]:
        return self.needs(path, flavors.get(self.name) or {})

    def load(self, path: Path, conf: dict[str, Any], policy: LoadPolicy) -> Any:
        return load_keras(path, conf, policy)

    def pyfunc(
        self, path: Path, pyfunc_conf: dict[str, Any], flavors: dict[str, Any], policy: LoadPolicy
    ) -> PredictFn:
        return _KerasPredict(load_keras(path, flavors.get(self.name) or {}, policy))
