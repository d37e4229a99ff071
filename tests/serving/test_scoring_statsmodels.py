"""statsmodels results in the scoring server: the fast path (results fitted on numeric columns)
answers exactly what the general path and MLflow's scoring app answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from fastapi.testclient import TestClient
from sklearn.datasets import load_diabetes

import mlflowx.pyfunc
import mlflowx.statsmodels
from mlflowx.serving.scoring import create_scoring_app
from mlflowx.serving.scoring.fastpath_statsmodels import statsmodels_fast_path
from tests.serving._scoring import MLFLOW_WARNINGS, bodies, same_answer_on_both_paths

pytestmark = MLFLOW_WARNINGS


def _data() -> tuple[pd.DataFrame, Any]:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    return X, y


def _ols(X: pd.DataFrame, y: Any) -> Any:
    return sm.OLS(y, sm.add_constant(X)).fit()


def _glm(X: pd.DataFrame, y: Any) -> Any:
    return sm.GLM(y, sm.add_constant(X), family=sm.families.Gaussian()).fit()


def _load(path: Path) -> mlflowx.pyfunc.PyFuncModel:
    return mlflowx.pyfunc.load_model(path, allow_pickle=True)


@pytest.mark.parametrize("fit", [_ols, _glm])
def test_fast_path_answers_what_the_general_path_answers(
    fit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = _data()
    X = sm.add_constant(X)
    results = fit(X.drop(columns="const"), y)
    mlflowx.statsmodels.save_model(results, tmp_path / "m", input_example=X[:2])
    batches = {"one": X[:1], "batch": X[:200]}
    sent = same_answer_on_both_paths(lambda: _load(tmp_path / "m"), batches, monkeypatch)
    for size, frame in batches.items():
        predictions = [row["0"] for row in json.loads(sent[size])["predictions"]]
        np.testing.assert_array_equal(np.asarray(predictions), results.predict(frame).to_numpy())


def test_no_fast_path_for_formulas_time_series_or_other_names(tmp_path: Path) -> None:
    X, y = _data()
    frame = X.assign(target=y)
    formula = smf.ols("target ~ bmi + bp", data=frame).fit()
    mlflowx.statsmodels.save_model(formula, tmp_path / "f", input_example=X[["bmi", "bp"]][:2])
    assert statsmodels_fast_path(_load(tmp_path / "f")) is None
    # Fitted without the constant the request would carry: names differ, general path.
    plain = sm.OLS(y, X).fit()
    mlflowx.statsmodels.save_model(plain, tmp_path / "p", input_example=X[:2])
    assert statsmodels_fast_path(_load(tmp_path / "p")) is not None
    mlflowx.statsmodels.save_model(
        plain, tmp_path / "q", input_example=X[list(reversed(X.columns))][:2]
    )
    assert statsmodels_fast_path(_load(tmp_path / "q")) is None
    series = sm.tsa.AutoReg(y.to_numpy(), lags=2).fit()
    mlflowx.statsmodels.save_model(
        series, tmp_path / "t", input_example=pd.DataFrame({"start": [0.0], "end": [3.0]})
    )
    assert statsmodels_fast_path(_load(tmp_path / "t")) is None


def test_same_answers_as_mlflow_scoring_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow.pyfunc
    from mlflow.pyfunc import scoring_server

    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    X, y = _data()
    mlflowx.statsmodels.save_model(sm.OLS(y, X).fit(), tmp_path / "m", input_example=X[:2])
    theirs_app = scoring_server.init(mlflow.pyfunc.load_model(str(tmp_path / "m")))
    with TestClient(theirs_app) as mlflow_client:
        for fast in ("1", "0"):
            monkeypatch.setenv("MLFLOWX_SCORING_FAST_PATH", fast)
            with TestClient(create_scoring_app(_load(tmp_path / "m"))) as client:
                for name, (content_type, body) in bodies(X[:40]).items():
                    headers = {"Content-Type": content_type}
                    theirs = mlflow_client.post("/invocations", content=body, headers=headers)
                    ours = client.post("/invocations", content=body, headers=headers)
                    assert ours.status_code == theirs.status_code == 200, (name, theirs.text)
                    assert ours.json() == theirs.json(), (fast, name)
