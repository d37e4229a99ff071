"""The ``xgboost`` flavor: XGBoost's own model file (UBJSON or JSON), never a pickle.

Boosters and scikit-learn-API models (``XGBClassifier`` …) are saved with ``save_model``, in
the ``xgboost`` and ``python_function`` sections MLflow 3.17 writes, so each tool loads what
the other saves. The MLmodel names the model's class (``model_class``); MLflow imports whatever
class it names, mlflowx only an XGBoost class that is a ``Booster`` or an ``XGBModel``.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from pathlib import Path
from typing import Any

from mlflowx.exceptions import InvalidParameter
from mlflowx.models.flavors import Flavor, PredictFn, SavedFlavor
from mlflowx.models.paths import model_file
from mlflowx.models.policy import LoadPolicy, Need

__all__ = ["MODEL_FORMATS", "XGBoostFlavor", "model_class"]

log = logging.getLogger(__name__)

#: ``xgb`` is XGBoost's old binary format, which XGBoost 3 no longer writes.
MODEL_FORMATS = ("ubj", "json", "xgb")
_BOOSTER = "xgboost.core.Booster"


def model_class(name: str) -> type:
    """The XGBoost class an MLmodel names: a Booster or an XGBModel defined in xgboost."""
    import xgboost as xgb

    module_name, _, attr = name.rpartition(".")
    refused = InvalidParameter(
        f"The xgboost flavor's model_class {name!r} is not an XGBoost model class (expected "
        f"{_BOOSTER} or an xgboost scikit-learn class such as xgboost.sklearn.XGBClassifier); "
        "mlflowx imports no other class a model file names"
    )
    if module_name.split(".")[0] != "xgboost":
        raise refused
    try:
        cls = getattr(importlib.import_module(module_name), attr, None)
    except ImportError:
        raise refused from None
    if not isinstance(cls, type) or not issubclass(cls, xgb.Booster | xgb.XGBModel):
        raise refused
    return cls


def _accepted(fn: Any, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` that ``fn`` takes; as MLflow, others are dropped with a warning."""
    accepted = inspect.signature(fn).parameters
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in accepted.values()):
        return params
    dropped = sorted(set(params) - set(accepted))
    if dropped:
        log.warning("The xgboost model takes no params %s; ignoring them", dropped)
    return {k: v for k, v in params.items() if k in accepted}


class _XGBoostPredict(PredictFn):
    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import xgboost as xgb

        model = self.model
        if isinstance(model, xgb.Booster):
            kwargs = _accepted(model.predict, params or {})
            kwargs.setdefault("validate_features", True)
            return model.predict(xgb.DMatrix(data), **kwargs)
        kwargs = _accepted(model.predict, params or {})
        kwargs.setdefault("validate_features", True)
        return model.predict(data, **kwargs)

    def unwrap(self) -> Any:
        return self.model


class XGBoostFlavor(Flavor):
    name = "xgboost"
    loader_modules = ("mlflow.xgboost", "mlflowx.xgboost")

    def save(self, model: Any, path: Path, model_format: str = "ubj", **kwargs: Any) -> SavedFlavor:
        import xgboost as xgb

        if not isinstance(model, xgb.Booster | xgb.XGBModel):
            raise InvalidParameter(
                f"mlflowx.xgboost saves an xgboost.Booster or an XGBoost scikit-learn model, "
                f"not {type(model).__module__}.{type(model).__qualname__}"
            )
        if model_format not in MODEL_FORMATS:
            raise InvalidParameter(
                f"Unknown model_format {model_format!r}; expected one of {', '.join(MODEL_FORMATS)}"
            )
        filename = f"model.{model_format}"
        try:
            model.save_model(str(path / filename), **kwargs)
        except xgb.core.XGBoostError as exc:
            raise InvalidParameter(
                f"XGBoost {xgb.__version__} cannot save model_format {model_format!r}: {exc}. "
                "Use 'ubj' (the default) or 'json'."
            ) from exc
        cls = type(model)
        conf = {
            "xgb_version": xgb.__version__,
            "data": filename,
            "model_class": f"{cls.__module__}.{cls.__name__}",
            "model_format": model_format,
            "code": None,
        }
        pyfunc_conf = {"loader_module": "mlflow.xgboost", "data": filename, "code": None}
        modules = {"xgboost", "numpy", "scipy"}
        if isinstance(model, xgb.XGBModel):
            modules.add("sklearn")
        return SavedFlavor(conf, pyfunc_conf, modules)

    def needs(self, path: Path, conf: dict[str, Any]) -> list[Need]:
        model_file(path, conf.get("data"), "xgboost.data")
        return []  # XGBoost's own formats run no code as they load

    def pyfunc_needs(
        self, path: Path, pyfunc_conf: dict[str, Any], flavors: dict[str, Any]
    ) -> list[Need]:
        return self.needs(path, self._conf(pyfunc_conf, flavors))

    def load(self, path: Path, conf: dict[str, Any], policy: LoadPolicy) -> Any:
        file = model_file(path, conf.get("data"), "xgboost.data")
        model = model_class(str(conf.get("model_class") or _BOOSTER))()
        model.load_model(str(file))
        return model

    def _conf(self, pyfunc_conf: dict[str, Any], flavors: dict[str, Any]) -> dict[str, Any]:
        # A model with only a python_function section (very old MLflow) is a Booster.
        return dict(flavors.get(self.name) or {"data": pyfunc_conf.get("data")})

    def pyfunc(
        self, path: Path, pyfunc_conf: dict[str, Any], flavors: dict[str, Any], policy: LoadPolicy
    ) -> PredictFn:
        return _XGBoostPredict(self.load(path, self._conf(pyfunc_conf, flavors), policy))
