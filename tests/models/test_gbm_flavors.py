"""The xgboost and lightgbm flavors: native files, Booster and scikit-learn-API models, the
MLmodel sections MLflow writes, and loading that trusts nothing the model file says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
import yaml
from sklearn.datasets import load_diabetes, load_iris
from sklearn.dummy import DummyClassifier

import mlflowx
import mlflowx.lightgbm
import mlflowx.pyfunc
import mlflowx.xgboost
from mlflowx.exceptions import InvalidParameter, UntrustedModel
from mlflowx.models.load import pyfunc_needs


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


def _mlmodel(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load((path / "MLmodel").read_text()))


@pytest.mark.parametrize("model_format", ["ubj", "json"])
def test_xgboost_sklearn_model_round_trip(iris: tuple, tmp_path: Path, model_format: str) -> None:
    X, y = iris
    model = xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(X, y)
    mlflowx.xgboost.save_model(
        model, tmp_path / "m", model_format=model_format, input_example=X[:3]
    )
    mlmodel = _mlmodel(tmp_path / "m")
    conf = mlmodel["flavors"]["xgboost"]
    assert conf["model_class"] == "xgboost.sklearn.XGBClassifier"
    assert (conf["model_format"], conf["data"]) == (model_format, f"model.{model_format}")
    assert mlmodel["flavors"]["python_function"]["loader_module"] == "mlflow.xgboost"
    assert (tmp_path / "m" / f"model.{model_format}").is_file()
    assert not list((tmp_path / "m").glob("*.pkl"))
    requirements = (tmp_path / "m" / "requirements.txt").read_text().split()
    assert any(r.startswith("xgboost-cpu==") for r in requirements)
    assert pyfunc_needs(tmp_path / "m") == []
    loaded = mlflowx.xgboost.load_model(tmp_path / "m")
    assert type(loaded) is xgb.XGBClassifier
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    pyfunc = mlflowx.pyfunc.load_model(tmp_path / "m")
    np.testing.assert_array_equal(pyfunc.predict(X), model.predict(X))
    assert pyfunc.signature.inputs.input_names() == list(X.columns)


def test_xgboost_booster_predicts_through_a_dmatrix(tmp_path: Path) -> None:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    booster = xgb.train({"max_depth": 3}, xgb.DMatrix(X, y), num_boost_round=5)
    mlflowx.xgboost.save_model(booster, tmp_path / "m")
    assert _mlmodel(tmp_path / "m")["flavors"]["xgboost"]["model_class"] == "xgboost.core.Booster"
    assert isinstance(mlflowx.xgboost.load_model(tmp_path / "m"), xgb.Booster)
    pyfunc = mlflowx.pyfunc.load_model(tmp_path / "m")
    expected = booster.predict(xgb.DMatrix(X))
    np.testing.assert_array_equal(pyfunc.predict(X), expected)
    # Params the booster's predict takes are passed on; others are dropped.
    margin = pyfunc.predict(X, params={"output_margin": True, "no_such_param": 1})
    np.testing.assert_array_equal(margin, booster.predict(xgb.DMatrix(X), output_margin=True))


def test_xgboost_refuses_a_model_class_outside_xgboost(iris: tuple, tmp_path: Path) -> None:
    X, y = iris
    mlflowx.xgboost.save_model(xgb.XGBRegressor(n_estimators=2).fit(X, y), tmp_path / "m")
    for bad in ("subprocess.Popen", "xgboost.callback.EarlyStopping", "xgboost.os.system"):
        mlmodel = _mlmodel(tmp_path / "m")
        mlmodel["flavors"]["xgboost"]["model_class"] = bad
        (tmp_path / "m" / "MLmodel").write_text(yaml.safe_dump(mlmodel))
        with pytest.raises(InvalidParameter, match="is not an XGBoost model class"):
            mlflowx.xgboost.load_model(tmp_path / "m")


def test_xgboost_bad_options_are_clear_errors(iris: tuple, tmp_path: Path) -> None:
    X, y = iris
    model = xgb.XGBRegressor(n_estimators=2).fit(X, y)
    with pytest.raises(InvalidParameter, match="Unknown model_format 'pkl'"):
        mlflowx.xgboost.save_model(model, tmp_path / "a", model_format="pkl")
    dummy = DummyClassifier().fit(X, y)
    with pytest.raises(InvalidParameter, match=r"not sklearn\.dummy\.DummyClassifier"):
        mlflowx.xgboost.save_model(dummy, tmp_path / "b")


def test_lightgbm_booster_is_a_text_model_file(tmp_path: Path) -> None:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    booster = lgb.train({"verbose": -1}, lgb.Dataset(X, y), num_boost_round=5)
    mlflowx.lightgbm.save_model(booster, tmp_path / "m", input_example=X[:2])
    conf = _mlmodel(tmp_path / "m")["flavors"]["lightgbm"]
    assert (conf["data"], conf["model_class"]) == ("model.lgb", "lightgbm.basic.Booster")
    assert (tmp_path / "m" / "model.lgb").read_text().startswith("tree\n")
    assert isinstance(mlflowx.lightgbm.load_model(tmp_path / "m"), lgb.Booster)
    pyfunc = mlflowx.pyfunc.load_model(tmp_path / "m")
    np.testing.assert_array_equal(pyfunc.predict(X), booster.predict(X))


@pytest.mark.parametrize("cls", [lgb.LGBMClassifier, lgb.LGBMRegressor])
def test_lightgbm_sklearn_model_loads_safely_with_skops(
    iris: tuple, tmp_path: Path, cls: type
) -> None:
    X, y = iris
    model = cls(n_estimators=5, verbose=-1).fit(X, y)
    mlflowx.lightgbm.save_model(model, tmp_path / "m")
    conf = _mlmodel(tmp_path / "m")["flavors"]["lightgbm"]
    assert (conf["data"], conf["serialization_format"]) == ("model.skops", "skops")
    assert conf["model_class"] == f"lightgbm.sklearn.{cls.__name__}"
    assert pyfunc_needs(tmp_path / "m") == []
    loaded = mlflowx.lightgbm.load_model(tmp_path / "m")  # no opt-in needed
    assert type(loaded) is cls
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(
        mlflowx.pyfunc.load_model(tmp_path / "m").predict(X), model.predict(X)
    )


def _objective(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    return y_pred - y_true, np.ones_like(y_pred)


def test_lightgbm_skops_trusts_only_its_own_classes(iris: tuple, tmp_path: Path) -> None:
    """A function in the model (a custom objective) is not trusted because LightGBM is."""
    X, y = iris
    model = lgb.LGBMRegressor(n_estimators=3, verbose=-1, objective=_objective).fit(X, y)
    name = f"{__name__}._objective"
    with pytest.raises(InvalidParameter, match="skops_trusted_types"):
        mlflowx.lightgbm.save_model(model, tmp_path / "refused")
    mlflowx.lightgbm.save_model(model, tmp_path / "m", skops_trusted_types=[name])
    assert name in _mlmodel(tmp_path / "m")["flavors"]["lightgbm"]["skops_trusted_types"]
    with pytest.raises(InvalidParameter, match=f"outside skops' trusted set: {name}"):
        mlflowx.lightgbm.load_model(tmp_path / "m")
    loaded = mlflowx.lightgbm.load_model(tmp_path / "m", trusted_types=[name])
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_pickled_lightgbm_model_needs_allow_pickle(iris: tuple, tmp_path: Path) -> None:
    X, y = iris
    model = lgb.LGBMClassifier(n_estimators=3, verbose=-1).fit(X, y)
    mlflowx.lightgbm.save_model(model, tmp_path / "m", serialization_format="cloudpickle")
    conf = _mlmodel(tmp_path / "m")["flavors"]["lightgbm"]
    assert (conf["data"], conf["serialization_format"]) == ("model.pkl", "cloudpickle")
    (need,) = pyfunc_needs(tmp_path / "m")
    assert (need.permission, need.file.name) == ("pickle", "model.pkl")
    with pytest.raises(UntrustedModel, match=r"model\.pkl is a LightGBM scikit-learn model"):
        mlflowx.lightgbm.load_model(tmp_path / "m")
    with pytest.raises(UntrustedModel, match="allow_pickle=True"):
        mlflowx.pyfunc.load_model(tmp_path / "m")
    loaded = mlflowx.lightgbm.load_model(tmp_path / "m", allow_pickle=True)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_model_file_path_must_stay_inside_the_model(iris: tuple, tmp_path: Path) -> None:
    X, y = iris
    booster = lgb.train({"verbose": -1}, lgb.Dataset(X, y), num_boost_round=2)
    mlflowx.lightgbm.save_model(booster, tmp_path / "m")
    mlmodel = _mlmodel(tmp_path / "m")
    mlmodel["flavors"]["lightgbm"]["data"] = "../outside.lgb"
    (tmp_path / "m" / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    with pytest.raises(InvalidParameter, match=r"lightgbm\.data"):
        mlflowx.lightgbm.load_model(tmp_path / "m")


def test_log_model_and_load_by_uri(iris: tuple) -> None:
    X, y = iris
    model = xgb.XGBClassifier(n_estimators=3).fit(X, y)
    with mlflowx.start_run():
        info = mlflowx.xgboost.log_model(model, name="xgb", input_example=X[:2])
        lgb_info = mlflowx.lightgbm.log_model(
            lgb.LGBMClassifier(n_estimators=3, verbose=-1).fit(X, y), name="lgb"
        )
    assert info.flavors["python_function"]["loader_module"] == "mlflow.xgboost"
    np.testing.assert_array_equal(
        mlflowx.xgboost.load_model(info.model_uri).predict(X), model.predict(X)
    )
    assert isinstance(mlflowx.lightgbm.load_model(lgb_info.model_uri), lgb.LGBMClassifier)
    logged = mlflowx.MlflowxClient().get_logged_model(info.model_id)
    assert logged.tags["mlflow.modelFlavor"] == "xgboost"
