"""The ``onnx`` flavor: ``model.onnx`` run by onnxruntime, in MLflow's layout.

Loading an ONNX model runs no Python, so it needs no opt-in. Tensors stored as external data
are files the model names; each must stay inside the model directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlflowx.exceptions import InvalidParameter
from mlflowx.models.flavors import Flavor, PredictFn, SavedFlavor
from mlflowx.models.paths import model_file
from mlflowx.models.policy import LoadPolicy, Need

__all__ = ["DEFAULT_PROVIDERS", "OnnxFlavor"]

DATA = "model.onnx"
# MLflow's default; providers that are not installed are skipped (CPU here).
DEFAULT_PROVIDERS = ["CUDAExecutionProvider", "CPUExecutionProvider"]


def _check_external_data(file: Path, root: Path) -> None:
    """Every external-data file the model names resolves inside the model directory."""
    import onnx
    from onnx.external_data_helper import _get_all_tensors

    model = onnx.load(str(file), load_external_data=False)
    for tensor in _get_all_tensors(model):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        for entry in tensor.external_data:
            if entry.key == "location":
                relative = file.parent.relative_to(root) / entry.value
                model_file(root, relative.as_posix(), f"onnx external data of {tensor.name!r}")


def _session(file: Path, conf: dict[str, Any]) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    for key, value in (conf.get("onnx_session_options") or {}).items():
        if key == "execution_mode":
            value = getattr(onnxruntime.ExecutionMode, f"ORT_{str(value).upper()}")
        elif key == "graph_optimization_level":
            value = onnxruntime.GraphOptimizationLevel(int(value))
        if not hasattr(options, key):
            raise InvalidParameter(f"Unknown onnx_session_options key {key!r}")
        setattr(options, key, value)
    declared = conf.get("providers") or DEFAULT_PROVIDERS
    declared = [declared] if isinstance(declared, str) else declared
    available = set(onnxruntime.get_available_providers())
    names = [p[0] if isinstance(p, list | tuple) else p for p in declared]
    providers = [p for p in names if p in available] or ["CPUExecutionProvider"]
    return onnxruntime.InferenceSession(str(file), sess_options=options, providers=providers)


class _OnnxPredict(PredictFn):
    def __init__(self, session: Any) -> None:
        self.session = session
        self.inputs = [(i.name, i.type) for i in session.get_inputs()]
        self.outputs = [o.name for o in session.get_outputs()]

    def _feeds(self, data: Any) -> dict[str, Any]:
        import numpy as np
        import pandas as pd

        if isinstance(data, dict):
            feeds = dict(data)
        elif isinstance(data, np.ndarray):
            if len(self.inputs) != 1:
                raise InvalidParameter(
                    f"This ONNX model has {len(self.inputs)} inputs "
                    f"({', '.join(n for n, _ in self.inputs)}); pass a dict or a DataFrame"
                )
            feeds = {self.inputs[0][0]: data}
        elif isinstance(data, pd.DataFrame):
            if len(self.inputs) > 1:
                feeds = {name: data[name].to_numpy() for name, _ in self.inputs}
            else:
                feeds = {self.inputs[0][0]: data.to_numpy()}
        else:
            raise InvalidParameter(
                "An ONNX model takes a dict of arrays, a numpy array or a pandas DataFrame, "
                f"not {type(data).__name__}"
            )
        for name, kind in self.inputs:  # JSON turns float32 into float64 (as MLflow casts)
            feed = feeds.get(name)
            if (
                kind == "tensor(float)"
                and isinstance(feed, np.ndarray)
                and feed.dtype == np.float64
            ):
                feeds[name] = feed.astype(np.float32)
        return feeds

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import pandas as pd

        predicted = self.session.run(self.outputs, self._feeds(data))
        if isinstance(data, pd.DataFrame):
            return pd.DataFrame(
                {n: np.asarray(p).reshape(-1) for n, p in zip(self.outputs, predicted, strict=True)}
            )
        return dict(zip(self.outputs, predicted, strict=True))

    def unwrap(self) -> Any:
        return self.session


class OnnxFlavor(Flavor):
    name = "onnx"
    loader_modules = ("mlflow.onnx", "mlflowx.onnx")

    def save(
        self,
        model: Any,
        path: Path,
        onnx_execution_providers: list[Any] | None = None,
        onnx_session_options: dict[str, Any] | None = None,
        save_as_external_data: bool = True,
        **_: Any,
    ) -> SavedFlavor:
        import onnx

        if not isinstance(model, onnx.ModelProto):
            raise InvalidParameter(
                f"An ONNX model must be an onnx.ModelProto, not {type(model).__name__}"
            )
        onnx.save_model(model, str(path / DATA), save_as_external_data=save_as_external_data)
        conf = {
            "onnx_version": onnx.__version__,
            "data": DATA,
            "providers": onnx_execution_providers or DEFAULT_PROVIDERS,
            "onnx_session_options": onnx_session_options,
            "code": None,
        }
        pyfunc_conf = {"loader_module": "mlflow.onnx", "data": DATA, "code": None}
        return SavedFlavor(conf, pyfunc_conf, {"onnx", "onnxruntime"})

    def needs(self, path: Path, conf: dict[str, Any]) -> list[Need]:
        return []

    def pyfunc_needs(
        self, path: Path, pyfunc_conf: dict[str, Any], flavors: dict[str, Any]
    ) -> list[Need]:
        return []

    def _file(self, path: Path, conf: dict[str, Any], field: str) -> Path:
        file = model_file(path, conf.get("data") or DATA, field)
        _check_external_data(file, path)
        return file

    def load(self, path: Path, conf: dict[str, Any], policy: LoadPolicy) -> Any:
        import onnx

        return onnx.load(str(self._file(path, conf, "onnx.data")))

    def pyfunc(
        self, path: Path, pyfunc_conf: dict[str, Any], flavors: dict[str, Any], policy: LoadPolicy
    ) -> PredictFn:
        conf = flavors.get(self.name) or {"data": pyfunc_conf.get("data")}
        field = "onnx.data" if self.name in flavors else "python_function.data"
        return _OnnxPredict(_session(self._file(path, conf, field), conf))
