"""XGBoost and LightGBM models in the scoring server: every request format answers, and the
fast path answers exactly what the general path answers, on one row and on a batch large
enough to use the framework's threads."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from fastapi.testclient import TestClient
from sklearn.datasets import make_classification, make_regression

import mlflowx.lightgbm
import mlflowx.pyfunc
import mlflowx.xgboost
from mlflowx.serving.scoring import create_scoring_app, fastpath_gbm
from mlflowx.serving.scoring.fastpath_gbm import gbm_fast_path
from tests.serving._scoring import (
    MLFLOW_WARNINGS,
    bodies,
    same_answer_on_both_paths,
    split_body,
)

JSON = {"Content-Type": "application/json"}

pytestmark = MLFLOW_WARNINGS


def _frame(n: int, classes: int = 0) -> tuple[pd.DataFrame, Any]:
    if classes:
        X, y = make_classification(n, 6, n_informative=4, n_classes=classes, random_state=0)
    else:
        X, y = make_regression(n, 6, noise=1.0, random_state=0)
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(6)]), y


def _xgb_classifier(X: pd.DataFrame, y: Any) -> Any:
    return xgb.XGBClassifier(n_estimators=20, max_depth=3).fit(X, y)


def _xgb_booster(X: pd.DataFrame, y: Any) -> Any:
    return xgb.train({"max_depth": 3}, xgb.DMatrix(X, y), num_boost_round=20)


def _lgb_classifier(X: pd.DataFrame, y: Any) -> Any:
    return lgb.LGBMClassifier(n_estimators=20, verbose=-1).fit(X, y)


def _lgb_booster(X: pd.DataFrame, y: Any) -> Any:
    return lgb.train({"verbose": -1}, lgb.Dataset(X, y), num_boost_round=20)


CASES: dict[str, tuple[Any, Callable[..., Any], int]] = {
    "xgb-classifier": (mlflowx.xgboost, _xgb_classifier, 3),
    "xgb-booster": (mlflowx.xgboost, _xgb_booster, 0),
    "lgb-classifier": (mlflowx.lightgbm, _lgb_classifier, 3),
    "lgb-booster": (mlflowx.lightgbm, _lgb_booster, 0),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fast_path_answers_what_the_general_path_answers(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module, train, classes = CASES[case]
    X, y = _frame(300, classes=classes)
    model = train(X, y)
    module.save_model(model, tmp_path / "m", input_example=X[:2])
    # Batches over SMALL_BATCH rows use the framework's threads: a small limit keeps it quick.
    monkeypatch.setattr(fastpath_gbm, "SMALL_BATCH", 16)
    batches = {"one": X[:1], "batch": X[:50]}
    sent = same_answer_on_both_paths(
        lambda: mlflowx.pyfunc.load_model(tmp_path / "m"), batches, monkeypatch
    )
    for size, frame in batches.items():
        predictions = json.loads(sent[size])["predictions"]
        expected = mlflowx.pyfunc.load_model(tmp_path / "m").predict(frame)
        np.testing.assert_array_equal(np.asarray(predictions), np.asarray(expected))


def test_no_fast_path_without_matching_feature_names(tmp_path: Path) -> None:
    X, y = _frame(200)
    # Trained on an array: XGBoost knows no names, so the array could mean anything.
    booster = xgb.train({}, xgb.DMatrix(X.to_numpy(), y), num_boost_round=2)
    mlflowx.xgboost.save_model(booster, tmp_path / "xgb", input_example=X[:2])
    assert gbm_fast_path(mlflowx.pyfunc.load_model(tmp_path / "xgb")) is None
    # XGBoost matches names: trained on the columns in another order, no fast path.
    reordered = xgb.train({}, xgb.DMatrix(X[X.columns[::-1]], y), num_boost_round=2)
    mlflowx.xgboost.save_model(reordered, tmp_path / "xgb2", input_example=X[:2])
    assert gbm_fast_path(mlflowx.pyfunc.load_model(tmp_path / "xgb2")) is None


def test_lightgbm_reads_by_position_on_both_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LightGBM renames "a b" to "a_b" and reads frames by position (so does MLflow's path):
    the fast path needs the same number of columns, not the same names."""
    X, y = _frame(200)
    X.columns = [f"feature {i}" for i in range(6)]
    booster = lgb.train({"verbose": -1}, lgb.Dataset(X, y), 5)
    assert booster.feature_name()[0] == "feature_0"
    mlflowx.lightgbm.save_model(booster, tmp_path / "m", input_example=X[:2])
    assert gbm_fast_path(mlflowx.pyfunc.load_model(tmp_path / "m")) is not None
    answers = []
    for fast in ("1", "0"):
        monkeypatch.setenv("MLFLOWX_SCORING_FAST_PATH", fast)
        with TestClient(create_scoring_app(mlflowx.pyfunc.load_model(tmp_path / "m"))) as client:
            body = split_body(X[X.columns[::-1]][:3])  # any order: matched by name first
            response = client.post("/invocations", content=body, headers=JSON)
        assert response.status_code == 200
        answers.append(response.json()["predictions"])
    assert answers[0] == answers[1] == booster.predict(X[:3]).tolist()


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_answers_as_mlflow_scoring_app(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app ``mlflow models serve`` runs, on the same model directory and request bodies."""
    import mlflow.pyfunc
    from mlflow.pyfunc import scoring_server

    # MLflow 3.17 loads no scikit-learn-API LightGBM model (skops included) without it.
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    module, train, classes = CASES[case]
    X, y = _frame(300, classes=classes)
    module.save_model(train(X, y), tmp_path / "m", input_example=X[:2])
    theirs_app = scoring_server.init(mlflow.pyfunc.load_model(str(tmp_path / "m")))
    with TestClient(theirs_app) as mlflow_client:
        for fast in ("1", "0"):
            monkeypatch.setenv("MLFLOWX_SCORING_FAST_PATH", fast)
            model = mlflowx.pyfunc.load_model(tmp_path / "m")
            with TestClient(create_scoring_app(model)) as client:
                for name, (content_type, body) in bodies(X[:40]).items():
                    headers = {"Content-Type": content_type}
                    theirs = mlflow_client.post("/invocations", content=body, headers=headers)
                    ours = client.post("/invocations", content=body, headers=headers)
                    assert ours.status_code == theirs.status_code == 200, (name, theirs.text)
                    assert ours.json() == theirs.json(), (fast, name)
