"""XGBoost and LightGBM autologging: params, per-iteration metrics, feature importance, the
model; nested train calls inside fit log once; disable restores the frameworks exactly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
import xgboost.sklearn
from sklearn.datasets import load_diabetes, load_iris

import mlflowx
import mlflowx.lightgbm
import mlflowx.xgboost
from mlflowx.entities import Run

ORIGINAL = {
    "xgb.train": xgb.train,
    "xgb.sklearn.train": xgboost.sklearn.train,
    "XGBClassifier.fit": xgb.XGBClassifier.__dict__["fit"],
    "lgb.train": lgb.train,
    "LGBMClassifier.fit": lgb.LGBMClassifier.__dict__["fit"],
}


@pytest.fixture(autouse=True)
def _autolog_off() -> Iterator[None]:
    yield
    mlflowx.xgboost.autolog(disable=True)
    mlflowx.lightgbm.autolog(disable=True)
    assert xgb.train is ORIGINAL["xgb.train"]
    assert xgboost.sklearn.train is ORIGINAL["xgb.sklearn.train"]
    assert xgb.XGBClassifier.__dict__["fit"] is ORIGINAL["XGBClassifier.fit"]
    assert lgb.train is ORIGINAL["lgb.train"]
    assert lgb.LGBMClassifier.__dict__["fit"] is ORIGINAL["LGBMClassifier.fit"]


@pytest.fixture(scope="module")
def diabetes() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    return X, y


def _only_run() -> Run:
    runs = list(mlflowx.MlflowxClient().search_runs(["0"]))
    assert len(runs) == 1
    return runs[0]


def _history(run: Run, key: str) -> list[tuple[int, float]]:
    return [
        (m.step, m.value) for m in mlflowx.MlflowxClient().get_metric_history(run.info.run_id, key)
    ]


def _artifacts(run: Run) -> set[str]:
    return {a.path for a in mlflowx.MlflowxClient().list_artifacts(run.info.run_id)}


def test_xgboost_train_logs_params_metrics_importance_and_model(diabetes: tuple) -> None:
    X, y = diabetes
    dtrain, dvalid = xgb.DMatrix(X[:300], y[:300]), xgb.DMatrix(X[300:], y[300:])
    mlflowx.xgboost.autolog()
    evals: dict[str, dict[str, list[float]]] = {}
    booster = xgb.train(
        {"max_depth": 2, "eta": 0.3},
        dtrain,
        num_boost_round=6,
        evals=[(dtrain, "train"), (dvalid, "valid")],
        evals_result=evals,
        verbose_eval=False,
    )
    run = _only_run()
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.autologging"] == "xgboost"
    params = run.data.params
    assert (params["max_depth"], params["eta"], params["num_boost_round"]) == ("2", "0.3", "6")
    assert not {"dtrain", "evals"} & set(params)
    for data in ("train", "valid"):
        history = _history(run, f"{data}-rmse")
        assert [s for s, _ in history] == list(range(6))
        np.testing.assert_allclose([v for _, v in history], evals[data]["rmse"])
    assert {"feature_importance_weight.json", "feature_importance_weight.png"} <= _artifacts(run)
    client = mlflowx.MlflowxClient()
    local = Path(client.download_artifacts(run.info.run_id, "feature_importance_weight.json"))
    assert json.loads(local.read_text()) == pytest.approx(
        booster.get_score(importance_type="weight")
    )
    png = Path(client.download_artifacts(run.info.run_id, "feature_importance_weight.png"))
    assert png.read_bytes().startswith(b"\x89PNG")
    (logged,) = client.search_logged_models(["0"])
    assert (logged.name, logged.source_run_id) == ("model", run.info.run_id)
    loaded = mlflowx.xgboost.load_model(logged.model_uri)
    np.testing.assert_array_equal(loaded.predict(dvalid), booster.predict(dvalid))


def test_xgboost_sklearn_fit_logs_one_run_with_signature(diabetes: tuple) -> None:
    X, y = diabetes
    mlflowx.xgboost.autolog(importance_types=["weight", "gain"], log_input_examples=True)
    model = xgb.XGBRegressor(n_estimators=40, max_depth=2, early_stopping_rounds=2, eta=0.9)
    model.fit(X[:300], y[:300], eval_set=[(X[300:], y[300:])], verbose=False)
    run = _only_run()  # the train call inside fit logs into the same run
    assert run.data.params["n_estimators"] == "40"
    assert run.data.tags["estimator_name"] == "XGBRegressor"
    rounds = model.get_booster().num_boosted_rounds()
    assert rounds < 40  # it did stop early
    history = _history(run, "validation_0-rmse")
    assert [s for s, _ in history] == [*range(rounds), rounds]
    assert history[-1][1] == history[model.best_iteration][1]
    assert run.data.metrics["stopped_iteration"] == rounds - 1
    assert run.data.metrics["best_iteration"] == model.best_iteration
    assert {"feature_importance_gain.png", "feature_importance_weight.png"} <= _artifacts(run)
    (logged,) = mlflowx.MlflowxClient().search_logged_models(["0"])
    pyfunc = mlflowx.pyfunc.load_model(logged.model_uri)
    assert pyfunc.signature.inputs.input_names() == list(X.columns)
    assert pyfunc.metadata.saved_input_example_info is not None
    np.testing.assert_array_equal(pyfunc.predict(X), model.predict(X))


def test_lightgbm_train_logs_metrics_with_early_stopping(diabetes: tuple) -> None:
    X, y = diabetes
    train, valid = lgb.Dataset(X[:300], y[:300]), lgb.Dataset(X[300:], y[300:])
    mlflowx.lightgbm.autolog()
    record: dict[str, dict[str, list[float]]] = {}
    booster = lgb.train(
        {"objective": "regression", "metric": ["l2", "l1"], "verbose": -1, "learning_rate": 0.5},
        train,
        num_boost_round=50,
        valid_sets=[valid],
        valid_names=["valid"],
        callbacks=[lgb.early_stopping(3, verbose=False), lgb.record_evaluation(record)],
    )
    run = _only_run()
    assert run.data.tags["mlflow.autologging"] == "lightgbm"
    assert run.data.params["learning_rate"] == "0.5"
    assert run.data.params["num_boost_round"] == "50"
    l1 = record["valid"]["l1"]
    stopped = len(l1)
    assert booster.best_iteration < stopped  # it did stop early
    history = _history(run, "valid-l1")
    # As MLflow: the best iteration's metrics again, one step after the last.
    assert [s for s, _ in history] == [*range(stopped), stopped]
    np.testing.assert_allclose([v for _, v in history], [*l1, l1[booster.best_iteration - 1]])
    assert run.data.metrics["best_iteration"] == booster.best_iteration
    assert run.data.metrics["stopped_iteration"] == stopped
    assert {
        "feature_importance_split.json",
        "feature_importance_split.png",
        "feature_importance_gain.json",
        "feature_importance_gain.png",
    } <= _artifacts(run)
    (logged,) = mlflowx.MlflowxClient().search_logged_models(["0"])
    assert isinstance(mlflowx.lightgbm.load_model(logged.model_uri), lgb.Booster)


def test_lightgbm_sklearn_fit_in_a_user_run() -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    mlflowx.lightgbm.autolog()
    with mlflowx.start_run() as run:
        model = lgb.LGBMClassifier(n_estimators=3, verbose=-1)
        model.fit(X, y, eval_X=(X,), eval_y=(y,), eval_metric="multi_error")
    got = _only_run()
    assert got.info.run_id == run.info.run_id
    assert got.data.params["n_estimators"] == "3"
    assert [s for s, _ in _history(got, "valid_0-multi_error")] == [0, 1, 2]
    (logged,) = mlflowx.MlflowxClient().search_logged_models(["0"])
    loaded = mlflowx.lightgbm.load_model(logged.model_uri)  # skops, no opt-in
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_exclusive_leaves_user_runs_alone(diabetes: tuple) -> None:
    X, y = diabetes
    mlflowx.xgboost.autolog(exclusive=True)
    with mlflowx.start_run():
        xgb.XGBRegressor(n_estimators=2).fit(X, y)
    run = _only_run()
    assert run.data.params == {}
    assert mlflowx.MlflowxClient().search_logged_models(["0"]) == []


def test_a_failed_training_fails_the_run_autolog_started(diabetes: tuple) -> None:
    X, _ = diabetes
    mlflowx.lightgbm.autolog()
    with pytest.raises(lgb.basic.LightGBMError, match="Number of classes"):
        lgb.train({"verbose": -1, "objective": "multiclass"}, lgb.Dataset(X, np.full(len(X), -1)))
    assert _only_run().info.status == "FAILED"
