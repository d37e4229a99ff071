"""scikit-learn's own types load without an opt-in; foreign types and functions still need one."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    IsolationForest,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import mlflowx
import mlflowx.pyfunc
import mlflowx.sklearn
from mlflowx.exceptions import InvalidParameter
from mlflowx.models.skops_trust import is_sklearn_class, untrusted

_RNG = np.random.default_rng(0)
_X = pd.DataFrame(_RNG.normal(size=(80, 4)), columns=["a", "b", "c", "d"])
_Y = (_X["a"] > 0).astype(int)
_YR = _X["b"] * 2.0

ESTIMATORS = [
    RandomForestClassifier(n_estimators=3, random_state=0),
    RandomForestRegressor(n_estimators=3, random_state=0),
    ExtraTreesClassifier(n_estimators=3, random_state=0),
    ExtraTreesRegressor(n_estimators=3, random_state=0),
    GradientBoostingClassifier(n_estimators=3, random_state=0),
    GradientBoostingRegressor(n_estimators=3, random_state=0),
    HistGradientBoostingClassifier(max_iter=3),
    HistGradientBoostingRegressor(max_iter=3),
    DecisionTreeClassifier(random_state=0),
    DecisionTreeRegressor(random_state=0),
    KNeighborsClassifier(),
    KNeighborsRegressor(),
    SVC(),
    IsolationForest(n_estimators=3, random_state=0),
    KMeans(n_clusters=2, n_init=1, random_state=0),
    MLPClassifier(max_iter=5, random_state=0),
    MLPRegressor(max_iter=5, random_state=0),
    make_pipeline(StandardScaler(), LogisticRegression()),
]


def _fit(estimator: object) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of the tiny fits
        regress = "Regress" in type(estimator).__name__
        return estimator.fit(_X, _YR if regress else _Y)  # type: ignore[attr-defined]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_sklearn_estimators_log_and_load_without_opt_in(estimator: object) -> None:
    model = _fit(estimator)
    with mlflowx.start_run():
        info = mlflowx.sklearn.log_model(model, name="m")
    expected = model.predict(_X)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(mlflowx.sklearn.load_model(info.model_uri).predict(_X), expected)
    np.testing.assert_array_equal(mlflowx.pyfunc.load_model(info.model_uri).predict(_X), expected)


def test_column_transformer_pipeline_logs_and_loads_without_opt_in() -> None:
    frame = pd.DataFrame({"a": _X["a"], "c": np.where(_X["b"] > 0, "x", "y")})
    pipe = Pipeline(
        [
            (
                "ct",
                ColumnTransformer(
                    [
                        ("num", StandardScaler(), ["a"]),
                        ("cat", OneHotEncoder(handle_unknown="ignore"), ["c"]),
                    ]
                ),
            ),
            ("gb", GradientBoostingClassifier(n_estimators=3, random_state=0)),
        ]
    ).fit(frame, _Y)
    with mlflowx.start_run():
        info = mlflowx.sklearn.log_model(pipe, name="m")
    loaded = mlflowx.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(loaded.predict(frame), pipe.predict(frame))


class Doubler(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """A class of the user's own: never trusted by default."""

    def fit(self, X: object, y: object = None) -> Doubler:
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return X * 2


def test_foreign_class_in_a_pipeline_still_needs_trusted_types(tmp_path: Path) -> None:
    pipe = make_pipeline(Doubler(), RandomForestClassifier(n_estimators=3, random_state=0))
    pipe.fit(_X, _Y)
    name = f"{__name__}.Doubler"
    with pytest.raises(InvalidParameter, match=r"outside skops' trusted set: .*Doubler"):
        mlflowx.sklearn.save_model(pipe, tmp_path / "m")
    mlflowx.sklearn.save_model(pipe, tmp_path / "m2", skops_trusted_types=[name])
    with pytest.raises(InvalidParameter, match=r"trusted set: tests\.models\.test_sklearn_trust"):
        mlflowx.pyfunc.load_model(tmp_path / "m2")
    loaded = mlflowx.pyfunc.load_model(tmp_path / "m2", trusted_types=[name])
    np.testing.assert_array_equal(loaded.predict(_X), pipe.predict(_X))


@pytest.mark.parametrize(
    "name",
    [
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.neighbors._kd_tree.KDTree",
        "sklearn.metrics._dist_metrics.EuclideanDistance64",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    ],
)
def test_sklearn_classes_are_trusted(name: str) -> None:
    assert is_sklearn_class(name)


@pytest.mark.parametrize(
    "name",
    [
        "builtins.eval",  # a callable: skops calls functions it loads
        "numpy.log1p",
        "sklearn.metrics.accuracy_score",  # a scikit-learn function, not a class
        "sklearn.utils._param_validation.Integral",  # imported by sklearn, defined in numbers
        "sklearn.no_such_module.Tree",
        "sklearn.tree._tree.NoSuchClass",
        "sklearnx.Tree",
        "os.system",
    ],
)
def test_functions_and_foreign_names_are_not_trusted(name: str) -> None:
    assert not is_sklearn_class(name)
    assert untrusted([name, "sklearn.tree._tree.Tree"]) == [name]
    assert untrusted([name], trusted=[name]) == []


def test_tree_ensemble_predicts_from_the_cli_and_evaluates_without_opt_in(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mlflowx.cli import app
    from mlflowx.models.evaluation import evaluate

    model = _fit(RandomForestClassifier(n_estimators=3, random_state=0))
    mlflowx.sklearn.save_model(model, tmp_path / "m")
    source = tmp_path / "rows.csv"
    _X.to_csv(source, index=False)
    out = tmp_path / "out.csv"
    args = ["models", "predict", "-m", str(tmp_path / "m"), "-i", str(source), "-o", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    expected = model.predict(_X).tolist()  # type: ignore[attr-defined]
    assert pd.read_csv(out)["predictions"].tolist() == expected
    with mlflowx.start_run():
        info = mlflowx.sklearn.log_model(model, name="m")
        scores = evaluate(info.model_uri, _X.assign(y=_Y), targets="y", model_type="classifier")
    assert scores.metrics["accuracy_score"] == pytest.approx((model.predict(_X) == _Y).mean())  # type: ignore[attr-defined]
