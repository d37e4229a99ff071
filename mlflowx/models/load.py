"""Loading a model directory: flavors by name, the pickle policy, and the pyfunc wrapper."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mlflowx.exceptions import InvalidParameter
from mlflowx.models.flavors import FLAVORS, PredictFn, flavor_for_loader_module, get_flavor
from mlflowx.models.mlmodel import Model
from mlflowx.models.policy import LoadPolicy

__all__ = ["PyFuncModel", "load_native", "load_pyfunc", "load_pyfunc_uri"]

PYFUNC = "python_function"


class PyFuncModel:
    """A loaded model with MLflow's pyfunc interface: ``predict(data, params=None)``.

    Input is checked against the model's signature (missing columns, wrong types and unsafe
    casts are errors; safe casts are applied) before the model sees it.
    """

    def __init__(self, metadata: Model, impl: PredictFn, path: Path) -> None:
        self.metadata = metadata
        self._impl = impl
        self.path = path
        self._signature: Any = None
        if metadata.signature:
            from mlflowx.models.signature import ModelSignature

            self._signature = ModelSignature.from_dict(metadata.signature)

    @property
    def signature(self) -> Any:
        return self._signature

    @property
    def loader_module(self) -> str | None:
        conf = self.metadata.flavors.get(PYFUNC) or {}
        return conf.get("loader_module")

    @property
    def model_id(self) -> str | None:
        return self.metadata.model_id

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        if self._signature is not None:
            from mlflowx.models.signature import enforce_params, enforce_schema

            if self._signature.inputs is not None:
                data = enforce_schema(data, self._signature.inputs)
            params = enforce_params(params, self._signature.params)
        elif params:
            params = dict(params)
        return self._impl.predict(data, params or None)

    def unwrap_python_model(self) -> Any:
        """The underlying object (the estimator, or the custom PythonModel)."""
        return self._impl.unwrap()

    def __repr__(self) -> str:
        flavors = ", ".join(sorted(self.metadata.flavors))
        return f"PyFuncModel(path={str(self.path)!r}, flavors=[{flavors}])"


def _policy(allow_pickle: bool | None, trusted_types: Iterable[str] | None) -> LoadPolicy:
    return LoadPolicy.from_args(allow_pickle, trusted_types)


def load_pyfunc(
    path: str | Path,
    *,
    allow_pickle: bool | None = None,
    trusted_types: Iterable[str] | None = None,
) -> PyFuncModel:
    """Load a local model directory as a pyfunc model."""
    root = Path(path)
    model = Model.load(root)
    conf = model.flavors.get(PYFUNC)
    if conf is None:
        raise InvalidParameter(
            f"The model at {root} has no python_function flavor (flavors: "
            f"{', '.join(sorted(model.flavors)) or 'none'}), so it cannot be loaded as pyfunc"
        )
    policy = _policy(allow_pickle, trusted_types)
    if "python_model" in conf or "model_code_path" in conf:
        flavor_cls = FLAVORS.get("python_model") or get_flavor("python_model")
    else:
        loader = str(conf.get("loader_module", ""))
        flavor_cls = flavor_for_loader_module(loader)
        if flavor_cls is None:
            raise InvalidParameter(
                f"The model at {root} names loader_module {loader!r}, which mlflowx does not "
                "know. mlflowx loads models by flavor and never imports the module a model "
                f"file names; supported flavors: {', '.join(sorted(FLAVORS))}"
            )
    assert flavor_cls is not None
    impl = flavor_cls().pyfunc(root, conf, model.flavors, policy)
    return PyFuncModel(model, impl, root)


def load_pyfunc_uri(
    model_uri: str,
    dst_path: str | Path | None = None,
    *,
    allow_pickle: bool | None = None,
    trusted_types: Iterable[str] | None = None,
) -> PyFuncModel:
    """:func:`load_pyfunc` of any model URI; a temporary download lives as long as the model
    (its ``path``, and the artifacts a custom model may read at any time, stay there)."""
    from mlflowx.models.uri import fetch_model

    with fetch_model(model_uri, dst_path) as fetched:
        model = load_pyfunc(fetched.path, allow_pickle=allow_pickle, trusted_types=trusted_types)
        fetched.keep_alive_with(model)
    return model


def load_native(
    path: str | Path,
    flavor: str,
    *,
    allow_pickle: bool | None = None,
    trusted_types: Iterable[str] | None = None,
) -> Any:
    """The framework object of a model (e.g. the fitted scikit-learn estimator)."""
    root = Path(path)
    model = Model.load(root)
    flavor_cls = get_flavor(flavor)
    if flavor_cls is None:
        raise InvalidParameter(f"Unknown flavor {flavor!r}; known: {', '.join(sorted(FLAVORS))}")
    return flavor_cls().load(root, model.flavor(flavor), _policy(allow_pickle, trusted_types))
