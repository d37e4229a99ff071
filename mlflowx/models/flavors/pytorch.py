"""The ``pytorch`` flavor: MLflow 3.17's layout, ``pt2`` (``torch.export``) by default.

``serialization_format="pt2"`` (MLflow's default outside Databricks) stores a traced graph and
its tensors in ``data/model.pt2``; loading it checks every record of the archive first
(:mod:`mlflowx.models.flavors._pt2_check`), so only an archive holding something that would
unpickle needs ``allow_pickle``. ``"pickle"`` stores the whole module with cloudpickle in
``data/model.pth`` (MLflow's ``mlflow.pytorch.pickle_module``), and loading it always needs
``allow_pickle``. Inference runs on the CPU.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from mlflowx.exceptions import InvalidParameter
from mlflowx.models.flavors import Flavor, PredictFn, SavedFlavor
from mlflowx.models.flavors._torch_threads import threads_for
from mlflowx.models.paths import model_file
from mlflowx.models.policy import LoadPolicy, Need

__all__ = ["SERIALIZATION_FORMATS", "PyTorchFlavor"]

SERIALIZATION_FORMATS = ("pt2", "pickle")
DATA = "data"
PT2_FILE = "model.pt2"
PICKLE_FILE = "model.pth"
PICKLE_MODULE_INFO = "pickle_module_info.txt"
# The name MLflow records for its cloudpickle wrapper; mlflowx never imports the module a model
# names (a cloudpickle stream loads with the standard unpickler).
MLFLOW_PICKLE_MODULE = "mlflow.pytorch.pickle_module"
_KNOWN_PICKLE_MODULES = (MLFLOW_PICKLE_MODULE, "cloudpickle", "pickle", "dill")


def _example_arrays(example: Any) -> list[Any]:
    """The input example as a list of numpy arrays / tensors (what ``torch.export`` traces)."""
    import numpy as np
    import torch

    items = list(example) if isinstance(example, tuple | list) else [example]
    if not items or not all(isinstance(x, np.ndarray | torch.Tensor) for x in items):
        raise InvalidParameter(
            "serialization_format='pt2' traces the model on its input_example, which must be a "
            "numpy array or torch tensor (or a tuple of them); pass one, or use "
            "serialization_format='pickle' (loading then needs allow_pickle)"
        )
    return items


def _export(model: Any, example: Any, target: Path) -> bool:
    """Write ``model`` traced on ``example``; True when pyfunc can serve it (one numpy input,
    as MLflow decides)."""
    import numpy as np
    import torch
    from torch.export import Dim

    if isinstance(model, torch.jit.ScriptModule):
        raise InvalidParameter(
            "The 'pt2' serialization format does not take TorchScript models; save them with "
            "serialization_format='pickle'"
        )
    items = _example_arrays(example)
    tensors = tuple(
        torch.from_numpy(np.array(x)) if isinstance(x, np.ndarray) else x for x in items
    )
    # The batch dimension is dynamic (MLflow reads it from the signature's -1 dimensions, which
    # are the first ones for an inferred signature); AUTO keeps a size-1 example exportable.
    shapes = [{0: Dim.AUTO} if t.dim() else None for t in tensors]
    was_training = model.training
    model.eval()
    try:
        program = torch.export.export(model, tensors, dynamic_shapes=shapes)
    except Exception as exc:  # torch raises many kinds for untraceable code
        raise InvalidParameter(
            f"torch.export could not trace the model on its input_example ({exc}); make the "
            "forward traceable, or use serialization_format='pickle' (loading then needs "
            "allow_pickle)"
        ) from exc
    finally:
        model.train(was_training)
    torch.export.save(program, target)
    return len(items) == 1 and isinstance(items[0], np.ndarray)


class _TorchPredict(PredictFn):
    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import pandas as pd
        import torch

        if isinstance(data, pd.DataFrame):
            array = data.to_numpy(dtype=np.float32)
        elif isinstance(data, np.ndarray):
            array = data
        else:
            raise InvalidParameter(
                f"A PyTorch model takes a pandas DataFrame or a numpy array, not "
                f"{type(data).__name__}"
            )
        with torch.no_grad(), threads_for(array):
            # torch wants a writable, contiguous array (a parsed request's may be read-only).
            tensor = torch.from_numpy(np.require(array, requirements=["C", "W"]))
            out = self.model(tensor, **(params or {}))
        if not isinstance(out, torch.Tensor):
            raise InvalidParameter(
                f"The PyTorch model returned {type(out).__name__}; pyfunc serves models that "
                "return one tensor"
            )
        result = out.detach().cpu().numpy()
        if isinstance(data, pd.DataFrame):
            return pd.DataFrame(result, index=data.index)
        return result

    def unwrap(self) -> Any:
        return self.model


class PyTorchFlavor(Flavor):
    name = "pytorch"
    loader_modules = ("mlflow.pytorch", "mlflowx.pytorch")

    def save(
        self,
        model: Any,
        path: Path,
        serialization_format: str = "pt2",
        export_example: Any = None,
        **_: Any,
    ) -> SavedFlavor:
        import torch

        if not isinstance(model, torch.nn.Module):
            raise InvalidParameter(
                f"A PyTorch model must be a torch.nn.Module, not {type(model).__name__}; save a "
                "state dict with mlflowx.pytorch.save_state_dict"
            )
        if serialization_format not in SERIALIZATION_FORMATS:
            raise InvalidParameter(
                f"Unknown serialization_format {serialization_format!r}; expected one of "
                f"{', '.join(SERIALIZATION_FORMATS)}"
            )
        data = path / DATA
        data.mkdir()
        pyfunc = True
        modules = {"torch"}
        if serialization_format == "pt2":
            pyfunc = _export(model, export_example, data / PT2_FILE)
        else:
            import cloudpickle

            (data / PICKLE_MODULE_INFO).write_text(MLFLOW_PICKLE_MODULE)
            if isinstance(model, torch.jit.ScriptModule):
                torch.jit.save(model, data / PICKLE_FILE)
            else:
                torch.save(model, data / PICKLE_FILE, pickle_module=cloudpickle)
            modules |= {"cloudpickle", type(model).__module__}
        conf = {"model_data": DATA, "pytorch_version": str(torch.__version__), "code": None}
        pyfunc_conf = None
        if pyfunc:
            pyfunc_conf = {
                "loader_module": "mlflow.pytorch",
                "data": DATA,
                "pickle_module_name": MLFLOW_PICKLE_MODULE,
                "code": None,
                "model_config": {"device": None},
            }
        return SavedFlavor(conf, pyfunc_conf, modules)

    def _files(self, path: Path, data_dir: Any, field: str) -> tuple[Path, Path]:
        data = model_file(path, data_dir or DATA, field)
        pickled = data / PICKLE_FILE
        if data.is_file():  # MLflow reads a file here as the serialized model itself
            return data, data
        return data, pickled if pickled.exists() else data / PT2_FILE

    def needs(
        self, path: Path, conf: dict[str, Any], field: str = "pytorch.model_data"
    ) -> list[Need]:
        _, file = self._files(path, conf.get("model_data"), field)
        if file.name == PT2_FILE:
            return []  # checked record by record right before it loads
        return [
            Need.pickle(
                file,
                "a whole PyTorch module stored with pickle",
                "Saving it with serialization_format='pt2' (torch.export, with an input_example) "
                "or as a state dict (save_state_dict) makes later loads safe.",
            )
        ]

    def load(
        self,
        path: Path,
        conf: dict[str, Any],
        policy: LoadPolicy,
        field: str = "pytorch.model_data",
    ) -> Any:
        import torch

        data, file = self._files(path, conf.get("model_data"), field)
        if file.name == PT2_FILE:
            from mlflowx.models.flavors._pt2_check import first_unsafe_record

            if not policy.allow_pickle and (record := first_unsafe_record(file)) is not None:
                policy.require(
                    Need.pickle(file, f"a torch.export archive whose record {record!r} is a pickle")
                )
            return torch.export.load(file).module()
        for need in self.needs(path, conf, field):
            policy.require(need)
        module_name = (data / PICKLE_MODULE_INFO).read_text().strip() if data.is_dir() else ""
        if module_name and module_name not in _KNOWN_PICKLE_MODULES:
            raise InvalidParameter(
                f"The PyTorch model at {path} was pickled with {module_name!r}; mlflowx loads "
                f"only models pickled with {', '.join(_KNOWN_PICKLE_MODULES)}"
            )
        if zipfile_is_torchscript(file):
            model = torch.jit.load(file, map_location="cpu")  # type: ignore[no-untyped-call]
        else:
            # Allowed explicitly by the caller's policy (checked above).
            model = torch.load(file, map_location="cpu", weights_only=False, pickle_module=pickle)
        model.eval()
        return model

    def _for_pyfunc(
        self, pyfunc_conf: dict[str, Any], flavors: dict[str, Any]
    ) -> tuple[dict[str, Any], str]:
        conf = flavors.get(self.name)
        if conf:
            return dict(conf), "pytorch.model_data"
        return {"model_data": pyfunc_conf.get("data")}, "python_function.data"

    def pyfunc_needs(
        self, path: Path, pyfunc_conf: dict[str, Any], flavors: dict[str, Any]
    ) -> list[Need]:
        return self.needs(path, *self._for_pyfunc(pyfunc_conf, flavors))

    def pyfunc(
        self, path: Path, pyfunc_conf: dict[str, Any], flavors: dict[str, Any], policy: LoadPolicy
    ) -> PredictFn:
        conf, field = self._for_pyfunc(pyfunc_conf, flavors)
        return _TorchPredict(self.load(path, conf, policy, field))


def zipfile_is_torchscript(file: Path) -> bool:
    """TorchScript archives hold a ``constants.pkl`` and ``code/`` (torch.save ones do not)."""
    import zipfile

    try:
        with zipfile.ZipFile(file) as archive:
            return any(n.split("/", 1)[-1].startswith("code/") for n in archive.namelist())
    except zipfile.BadZipFile:
        return False
