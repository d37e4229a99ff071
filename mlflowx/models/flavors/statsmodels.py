"""The ``statsmodels`` flavor: a fitted results object, in MLflow's layout.

statsmodels stores results with pickle (``results.save``), and unpickling runs whatever the
file says, so loading always needs ``allow_pickle`` (MLflow's own statsmodels loader once
skipped that guard: GHSA-gqvg-gmmx-x4hm).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlflowx.exceptions import InvalidParameter
from mlflowx.models.flavors import Flavor, PredictFn, SavedFlavor
from mlflowx.models.paths import model_file
from mlflowx.models.policy import LoadPolicy, Need

__all__ = ["StatsmodelsFlavor"]

DATA = "model.statsmodels"


class _StatsmodelsPredict(PredictFn):
    def __init__(self, results: Any) -> None:
        self.results = results

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        from statsmodels.tsa.base.tsa_model import TimeSeriesModel

        if isinstance(self.results.model, TimeSeriesModel):
            # As MLflow: one row with the "start" and "end" of the forecast.
            columns = getattr(data, "columns", ())
            if len(data) != 1 or "start" not in columns or "end" not in columns:
                raise InvalidParameter(
                    "A statsmodels time-series model predicts from one row with columns 'start' "
                    "and 'end'"
                )
            row = data.iloc[0]
            return self.results.predict(start=row["start"], end=row["end"])
        return self.results.predict(data)

    def unwrap(self) -> Any:
        return self.results


class StatsmodelsFlavor(Flavor):
    name = "statsmodels"
    loader_modules = ("mlflow.statsmodels", "mlflowx.statsmodels")

    def save(self, model: Any, path: Path, remove_data: bool = False, **_: Any) -> SavedFlavor:
        import statsmodels

        if not hasattr(model, "save") or not hasattr(model, "model"):
            raise InvalidParameter(
                "A statsmodels model must be a fitted results object (what .fit() returns), "
                f"not {type(model).__name__}"
            )
        model.save(str(path / DATA), remove_data)
        conf = {"statsmodels_version": statsmodels.__version__, "data": DATA, "code": None}
        pyfunc_conf = {"loader_module": "mlflow.statsmodels", "data": DATA, "code": None}
        return SavedFlavor(conf, pyfunc_conf, {"statsmodels", type(model.model).__module__})

    def _file(self, path: Path, conf: dict[str, Any], field: str) -> Path:
        return model_file(path, conf.get("data") or DATA, field)

    def needs(
        self, path: Path, conf: dict[str, Any], field: str = "statsmodels.data"
    ) -> list[Need]:
        return [Need.pickle(self._file(path, conf, field), "a statsmodels results object")]

    def load(
        self, path: Path, conf: dict[str, Any], policy: LoadPolicy, field: str = "statsmodels.data"
    ) -> Any:
        for need in self.needs(path, conf, field):
            policy.require(need)
        import statsmodels.iolib.api as smio

        return smio.load_pickle(str(self._file(path, conf, field)))  # allowed by the policy

    def _for_pyfunc(
        self, pyfunc_conf: dict[str, Any], flavors: dict[str, Any]
    ) -> tuple[dict[str, Any], str]:
        if self.name in flavors:
            return dict(flavors[self.name]), "statsmodels.data"
        return {"data": pyfunc_conf.get("data")}, "python_function.data"

    def pyfunc_needs(
        self, path: Path, pyfunc_conf: dict[str, Any], flavors: dict[str, Any]
    ) -> list[Need]:
        return self.needs(path, *self._for_pyfunc(pyfunc_conf, flavors))

    def pyfunc(
        self, path: Path, pyfunc_conf: dict[str, Any], flavors: dict[str, Any], policy: LoadPolicy
    ) -> PredictFn:
        conf, field = self._for_pyfunc(pyfunc_conf, flavors)
        return _StatsmodelsPredict(self.load(path, conf, policy, field))
