"""Loading a model directory: flavors by name, the load policy (pickle, model code, file paths
kept inside the directory), and the pyfunc wrapper."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mlflowx.exceptions import InvalidParameter
from mlflowx.models.flavors import (
    FLAVORS,
    Flavor,
    PredictFn,
    flavor_for_loader_module,
    get_flavor,
)
from mlflowx.models.mlmodel import Model
from mlflowx.models.paths import model_file
from mlflowx.models.policy import LoadPolicy, Need

__all__ = ["PyFuncModel", "load_native", "load_pyfunc", "load_pyfunc_uri", "pyfunc_needs"]

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

    @property
    def predict_fn(self) -> PredictFn:
        """The flavor's predictor, which takes input already checked against the signature
        (what :meth:`predict` calls after enforcing it)."""
        return self._impl

    def unwrap_python_model(self) -> Any:
        """The underlying object (the estimator, or the custom PythonModel)."""
        return self._impl.unwrap()

    def __repr__(self) -> str:
        flavors = ", ".join(sorted(self.metadata.flavors))
        return f"PyFuncModel(path={str(self.path)!r}, flavors=[{flavors}])"


def _policy(
    allow_pickle: bool | None, trusted_types: Iterable[str] | None, allow_code: bool | None
) -> LoadPolicy:
    return LoadPolicy.from_args(allow_pickle, trusted_types, allow_code)


def _code_dir(root: Path, conf: dict[str, Any], section: str) -> Path | None:
    """The model's code directory (MLflow's ``code_paths``, saved under the ``code`` key)."""
    value = conf.get("code")
    return model_file(root, value, f"{section}.code") if value else None


def _use_code_dir(directory: Path | None, policy: LoadPolicy) -> None:
    # As MLflow: the directory goes first on sys.path, so the model's modules are found there
    # (by the pickle being loaded, and by the model later on); only with allow_code.
    if directory is None:
        return
    policy.require(Need.code_dir(directory))
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))


def _pyfunc_flavor(root: Path, model: Model) -> tuple[dict[str, Any], Flavor]:
    conf = model.flavors.get(PYFUNC)
    if conf is None:
        raise InvalidParameter(
            f"The model at {root} has no python_function flavor (flavors: "
            f"{', '.join(sorted(model.flavors)) or 'none'}), so it cannot be loaded as pyfunc"
        )
    if "python_model" in conf or "model_code_path" in conf:
        flavor_cls = get_flavor("python_model")
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
    return conf, flavor_cls()


def pyfunc_needs(path: str | Path) -> list[Need]:
    """What loading the model at ``path`` as pyfunc would unpickle or run, read from its
    MLmodel alone (nothing is loaded); a file path outside the directory is an error."""
    root = Path(path)
    model = Model.load(root)
    return _needs(root, model, *_pyfunc_flavor(root, model))


def _needs(root: Path, model: Model, conf: dict[str, Any], flavor: Flavor) -> list[Need]:
    code = _code_dir(root, conf, PYFUNC)
    return [
        *([Need.code_dir(code)] if code is not None else []),
        *flavor.pyfunc_needs(root, conf, model.flavors),
    ]


def load_pyfunc(
    path: str | Path,
    *,
    allow_pickle: bool | None = None,
    trusted_types: Iterable[str] | None = None,
    allow_code: bool | None = None,
) -> PyFuncModel:
    """Load a local model directory as a pyfunc model.

    Raises:
        UntrustedModel: the model would unpickle or run files the policy does not allow
            (checked before anything loads, naming every such file and how to opt in).
        InvalidParameter: an MLmodel file path leaves the model directory, or the model has
            no python_function flavor mlflowx knows.
    """
    root = Path(path)
    model = Model.load(root)
    policy = _policy(allow_pickle, trusted_types, allow_code)
    conf, flavor = _pyfunc_flavor(root, model)
    policy.check(_needs(root, model, conf, flavor), f"the model at {root}")
    _use_code_dir(_code_dir(root, conf, PYFUNC), policy)
    impl = flavor.pyfunc(root, conf, model.flavors, policy)
    return PyFuncModel(model, impl, root)


def load_pyfunc_uri(
    model_uri: str,
    dst_path: str | Path | None = None,
    *,
    allow_pickle: bool | None = None,
    trusted_types: Iterable[str] | None = None,
    allow_code: bool | None = None,
) -> PyFuncModel:
    """:func:`load_pyfunc` of any model URI; a temporary download lives as long as the model
    (its ``path``, and the artifacts a custom model may read at any time, stay there)."""
    from mlflowx.models.uri import fetch_model

    with fetch_model(model_uri, dst_path) as fetched:
        model = load_pyfunc(
            fetched.path,
            allow_pickle=allow_pickle,
            trusted_types=trusted_types,
            allow_code=allow_code,
        )
        fetched.keep_alive_with(model)
    return model


def load_native(
    path: str | Path,
    flavor: str,
    *,
    allow_pickle: bool | None = None,
    trusted_types: Iterable[str] | None = None,
    allow_code: bool | None = None,
) -> Any:
    """The framework object of a model (e.g. the fitted scikit-learn estimator)."""
    root = Path(path)
    model = Model.load(root)
    flavor_cls = get_flavor(flavor)
    if flavor_cls is None:
        raise InvalidParameter(f"Unknown flavor {flavor!r}; known: {', '.join(sorted(FLAVORS))}")
    conf = model.flavor(flavor)
    impl = flavor_cls()
    policy = _policy(allow_pickle, trusted_types, allow_code)
    code = _code_dir(root, conf, flavor)
    needs = [*([Need.code_dir(code)] if code is not None else []), *impl.needs(root, conf)]
    policy.check(needs, f"the model at {root}")
    _use_code_dir(code, policy)
    return impl.load(root, conf, policy)
