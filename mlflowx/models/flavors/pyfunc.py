"""Custom Python models (``PythonModel`` subclasses) and models-from-code.

A ``PythonModel`` instance is stored with cloudpickle, as MLflow does, so loading it needs
``allow_pickle``. A model given as a path to a ``.py`` file ("models from code") stores only
that file; loading runs it and takes the model it passes to :func:`set_model`, so loading it
needs ``allow_code``.
"""

from __future__ import annotations

import inspect
import runpy
import shutil
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any

from mlflowx.exceptions import InvalidParameter
from mlflowx.models.flavors import Flavor, PredictFn, SavedFlavor
from mlflowx.models.paths import model_file
from mlflowx.models.policy import LoadPolicy, Need

__all__ = ["PythonModel", "PythonModelContext", "PythonModelFlavor", "set_model"]

PYTHON_MODEL_FILE = "python_model.pkl"
ARTIFACTS_DIR = "artifacts"


@dataclass
class PythonModelContext:
    """What ``load_context`` and ``predict`` receive: local paths of the model's artifacts."""

    artifacts: dict[str, str] = field(default_factory=dict)
    model_config: dict[str, Any] = field(default_factory=dict)


class PythonModel:
    """Base class of custom models: override ``predict`` (and ``load_context`` if needed).

    ``predict(self, context, model_input, params=None)``, as in MLflow; a ``predict`` without
    the ``context`` argument is accepted too.
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Load artifacts (``context.artifacts``) once, before the first ``predict``."""

    def predict(self, context: PythonModelContext, model_input: Any, params: Any = None) -> Any:
        raise NotImplementedError("A PythonModel must implement predict()")


_set_model: ContextVar[Any] = ContextVar("mlflowx_set_model", default=None)


def set_model(model: Any) -> None:
    """Called by a models-from-code file to name its model (a PythonModel or a function)."""
    _set_model.set(model)


class _FunctionModel(PythonModel):
    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def predict(self, context: PythonModelContext, model_input: Any, params: Any = None) -> Any:
        return self.fn(model_input)


def _wants_context(model: Any) -> bool:
    try:
        names = list(inspect.signature(model.predict).parameters)
    except (TypeError, ValueError):
        return True
    return bool(names) and names[0] == "context"


class _PythonModelPredict(PredictFn):
    def __init__(self, model: Any, context: PythonModelContext) -> None:
        self.model, self.context = model, context
        self._with_context = _wants_context(model)

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        if self._with_context:
            return self.model.predict(self.context, data, params=params)
        return self.model.predict(data, params=params)

    def unwrap(self) -> Any:
        return self.model


def _copy_artifacts(artifacts: dict[str, str], path: Path) -> dict[str, dict[str, str]]:
    """Bring each artifact (a local path or any artifact URI) into the model directory."""
    from mlflowx.store.artifacts import get_artifact_repository

    saved: dict[str, dict[str, str]] = {}
    root = path / ARTIFACTS_DIR
    for name, uri in artifacts.items():
        root.mkdir(exist_ok=True)
        source = Path(uri)
        if source.exists():
            target = root / source.name
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                shutil.copy2(source, target)
        else:
            parent, _, base = uri.rstrip("/").rpartition("/")
            local = get_artifact_repository(parent).download_artifacts(base, root)
            target = Path(local)
        saved[name] = {"path": f"{ARTIFACTS_DIR}/{target.name}", "uri": uri}
    return saved


class PythonModelFlavor(Flavor):
    """Saved under ``python_function`` only (no separate flavor section), as MLflow does."""

    name = "python_model"
    loader_modules = ("mlflow.pyfunc.model", "mlflowx.pyfunc.model")

    def save(
        self,
        model: Any,
        path: Path,
        artifacts: dict[str, str] | None = None,
        model_config: dict[str, Any] | None = None,
        **_: Any,
    ) -> SavedFlavor:
        conf: dict[str, Any] = {"loader_module": "mlflow.pyfunc.model"}
        modules = {type(model).__module__}
        if isinstance(model, str | Path):
            code = Path(model)
            if code.suffix != ".py" or not code.is_file():
                raise InvalidParameter(f"python_model path {model!s} is not a .py file")
            shutil.copy2(code, path / code.name)
            conf["model_code_path"] = code.name
            modules = set()
        elif isinstance(model, PythonModel) or callable(getattr(model, "predict", None)):
            import cloudpickle

            with open(path / PYTHON_MODEL_FILE, "wb") as fh:
                cloudpickle.dump(model, fh)
            conf["python_model"] = PYTHON_MODEL_FILE
            conf["cloudpickle_version"] = cloudpickle.__version__
            modules.add("cloudpickle")
        else:
            raise InvalidParameter(
                "python_model must be a PythonModel instance or a path to a .py file that calls "
                f"mlflowx.models.set_model(); got {type(model).__name__}"
            )
        if artifacts:
            conf["artifacts"] = _copy_artifacts(artifacts, path)
        if model_config:
            conf["model_config"] = model_config
        return SavedFlavor({}, conf, modules)

    def needs(self, path: Path, conf: dict[str, Any]) -> list[Need]:
        if "model_code_path" in conf:
            return [Need.code_file(_code_file(path, conf))]
        return [
            Need.pickle(_pickle_file(path, conf), "a custom Python model stored with cloudpickle")
        ]

    def pyfunc_needs(
        self, path: Path, pyfunc_conf: dict[str, Any], flavors: dict[str, Any]
    ) -> list[Need]:
        _artifacts(path, pyfunc_conf)  # a bad artifact path is refused before anything loads
        return self.needs(path, pyfunc_conf)

    def load(self, path: Path, conf: dict[str, Any], policy: LoadPolicy) -> Any:
        for need in self.needs(path, conf):
            policy.require(need)
        if "model_code_path" in conf:
            code = _code_file(path, conf)
            token = _set_model.set(None)
            try:
                runpy.run_path(str(code), run_name="__model__")
                model = _set_model.get()
            finally:
                _set_model.reset(token)
            if model is None:
                raise InvalidParameter(
                    f"The model code {code} did not call mlflowx.models.set_model(...)"
                )
            return model if hasattr(model, "predict") else _FunctionModel(model)
        file = _pickle_file(path, conf)
        import cloudpickle

        try:
            with open(file, "rb") as fh:
                return cloudpickle.load(fh)
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] == "mlflow":
                raise InvalidParameter(
                    f"The custom model {file} was saved by MLflow's pyfunc; its pickle references "
                    "MLflow's classes, so loading it needs the 'mlflow' package installed"
                ) from exc
            raise InvalidParameter(
                f"The custom model {file} needs the module {exc.name!r}, which is not installed"
            ) from exc

    def pyfunc(
        self, path: Path, pyfunc_conf: dict[str, Any], flavors: dict[str, Any], policy: LoadPolicy
    ) -> PredictFn:
        artifacts = _artifacts(path, pyfunc_conf)
        model = self.load(path, pyfunc_conf, policy)
        context = PythonModelContext(artifacts, dict(pyfunc_conf.get("model_config") or {}))
        if hasattr(model, "load_context"):
            model.load_context(context)
        return _PythonModelPredict(model, context)


def _code_file(path: Path, conf: dict[str, Any]) -> Path:
    # MLflow records the path the code was saved from (often absolute) and copies the file into
    # the model directory, so only its name counts: the file is always <model dir>/<name>.
    value = conf["model_code_path"]
    if not isinstance(value, str):
        raise InvalidParameter(f"python_function.model_code_path in {path} is not a file name")
    code = model_file(path, PureWindowsPath(value).name, "python_function.model_code_path")
    if not code.is_file():
        raise InvalidParameter(
            f"The model at {path} names its code {value!r} (python_function.model_code_path), "
            f"which is read as {code}, and that file is missing"
        )
    return code


def _pickle_file(path: Path, conf: dict[str, Any]) -> Path:
    return model_file(
        path, conf.get("python_model", PYTHON_MODEL_FILE), "python_function.python_model"
    )


def _artifacts(path: Path, conf: dict[str, Any]) -> dict[str, str]:
    artifacts = conf.get("artifacts") or {}
    if not isinstance(artifacts, dict):
        raise InvalidParameter(f"python_function.artifacts in {path} is not a mapping")
    return {
        name: str(
            model_file(
                path,
                info.get("path") if isinstance(info, dict) else None,
                f"python_function.artifacts.{name}.path",
            )
        )
        for name, info in artifacts.items()
    }
