"""The ``lightgbm`` flavor: a Booster as LightGBM's text model file; a scikit-learn-API model
(``LGBMClassifier`` …) with skops by default, as MLflow 3.17 writes them.

MLflow stores the scikit-learn wrapper with skops (or cloudpickle/pickle when asked). A skops
file of such a model names exactly the LightGBM classes in :data:`SAFE_TYPES` beyond skops' own
trusted set, and none of them runs code as it loads: skops builds the wrapper from its plain
attributes, and the Booster from its state, whose model text LightGBM parses natively
(``Booster.__setstate__``). So mlflowx trusts those names, from this module and never from the
model's own MLmodel; anything else in the file (a custom objective function, a class of the
user's) still needs the caller's ``trusted_types``. Pickled models need ``allow_pickle``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from mlflowx.exceptions import InvalidParameter
from mlflowx.models.flavors import Flavor, PredictFn, SavedFlavor
from mlflowx.models.flavors.sklearn import (
    SERIALIZATION_FORMATS,
    SklearnFlavor,
    object_modules,
)
from mlflowx.models.paths import model_file
from mlflowx.models.policy import LoadPolicy, Need

__all__ = ["SAFE_TYPES", "LightGBMFlavor"]

BOOSTER = "lightgbm.basic.Booster"
#: The names a skops file of a LightGBM scikit-learn model holds beyond skops' trusted set
#: (MLflow's ``_LIGHTGBM_SKLEARN_SKOPS_TRUSTED_TYPES``, plus the ranker).
SAFE_TYPES = (
    "collections.OrderedDict",
    BOOSTER,
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
    "lightgbm.sklearn.LGBMRanker",
)
_FILES = {"skops": "model.skops", "cloudpickle": "model.pkl", "pickle": "model.pkl"}


class _LightGBMPredict(PredictFn):
    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.model.predict(data)  # as MLflow: params are not passed on

    def unwrap(self) -> Any:
        return self.model


class LightGBMFlavor(Flavor):
    name = "lightgbm"
    loader_modules = ("mlflow.lightgbm", "mlflowx.lightgbm")

    def save(
        self,
        model: Any,
        path: Path,
        serialization_format: str = "skops",
        skops_trusted_types: list[str] | None = None,
        **_: Any,
    ) -> SavedFlavor:
        import lightgbm as lgb

        if serialization_format not in SERIALIZATION_FORMATS:
            raise InvalidParameter(
                f"Unknown serialization_format {serialization_format!r}; expected one of "
                f"{', '.join(SERIALIZATION_FORMATS)}"
            )
        trusted = list(dict.fromkeys([*SAFE_TYPES[:4], *(skops_trusted_types or [])]))
        modules = {"lightgbm", "numpy", "scipy"}
        if isinstance(model, lgb.Booster):
            filename = "model.lgb"
            model.save_model(str(path / filename))
        elif isinstance(model, lgb.LGBMModel):
            filename = _FILES[serialization_format]
            # The sklearn flavor's writer: skops (checked against the trusted names), or a pickle.
            saved = SklearnFlavor().save(
                model,
                path,
                serialization_format=serialization_format,
                skops_trusted_types=trusted if serialization_format == "skops" else None,
            )
            (path / saved.conf["pickled_model"]).rename(path / filename)
            modules |= saved.modules | object_modules(model)
        else:
            raise InvalidParameter(
                "mlflowx.lightgbm saves a lightgbm.Booster or a LightGBM scikit-learn model, "
                f"not {type(model).__module__}.{type(model).__qualname__}"
            )
        cls = type(model)
        conf = {
            "lgb_version": lgb.__version__,
            "data": filename,
            "model_class": f"{cls.__module__}.{cls.__name__}",
            "code": None,
            "serialization_format": serialization_format,
            "skops_trusted_types": trusted if serialization_format == "skops" else None,
        }
        pyfunc_conf = {"loader_module": "mlflow.lightgbm", "data": filename, "code": None}
        return SavedFlavor(conf, pyfunc_conf, modules)

    def _sklearn_conf(self, conf: dict[str, Any]) -> dict[str, Any]:
        # MLflow before skops pickled the wrapper with cloudpickle, without saying so.
        return {
            "serialization_format": conf.get("serialization_format") or "cloudpickle",
            "pickled_model": conf.get("data"),
        }

    def needs(self, path: Path, conf: dict[str, Any]) -> list[Need]:
        file = model_file(path, conf.get("data"), "lightgbm.data")
        if str(conf.get("model_class") or BOOSTER) == BOOSTER:
            return []
        fmt = str(self._sklearn_conf(conf)["serialization_format"])
        if fmt == "skops":
            return []
        if fmt not in SERIALIZATION_FORMATS:
            raise InvalidParameter(f"Unknown lightgbm serialization_format {fmt!r} in {path}")
        return [
            Need.pickle(
                file,
                f"a LightGBM scikit-learn model stored with {fmt}",
                "Re-saving it with serialization_format='skops' makes later loads safe.",
            )
        ]

    def pyfunc_needs(
        self, path: Path, pyfunc_conf: dict[str, Any], flavors: dict[str, Any]
    ) -> list[Need]:
        return self.needs(path, self._conf(pyfunc_conf, flavors))

    def load(self, path: Path, conf: dict[str, Any], policy: LoadPolicy) -> Any:
        file = model_file(path, conf.get("data"), "lightgbm.data")
        if str(conf.get("model_class") or BOOSTER) == BOOSTER:
            import lightgbm as lgb

            return lgb.Booster(model_file=str(file))
        trusting = dataclasses.replace(
            policy, trusted_types=tuple(dict.fromkeys([*policy.trusted_types, *SAFE_TYPES]))
        )
        return SklearnFlavor().load(path, self._sklearn_conf(conf), trusting, "lightgbm.data")

    def _conf(self, pyfunc_conf: dict[str, Any], flavors: dict[str, Any]) -> dict[str, Any]:
        # A model with only a python_function section (very old MLflow) is a Booster.
        return dict(flavors.get(self.name) or {"data": pyfunc_conf.get("data")})

    def pyfunc(
        self, path: Path, pyfunc_conf: dict[str, Any], flavors: dict[str, Any], policy: LoadPolicy
    ) -> PredictFn:
        return _LightGBMPredict(self.load(path, self._conf(pyfunc_conf, flavors), policy))
