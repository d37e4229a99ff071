"""The statsmodels flavor: pickled results objects, so loading needs allow_pickle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.tsa.arima.model import ARIMA

import mlflowx.pyfunc
import mlflowx.statsmodels
from mlflowx.exceptions import InvalidParameter, UntrustedModel


@pytest.fixture(scope="module")
def ols() -> tuple[pd.DataFrame, object]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.random((40, 3)), columns=["a", "b", "c"])
    y = X @ [1.0, 2.0, 3.0] + rng.normal(0, 0.1, 40)
    return X, sm.OLS(y, sm.add_constant(X)).fit()


def test_round_trip_needs_allow_pickle(ols: tuple, tmp_path: Path) -> None:
    X, results = ols
    Xc = sm.add_constant(X)
    info = mlflowx.statsmodels.save_model(results, tmp_path / "m", input_example=Xc.head(3))
    assert info.flavors["statsmodels"]["data"] == "model.statsmodels"
    assert info.signature is not None
    with pytest.raises(UntrustedModel, match=r"is a statsmodels results object.*allow_pickle=True"):
        mlflowx.pyfunc.load_model(tmp_path / "m")
    with pytest.raises(UntrustedModel, match="MLFLOWX_ALLOW_PICKLE_DESERIALIZATION=true"):
        mlflowx.statsmodels.load_model(tmp_path / "m")
    model = mlflowx.pyfunc.load_model(tmp_path / "m", allow_pickle=True)
    np.testing.assert_allclose(model.predict(Xc), results.predict(Xc))
    native = mlflowx.statsmodels.load_model(tmp_path / "m", allow_pickle=True)
    np.testing.assert_allclose(native.params, results.params)


def test_remove_data_makes_a_smaller_file(ols: tuple, tmp_path: Path) -> None:
    _, results = ols
    mlflowx.statsmodels.save_model(results, tmp_path / "full")
    mlflowx.statsmodels.save_model(results, tmp_path / "lean", remove_data=True)
    full = (tmp_path / "full" / "model.statsmodels").stat().st_size
    assert (tmp_path / "lean" / "model.statsmodels").stat().st_size < full


def test_time_series_predicts_from_start_and_end(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    values = np.zeros(60)
    for t in range(1, 60):  # a stationary AR(1) process
        values[t] = 0.5 * values[t - 1] + rng.normal()
    series = pd.Series(values)
    results = ARIMA(series, order=(2, 0, 0)).fit()
    mlflowx.statsmodels.save_model(results, tmp_path / "m")
    model = mlflowx.pyfunc.load_model(tmp_path / "m", allow_pickle=True)
    out = model.predict(pd.DataFrame({"start": [60], "end": [64]}))
    np.testing.assert_allclose(out, results.predict(start=60, end=64))
    with pytest.raises(InvalidParameter, match="one row with columns 'start' and 'end'"):
        model.predict(pd.DataFrame({"start": [1, 2], "end": [3, 4]}))


def test_unfitted_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match="must be a fitted results object"):
        mlflowx.statsmodels.save_model(sm.OLS([1.0, 2.0], [1.0, 2.0]), tmp_path / "m")
