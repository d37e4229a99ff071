"""sklearn autologging: one run per outermost fit, MLflow's keys, nothing broken by logging."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import mlflowx
import mlflowx.sklearn
from mlflowx.entities import Run
from mlflowx.exceptions import InvalidParameter

# `mlflowx.sklearn.autolog` is the function once wired; the module is reached by its full name.
autolog_module = importlib.import_module("mlflowx.sklearn.autolog")
patch_module = importlib.import_module("mlflowx.sklearn._autolog_patch")
autolog = autolog_module.autolog

# MLflow (only in the comparison test) warns about its own deprecations and file store.
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::FutureWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:mlflow.*"),
    # scikit-learn 1.9 renamed log_loss's y_pred, which MLflow 3.17 still passes by keyword; as
    # an error it would make MLflow skip training_log_loss in the comparison.
    pytest.mark.filterwarnings("ignore:`y_pred` was renamed to `y_proba`:FutureWarning"),
]

CLASSIFIER_METRICS = {
    "training_score",
    "training_accuracy_score",
    "training_precision_score",
    "training_recall_score",
    "training_f1_score",
    "training_log_loss",
    "training_roc_auc",
}
REGRESSOR_METRICS = {
    "training_score",
    "training_mean_squared_error",
    "training_root_mean_squared_error",
    "training_mean_absolute_error",
    "training_r2_score",
}


Iris = tuple[pd.DataFrame, pd.Series]


@pytest.fixture(autouse=True)
def _autolog_off() -> Iterator[None]:
    yield
    autolog(disable=True)
    assert not patch_module.is_installed()


@pytest.fixture(scope="module")
def iris() -> Iris:
    X, y = load_iris(return_X_y=True, as_frame=True)
    # Scaled, so lbfgs converges quickly (and without a ConvergenceWarning).
    return (X - X.mean()) / X.std(), y


def _annotated(X: Any, note: str = "") -> Any:
    return X


def _runs() -> list[Run]:
    return list(mlflowx.MlflowxClient().search_runs(["0"]))


def _inputs(run: Any) -> list[Any]:
    assert run.inputs is not None
    return list(run.inputs.dataset_inputs)


def _only_run() -> Run:
    runs = _runs()
    assert len(runs) == 1
    return runs[0]


def test_classifier_fit_logs_one_run(iris: Iris) -> None:
    X, y = iris
    autolog()
    model = LogisticRegression(max_iter=200)
    assert model.fit(X, y) is model
    run = _only_run()
    assert run.info.status == "FINISHED"
    assert set(run.data.params) == set(model.get_params(deep=True))
    assert run.data.params["max_iter"] == "200"
    assert set(run.data.metrics) == CLASSIFIER_METRICS
    assert run.data.metrics["training_accuracy_score"] > 0.9
    assert run.data.tags["estimator_name"] == "LogisticRegression"
    assert run.data.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert run.data.tags["mlflow.autologging"] == "sklearn"
    (train,) = _inputs(run)
    assert {(t.key, t.value) for t in train.tags} == {("mlflow.data.context", "train")}
    assert train.dataset.source_type == "code"
    client = mlflowx.MlflowxClient()
    assert {a.path for a in client.list_artifacts(run.info.run_id)} == {"estimator.html"}
    (logged,) = client.search_logged_models(["0"])
    assert (logged.name, logged.source_run_id) == ("model", run.info.run_id)
    assert logged.params["C"] == "1.0"
    loaded = mlflowx.sklearn.load_model(logged.model_uri)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    local = Path(client.download_logged_model(logged.model_id))
    mlmodel = (local / "MLmodel").read_text()
    assert "signature:" in mlmodel
    assert "saved_input_example_info" not in mlmodel  # log_input_examples defaults to False


def test_regressor_on_numpy_with_input_example() -> None:
    X, y = load_diabetes(return_X_y=True)
    autolog(log_input_examples=True, extra_tags={"team": "ml"})
    LinearRegression().fit(X, y)
    run = _only_run()
    assert set(run.data.metrics) == REGRESSOR_METRICS
    mse = run.data.metrics["training_mean_squared_error"]
    assert run.data.metrics["training_root_mean_squared_error"] == pytest.approx(np.sqrt(mse))
    assert run.data.tags["team"] == "ml"
    (train,) = _inputs(run)
    assert "mlflow_tensorspec" in (train.dataset.schema or "")
    (logged,) = mlflowx.MlflowxClient().search_logged_models(["0"])
    local = Path(mlflowx.MlflowxClient().download_logged_model(logged.model_id))
    assert (local / "input_example.json").is_file()


def test_pipeline_is_one_run_with_nested_params(iris: Iris) -> None:
    X, y = iris
    autolog(log_models=False)
    long = "x" * 7000  # over MLflow's 6000-character param limit
    pipe = make_pipeline(
        FunctionTransformer(_annotated, kw_args={"note": long}),
        StandardScaler(),
        LogisticRegression(),
    )
    pipe.fit(X, y)
    run = _only_run()  # the steps' fits start no runs of their own
    params = run.data.params
    assert set(params) == set(pipe.get_params(deep=True))
    assert {"steps", "logisticregression__C", "standardscaler__with_mean"} <= set(params)
    assert len(params["functiontransformer__kw_args"]) == 6000
    assert run.data.tags["estimator_name"] == "Pipeline"
    assert set(run.data.metrics) == CLASSIFIER_METRICS


def test_grid_search_parent_and_best_child_runs(iris: Iris) -> None:
    X, y = iris
    autolog(max_tuning_runs=2)
    search = GridSearchCV(LogisticRegression(), {"C": [0.01, 0.1, 1.0]}, cv=3)
    search.fit(X, y)
    runs = _runs()
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(runs) == 3
    assert len(children) == 2
    assert parent.data.params["best_C"] == str(search.best_params_["C"])
    assert parent.data.params["estimator"] == "LogisticRegression()"
    assert parent.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    assert set(parent.data.metrics) > CLASSIFIER_METRICS
    client = mlflowx.MlflowxClient()
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert artifacts == {"cv_results.csv", "estimator.html"}
    models = {m.name for m in client.search_logged_models(["0"])}
    assert models == {"model", "best_estimator"}

    ranks = sorted(c.data.metrics["rank_test_score"] for c in children)
    assert ranks == [1.0, 2.0]  # the best two candidates
    best = next(c for c in children if c.data.metrics["rank_test_score"] == 1)
    assert best.data.params["C"] == str(search.best_params_["C"])
    assert set(best.data.params) == set(LogisticRegression().get_params())
    assert {"mean_test_score", "std_test_score", "mean_fit_time"} <= set(best.data.metrics)
    assert not any(k.startswith("split") for k in best.data.metrics)
    assert best.data.tags["estimator_name"] == "LogisticRegression"
    assert best.info.status == "FINISHED"
    assert best.info.start_time == parent.info.start_time


def test_multi_metric_and_unrefitted_searches(iris: Iris) -> None:
    X, y = iris
    autolog(log_models=False, max_tuning_runs=1)
    grid = {"C": [0.1, 1.0]}
    scoring = ["accuracy", "f1_macro"]
    GridSearchCV(LogisticRegression(), grid, cv=2, scoring=scoring, refit="accuracy").fit(X, y)
    (parent,) = [r for r in _runs() if "mlflow.parentRunId" not in r.data.tags]
    assert "best_C" in parent.data.params
    (child,) = [r for r in _runs() if "mlflow.parentRunId" in r.data.tags]
    assert child.data.metrics["rank_test_accuracy"] == 1
    assert {"mean_test_f1_macro", "mean_test_accuracy"} <= set(child.data.metrics)

    # refit=False: the best candidate is known, but nothing can predict (and nothing warns)
    with mlflowx.start_run() as run:
        GridSearchCV(LogisticRegression(), grid, cv=2, refit=False).fit(X, y)
    logged = mlflowx.get_run(run.info.run_id)
    assert "best_C" in logged.data.params
    assert set(logged.data.metrics) == {"best_cv_score"}


def test_threaded_search_workers_start_no_runs(iris: Iris) -> None:
    X, y = iris
    autolog(log_models=False, max_tuning_runs=None)
    search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2, n_jobs=2)
    with joblib.parallel_config(backend="threading"):
        search.fit(X, y)
    assert len(_runs()) == 3  # the parent and one child per candidate, nothing per worker fit


def test_fit_inside_active_run_uses_it(iris: Iris) -> None:
    X, y = iris
    autolog(log_models=False, extra_tags={"ignored": "for user runs"})
    with mlflowx.start_run() as run:
        LogisticRegression().fit(X, y)
        assert mlflowx.active_run() is not None
        assert mlflowx.active_run().info.run_id == run.info.run_id  # type: ignore[union-attr]
    logged = _only_run()
    assert logged.info.run_id == run.info.run_id
    assert logged.data.params["C"] == "1.0"
    assert "mlflow.autologging" not in logged.data.tags
    assert "ignored" not in logged.data.tags


def test_exclusive_leaves_user_runs_alone(iris: Iris) -> None:
    X, y = iris
    autolog(exclusive=True)
    with mlflowx.start_run():
        LogisticRegression().fit(X, y)
    run = _only_run()
    assert run.data.params == {}
    assert run.data.metrics == {}


def test_disable_restores_the_original_methods() -> None:
    classes = [*patch_module.estimator_classes(), LogisticRegression, Pipeline]
    from sklearn.utils import parallel

    targets = [*classes, parallel.Parallel, parallel._FuncWrapper]
    names = (*patch_module.FIT_METHODS, "__call__")

    def snapshot() -> dict[tuple[type, str], Any]:
        return {(c, n): c.__dict__.get(n, "<absent>") for c in targets for n in names}

    before = snapshot()
    original_fit = LogisticRegression.fit
    autolog()
    patched = snapshot()
    assert LogisticRegression.fit is not original_fit
    assert Pipeline.__dict__["fit_predict"] is not before[(Pipeline, "fit_predict")]
    assert not hasattr(make_pipeline(StandardScaler()), "fit_predict")  # available_if kept
    autolog(log_models=False)  # idempotent: the patches stay, only the settings change
    assert snapshot() == patched
    autolog(disable=True)
    after = snapshot()
    assert after == before
    assert all(after[k] is before[k] for k in before)
    assert LogisticRegression.fit is original_fit


def test_logging_failure_warns_and_fit_still_works(
    iris: Iris, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = iris

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("artifact store down")

    monkeypatch.setattr(mlflowx.sklearn, "log_model", broken)
    autolog()
    model = LogisticRegression()
    with pytest.warns(UserWarning, match="mlflowx autolog: logging the model failed.*store down"):
        assert model.fit(X, y) is model
    assert model.predict(X).shape == (len(X),)
    run = _only_run()
    assert run.info.status == "FINISHED"
    assert set(run.data.metrics) == CLASSIFIER_METRICS  # the other steps still ran


def test_silent_hides_the_warnings(iris: Iris, monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = iris

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("artifact store down")

    monkeypatch.setattr(mlflowx.sklearn, "log_model", broken)
    autolog(silent=True)
    LogisticRegression().fit(X, y)  # filterwarnings=error: any warning would fail here


def test_fit_error_propagates_and_fails_the_run(iris: Iris) -> None:
    X, y = iris
    autolog(log_models=False)
    bad = X.copy()
    bad.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LogisticRegression().fit(bad, y)
    run = _only_run()
    assert run.info.status == "FAILED"
    assert run.data.params["C"] == "1.0"  # logged before training
    assert mlflowx.active_run() is None


def test_invalid_settings_are_rejected() -> None:
    with pytest.raises(InvalidParameter, match="max_tuning_runs"):
        autolog(max_tuning_runs=-1)
    with pytest.raises(InvalidParameter, match="serialization_format"):
        autolog(serialization_format="json")
    assert not patch_module.is_installed()


def test_same_keys_as_mlflow(iris: Iris, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Params, metrics and tags of one fit match mlflow.sklearn.autolog's. Differences, on
    purpose: MLflow also draws training_confusion_matrix.png (we log only estimator.html), and
    mlflowx links no metric to a model id."""
    import mlflow
    import mlflow.sklearn

    X, y = iris
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # 3.17 refuses file stores otherwise
    # mlflowx reads MLFLOW_TRACKING_URI too: pin ours so the two stores stay apart.
    mlflowx.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflowx.db'}")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.setattr("mlflow.tracking._tracking_service.utils._tracking_uri", None)
    monkeypatch.setattr("mlflow.tracking.fluent._active_experiment_id", None)

    mlflow.sklearn.autolog(log_models=False, silent=True)
    try:
        LogisticRegression().fit(X, y)
    finally:
        mlflow.sklearn.autolog(disable=True)
    theirs = mlflow.last_active_run()
    assert theirs is not None

    autolog(log_models=False)
    LogisticRegression().fit(X, y)
    ours = _only_run()

    assert set(ours.data.params) == set(theirs.data.params)
    assert ours.data.params == theirs.data.params
    assert set(ours.data.metrics) == set(theirs.data.metrics)
    for key, value in theirs.data.metrics.items():
        assert ours.data.metrics[key] == pytest.approx(value), key
    core_tags = {k for k in theirs.data.tags if not k.startswith("mlflow.")} | {
        "mlflow.autologging",
        "mlflow.user",
        "mlflow.source.name",
        "mlflow.source.type",
        "mlflow.runName",
    }
    assert core_tags <= set(ours.data.tags)
    assert {k: ours.data.tags[k] for k in ("estimator_name", "estimator_class")} == {
        k: theirs.data.tags[k] for k in ("estimator_name", "estimator_class")
    }
    (their_input,) = _inputs(theirs)
    (our_input,) = _inputs(ours)
    assert our_input.dataset.name == their_input.dataset.name
    assert our_input.dataset.source_type == their_input.dataset.source_type
    assert {(t.key, t.value) for t in our_input.tags} == {
        (t.key, t.value) for t in their_input.tags
    }


def test_top_level_autolog_covers_sklearn(iris: Iris) -> None:
    X, y = iris
    mlflowx.autolog(log_models=False, extra_tags={"via": "top-level"})
    assert mlflowx.sklearn.autolog is autolog
    LogisticRegression().fit(X, y)
    assert _only_run().data.tags["via"] == "top-level"
    mlflowx.autolog(disable=True)
    assert not patch_module.is_installed()
    mlflowx.autolog(exclude_flavors=["sklearn"])
    assert not patch_module.is_installed()
    mlflowx.autolog(disable=True)  # the other libraries' autologs, enabled just above
