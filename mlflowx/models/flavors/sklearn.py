"""The ``sklearn`` flavor: skops by default (safe loading), cloudpickle/pickle for old models.

Writes the same ``sklearn`` and ``python_function`` sections MLflow writes, so MLflow alone can
load what mlflowx saves, and mlflowx loads what MLflow saves.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from mlflowx.exceptions import InvalidParameter
from mlflowx.models import skops_trust
from mlflowx.models.flavors import Flavor, PredictFn, SavedFlavor
from mlflowx.models.paths import model_file
from mlflowx.models.policy import LoadPolicy, Need

__all__ = ["SERIALIZATION_FORMATS", "SklearnFlavor"]

SERIALIZATION_FORMATS = ("skops", "cloudpickle", "pickle")
_FILES = {"skops": "model.skops", "cloudpickle": "model.pkl", "pickle": "model.pkl"}


def object_modules(obj: Any, limit: int = 10_000) -> set[str]:
    """Modules of every object reachable from a fitted estimator (params, fitted attributes,
    pipeline steps, functions): what the model needs installed to load."""
    seen: set[int] = set()
    modules: set[str] = set()
    stack = [obj]
    while stack and len(seen) < limit:
        item = stack.pop()
        if id(item) in seen or item is None or isinstance(item, str | bytes | int | float | bool):
            continue
        seen.add(id(item))
        if callable(item) and hasattr(item, "__module__") and not isinstance(item, type):
            modules.add(str(getattr(item, "__module__", "") or ""))
        modules.add(type(item).__module__)
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif hasattr(item, "__dict__") and not isinstance(item, type):
            stack.extend(vars(item).values())
    return {m for m in modules if m}


class _SklearnPredict(PredictFn):
    def __init__(self, model: Any, predict_fn: str) -> None:
        fn = getattr(model, predict_fn, None)
        if fn is None:
            raise InvalidParameter(f"The scikit-learn model has no method {predict_fn!r}")
        self.model, self.fn = model, fn

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.fn(data)

    def unwrap(self) -> Any:
        return self.model


class SklearnFlavor(Flavor):
    name = "sklearn"
    loader_modules = ("mlflow.sklearn", "mlflowx.sklearn")

    def save(
        self,
        model: Any,
        path: Path,
        serialization_format: str = "skops",
        skops_trusted_types: list[str] | None = None,
        pyfunc_predict_fn: str = "predict",
        **_: Any,
    ) -> SavedFlavor:
        import sklearn

        if serialization_format not in SERIALIZATION_FORMATS:
            raise InvalidParameter(
                f"Unknown serialization_format {serialization_format!r}; expected one of "
                f"{', '.join(SERIALIZATION_FORMATS)}"
            )
        filename = _FILES[serialization_format]
        target = path / filename
        modules = object_modules(model)
        if serialization_format == "skops":
            _dump_skops(model, target, skops_trusted_types)
            modules.add("skops")
        elif serialization_format == "cloudpickle":
            import cloudpickle

            with open(target, "wb") as fh:
                cloudpickle.dump(model, fh)
            modules.add("cloudpickle")
        else:
            with open(target, "wb") as fh:
                pickle.dump(model, fh, protocol=pickle.DEFAULT_PROTOCOL)
        conf = {
            "pickled_model": filename,
            "sklearn_version": sklearn.__version__,
            "serialization_format": serialization_format,
            "code": None,
            "skops_trusted_types": skops_trusted_types or None,
        }
        pyfunc_conf = None
        if hasattr(model, pyfunc_predict_fn):
            pyfunc_conf = {
                "loader_module": "mlflow.sklearn",
                "model_path": filename,
                "predict_fn": pyfunc_predict_fn,
            }
        modules.add("sklearn")
        return SavedFlavor(conf, pyfunc_conf, modules)

    def _file(
        self, path: Path, conf: dict[str, Any], field: str = "sklearn.pickled_model"
    ) -> tuple[str, Path]:
        fmt = str(conf.get("serialization_format", "pickle"))
        if fmt not in SERIALIZATION_FORMATS:
            raise InvalidParameter(f"Unknown sklearn serialization_format {fmt!r} in {path}")
        return fmt, model_file(path, conf.get("pickled_model", _FILES[fmt]), field)

    def needs(
        self, path: Path, conf: dict[str, Any], field: str = "sklearn.pickled_model"
    ) -> list[Need]:
        fmt, file = self._file(path, conf, field)
        if fmt == "skops":
            return []
        return [
            Need.pickle(
                file,
                f"a scikit-learn model stored with {fmt}",
                "Re-saving it with serialization_format='skops' makes later loads safe.",
            )
        ]

    def load(
        self,
        path: Path,
        conf: dict[str, Any],
        policy: LoadPolicy,
        field: str = "sklearn.pickled_model",
    ) -> Any:
        fmt, file = self._file(path, conf, field)
        if fmt == "skops":
            return _load_skops(file, policy, conf.get("skops_trusted_types") or [])
        for need in self.needs(path, conf, field):
            policy.require(need)
        with open(file, "rb") as fh:
            if fmt == "cloudpickle":
                import cloudpickle

                return cloudpickle.load(fh)
            return pickle.load(fh)  # allowed explicitly by the caller's policy

    def _for_pyfunc(
        self, pyfunc_conf: dict[str, Any], flavors: dict[str, Any]
    ) -> tuple[dict[str, Any], str]:
        conf = dict(flavors.get(self.name) or {})
        if conf:
            return conf, "sklearn.pickled_model"
        # An old model with only a python_function section: MLflow assumes pickle.
        conf = {"serialization_format": "pickle", "pickled_model": pyfunc_conf.get("model_path")}
        return conf, "python_function.model_path"

    def pyfunc_needs(
        self, path: Path, pyfunc_conf: dict[str, Any], flavors: dict[str, Any]
    ) -> list[Need]:
        return self.needs(path, *self._for_pyfunc(pyfunc_conf, flavors))

    def pyfunc(
        self, path: Path, pyfunc_conf: dict[str, Any], flavors: dict[str, Any], policy: LoadPolicy
    ) -> PredictFn:
        conf, field = self._for_pyfunc(pyfunc_conf, flavors)
        return _SklearnPredict(
            self.load(path, conf, policy, field), pyfunc_conf.get("predict_fn", "predict")
        )


def _dump_skops(model: Any, target: Path, trusted: list[str] | None) -> None:
    import skops.io

    try:
        skops.io.dump(model, target)
    except Exception as exc:  # skops raises TypeError and friends for unsupported objects
        raise InvalidParameter(
            f"The model could not be saved with skops ({exc}). skops cannot store functions or "
            "classes that are not importable; define them in a module, or use "
            "serialization_format='cloudpickle' (loading then needs allow_pickle)."
        ) from exc
    untrusted = skops_trust.untrusted(skops.io.get_untrusted_types(file=target), trusted or ())
    if untrusted:
        target.unlink()
        raise InvalidParameter(
            "The model holds types outside skops' trusted set: "
            f"{', '.join(untrusted)}. If you trust them, pass skops_trusted_types={untrusted!r}."
        )


def _load_skops(file: Path, policy: LoadPolicy, declared: list[str]) -> Any:
    import skops.io

    names = skops.io.get_untrusted_types(file=file)
    untrusted = skops_trust.untrusted(names, policy.trusted_types)
    if untrusted:
        note = (
            " (the model's MLmodel declares them as trusted, but only you can decide that)"
            if set(untrusted) <= set(declared)
            else ""
        )
        raise InvalidParameter(
            f"The model {file} holds types outside skops' trusted set: {', '.join(untrusted)}"
            f"{note}. If you trust them, load with trusted_types={untrusted!r} "
            "(or MLFLOWX_SKOPS_TRUSTED_TYPES)."
        )
    # Every name skops reports is now trusted, by the caller or as a scikit-learn class.
    return skops.io.load(file, trusted=sorted(set(names)) or None)
