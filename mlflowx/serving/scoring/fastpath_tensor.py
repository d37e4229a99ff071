"""The fast path for tensor models (ONNX, PyTorch, Keras) with one numeric input tensor.

The general path converts an ``inputs``/``instances`` list with ``np.array(value, dtype)`` (the
signature's dtype), checks its shape against the signature, and calls the flavor's predictor.
For a model whose signature is one unnamed, numeric tensor and no params, this path makes the
same array with the same call, checks the same shape, and calls the same predictor, skipping
the per-request payload dispatch and schema walk; so predictions are identical (tested).
Anything else (named or several tensors, a wrong shape, values numpy cannot convert, params)
takes the general path, which answers or explains the error.
"""

from __future__ import annotations

from typing import Any

from mlflowx.models.flavors import PredictFn
from mlflowx.models.load import PyFuncModel
from mlflowx.serving.scoring.fastpath import FastPath

__all__ = ["TensorFastPath", "tensor_fast_path"]

_LOADERS = {"onnx", "pytorch", "keras"}  # the flavors, loaded by mlflow.X or mlflowx.X
_KEYS = ("inputs", "instances")


class TensorFastPath(FastPath):
    """Predicts ``{"inputs": [...]}`` / ``{"instances": [...]}`` straight from the list."""

    def __init__(self, predictor: PredictFn, dtype: Any, shape: tuple[int, ...]) -> None:
        self.predictor = predictor
        self.dtype = dtype
        self.shape = shape

    def rows(self, key: str, value: Any) -> Any:
        import numpy as np

        if key not in _KEYS or type(value) is not list or not value:
            return None
        if type(value[0]) is dict:  # records: the general path reads them by name
            return None
        try:
            array = np.array(value, dtype=self.dtype)
        except (ValueError, TypeError, OverflowError):
            return None
        shape = array.shape
        if len(shape) != len(self.shape) or any(
            e != -1 and e != a for e, a in zip(self.shape, shape, strict=True)
        ):
            return None
        return array

    def predict(self, array: Any) -> Any:
        return self.predictor.predict(array, None)


def tensor_fast_path(model: PyFuncModel) -> TensorFastPath | None:
    """The fast path for ``model``, or None when it does not qualify."""
    import numpy as np

    from mlflowx.models.schema import TensorSpec

    pyfunc = model.metadata.flavors.get("python_function") or {}
    prefix, _, flavor = str(pyfunc.get("loader_module")).partition(".")
    if prefix not in ("mlflow", "mlflowx") or flavor not in _LOADERS:
        return None
    signature = model.signature
    if signature is None or signature.inputs is None or signature.params is not None:
        return None
    schema = signature.inputs
    specs = list(schema.inputs)
    if not schema.is_tensor_spec() or schema.has_input_names() or len(specs) != 1:
        return None
    spec = specs[0]
    if not isinstance(spec, TensorSpec) or np.dtype(spec.type).kind not in "biuf":
        return None
    return TensorFastPath(model.predict_fn, spec.type, tuple(spec.shape))
