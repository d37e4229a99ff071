"""XGBoost and LightGBM models cross between MLflow 3.17 and mlflowx both ways, predicting the
same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.datasets import load_iris

import mlflowx.lightgbm
import mlflowx.pyfunc
import mlflowx.xgboost
from mlflowx.exceptions import UntrustedModel

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::FutureWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:mlflow.*"),
]


@pytest.fixture(autouse=True)
def _mlflow_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


def _models(X: pd.DataFrame, y: pd.Series) -> dict[str, tuple[str, Any]]:
    return {
        "xgb-sklearn": ("xgboost", xgb.XGBClassifier(n_estimators=4, max_depth=2).fit(X, y)),
        "xgb-booster": (
            "xgboost",
            xgb.train({"max_depth": 2}, xgb.DMatrix(X, y), num_boost_round=4),
        ),
        "lgb-sklearn": ("lightgbm", lgb.LGBMClassifier(n_estimators=4, verbose=-1).fit(X, y)),
        "lgb-booster": ("lightgbm", lgb.train({"verbose": -1}, lgb.Dataset(X, y), 4)),
    }


KINDS = ["xgb-sklearn", "xgb-booster", "lgb-sklearn", "lgb-booster"]


@pytest.mark.parametrize("kind", KINDS)
def test_mlflowx_model_loads_in_mlflow(
    iris: tuple, tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow.lightgbm
    import mlflow.pyfunc
    import mlflow.xgboost

    # MLflow 3.17 deserializes no scikit-learn-API LightGBM model (skops included) without it.
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    X, y = iris
    flavor, model = _models(X, y)[kind]
    module = mlflowx.xgboost if flavor == "xgboost" else mlflowx.lightgbm
    module.save_model(model, tmp_path / "m", input_example=X[:3])
    ours = mlflowx.pyfunc.load_model(tmp_path / "m").predict(X)
    theirs = mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(X)
    np.testing.assert_array_equal(np.asarray(theirs), np.asarray(ours))
    native = (mlflow.xgboost if flavor == "xgboost" else mlflow.lightgbm).load_model(
        str(tmp_path / "m")
    )
    assert type(native) is type(model)
    meta = mlflow.models.Model.load(str(tmp_path / "m"))
    assert meta.signature.inputs.input_names() == list(X.columns)


@pytest.mark.parametrize("kind", KINDS)
def test_mlflow_model_loads_in_mlflowx(iris: tuple, tmp_path: Path, kind: str) -> None:
    import mlflow.lightgbm
    import mlflow.pyfunc
    import mlflow.xgboost

    X, y = iris
    flavor, model = _models(X, y)[kind]
    theirs = mlflow.xgboost if flavor == "xgboost" else mlflow.lightgbm
    # Requirements given: MLflow would infer them in a subprocess per save (seconds each).
    theirs.save_model(model, str(tmp_path / "m"), input_example=X[:3], pip_requirements=[flavor])
    module = mlflowx.xgboost if flavor == "xgboost" else mlflowx.lightgbm
    native = module.load_model(tmp_path / "m")  # no opt-in: no pickle in any of them
    assert type(native) is type(model)
    ours = mlflowx.pyfunc.load_model(tmp_path / "m").predict(X)
    expected = mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(X)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(expected))


def test_mlflow_pickled_lightgbm_needs_the_opt_in(iris: tuple, tmp_path: Path) -> None:
    import mlflow.lightgbm

    X, y = iris
    model = lgb.LGBMClassifier(n_estimators=3, verbose=-1).fit(X, y)
    mlflow.lightgbm.save_model(
        model, str(tmp_path / "m"), serialization_format="cloudpickle", pip_requirements=["x"]
    )
    with pytest.raises(UntrustedModel, match="stored with cloudpickle"):
        mlflowx.pyfunc.load_model(tmp_path / "m")
    loaded = mlflowx.lightgbm.load_model(tmp_path / "m", allow_pickle=True)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_mlflowx_json_format_loads_in_mlflow(iris: tuple, tmp_path: Path) -> None:
    import mlflow.xgboost

    X, y = iris
    model = xgb.XGBRegressor(n_estimators=3).fit(X, y)
    mlflowx.xgboost.save_model(model, tmp_path / "m", model_format="json")
    np.testing.assert_array_equal(
        mlflow.xgboost.load_model(str(tmp_path / "m")).predict(X), model.predict(X)
    )
