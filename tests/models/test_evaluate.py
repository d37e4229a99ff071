"""mlflowx.models.evaluate: MLflow's metric and artifact names, logging to the run, model
validation, bad input, and the same numbers as the real ``mlflow.models.evaluate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlflowx
import mlflowx.pyfunc
import mlflowx.sklearn
from mlflowx.exceptions import InvalidParameter
from mlflowx.models.evaluation import (
    EvaluationResult,
    MetricThreshold,
    ModelValidationFailedError,
    evaluate,
    validate_evaluation_results,
)

# MLflow's own evaluate warns (deprecated file store, pip/env probing, type hints); not ours.
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::FutureWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:mlflow.*"),
]

CLASSIFIER_METRICS = {
    "accuracy_score",
    "precision_score",
    "recall_score",
    "f1_score",
    "roc_auc",
    "log_loss",
    "example_count",
}
REGRESSOR_METRICS = {
    "mean_absolute_error",
    "mean_squared_error",
    "root_mean_squared_error",
    "r2_score",
    "max_error",
    "mean_absolute_percentage_error",
    "example_count",
}
CLASSIFIER_PLOTS = {"confusion_matrix", "roc_curve_plot", "precision_recall_curve_plot"}


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, Any]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X.assign(species=y), LogisticRegression(max_iter=500).fit(X, y)


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, np.ndarray, Any]:
    X, y = load_breast_cancer(return_X_y=True)
    return X, y, make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)


@pytest.fixture(scope="module")
def diabetes() -> tuple[pd.DataFrame, Any]:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    return X.assign(progression=y), LinearRegression().fit(X, y)


def _local(uri: str) -> Path:
    return Path(uri.removeprefix("file://"))


def _table(result: EvaluationResult) -> dict[str, Any]:
    return json.loads(_local(result.artifacts["eval_results_table"]).read_text())


def _assert_pngs(result: EvaluationResult, names: set[str]) -> None:
    for name in names:
        path = _local(result.artifacts[name])
        assert path.name == f"{name}.png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


# ------------------------------------------------------------------------------ classifiers
def test_multiclass_classifier_logs_metrics_plots_and_table(iris: tuple) -> None:
    df, model = iris
    X, y = df.drop(columns="species"), df["species"]
    result = evaluate(model, df, targets="species", model_type="classifier")

    assert CLASSIFIER_METRICS | {"score"} == set(result.metrics)
    assert result.metrics["example_count"] == 150
    y_pred = model.predict(X)
    assert result.metrics["accuracy_score"] == pytest.approx(sk.accuracy_score(y, y_pred))
    weighted_f1 = sk.f1_score(y, y_pred, average="weighted")
    assert result.metrics["f1_score"] == pytest.approx(weighted_f1)
    roc_auc = sk.roc_auc_score(y, model.predict_proba(X), multi_class="ovr", average="weighted")
    assert result.metrics["roc_auc"] == pytest.approx(roc_auc)
    assert set(result.artifacts) == CLASSIFIER_PLOTS | {"eval_results_table"}
    _assert_pngs(result, CLASSIFIER_PLOTS)

    # A run was started for the evaluation, got the metrics, and was ended.
    assert mlflowx.active_run() is None
    run = mlflowx.get_run(str(result.run_id))
    assert run.info.status == "FINISHED"
    assert run.data.metrics["accuracy_score"] == pytest.approx(result.metrics["accuracy_score"])
    assert json.loads(run.data.tags["mlflow.loggedArtifacts"]) == [
        {"path": "eval_results_table.json", "type": "table"}
    ]
    assert len(run.inputs.dataset_inputs) == 1

    table = _table(result)
    assert table["columns"] == [*X.columns, "species", "outputs"]
    assert len(table["data"]) == 150
    assert [row[-1] for row in table["data"]] == y_pred.tolist()


def test_binary_classifier_from_a_model_uri(cancer: tuple, tmp_path: Path) -> None:
    X, y, model = cancer
    mlflowx.sklearn.save_model(model, tmp_path / "model")
    result = evaluate(str(tmp_path / "model"), X, targets=y, model_type="classifier")

    # predict_proba comes from the estimator inside the PyFuncModel.
    binary_extras = {"true_negatives", "false_positives", "false_negatives", "true_positives"}
    assert CLASSIFIER_METRICS | binary_extras <= set(result.metrics)
    y_pred = model.predict(X)
    assert result.metrics["precision_score"] == pytest.approx(sk.precision_score(y, y_pred))
    assert result.metrics["roc_auc"] == pytest.approx(
        sk.roc_auc_score(y, model.predict_proba(X)[:, 1])
    )
    assert result.metrics["true_positives"] == int(((y == 1) & (y_pred == 1)).sum())
    _assert_pngs(result, CLASSIFIER_PLOTS)
    table = _table(result)
    assert table["columns"][:2] == ["feature_1", "feature_2"]
    assert table["columns"][-2:] == ["target", "outputs"]

    # The loaded PyFuncModel gives the same numbers.
    loaded = mlflowx.pyfunc.load_model(tmp_path / "model")
    again = evaluate(loaded, X, targets=y, model_type="classifier")
    assert again.metrics == pytest.approx(result.metrics)


def test_pos_label_label_list_and_metric_prefix(cancer: tuple) -> None:
    X, y, model = cancer
    config = {"pos_label": 0, "metric_prefix": "val_"}
    result = evaluate(model, X, targets=y, model_type="classifier", evaluator_config=config)
    y_pred = model.predict(X)
    assert result.metrics["val_recall_score"] == pytest.approx(
        sk.recall_score(y, y_pred, pos_label=0)
    )
    assert result.metrics["val_roc_auc"] == pytest.approx(
        sk.roc_auc_score(y == 0, model.predict_proba(X)[:, 0])
    )
    assert _local(result.artifacts["confusion_matrix"]).name == "val_confusion_matrix.png"
    assert _local(result.artifacts["eval_results_table"]).name == "val_eval_results_table.json"
    assert "val_accuracy_score" in mlflowx.get_run(str(result.run_id)).data.metrics

    # label_list names every class: a third, unseen one makes the evaluation multiclass.
    three = evaluate(
        None,
        X,
        targets=y,
        predictions=y_pred,
        model_type="classifier",
        evaluator_config={"label_list": [0, 1, 2]},
    )
    assert "true_negatives" not in three.metrics
    assert three.metrics["accuracy_score"] == pytest.approx(sk.accuracy_score(y, y_pred))

    with pytest.raises(InvalidParameter, match="at least two labels"):
        evaluate(lambda d: np.zeros(len(d)), X, targets=np.zeros(len(X)), model_type="classifier")
    with pytest.raises(InvalidParameter, match="pos_label 7 is not a label"):
        evaluate(model, X, targets=y, model_type="classifier", evaluator_config={"pos_label": 7})


def test_callable_without_probabilities_and_string_labels(iris: tuple) -> None:
    df, model = iris
    names = np.array(["setosa", "versicolor", "virginica"])
    labelled = df.assign(species=names[df["species"]])

    def predict(features: pd.DataFrame) -> np.ndarray:
        return names[model.predict(features)]

    result = evaluate(predict, labelled, targets="species", model_type="classifier")
    assert "roc_auc" not in result.metrics
    assert "log_loss" not in result.metrics
    assert set(result.artifacts) == {"confusion_matrix", "eval_results_table"}
    assert result.metrics["accuracy_score"] == pytest.approx(
        sk.accuracy_score(df["species"], model.predict(df.drop(columns="species")))
    )


def test_static_predictions_and_feature_names(iris: tuple) -> None:
    df, _ = iris
    features = ["sepal length (cm)", "petal width (cm)"]
    small = LogisticRegression(max_iter=500).fit(df[features], df["species"])
    scored = df.assign(pred=small.predict(df[features]))
    result = evaluate(None, scored, targets="species", predictions="pred", model_type="classifier")
    assert result.metrics["accuracy_score"] == pytest.approx(
        sk.accuracy_score(df["species"], scored["pred"])
    )
    assert _table(result)["columns"][-2:] == ["species", "pred"]

    with_names = evaluate(
        small, scored, targets="species", model_type="classifier", feature_names=features
    )
    assert with_names.metrics["accuracy_score"] == result.metrics["accuracy_score"]
    assert _table(with_names)["columns"] == [*features, "species", "outputs"]


def test_reuses_the_active_run(diabetes: tuple) -> None:
    df, model = diabetes
    with mlflowx.start_run() as run:
        result = evaluate(model, df, targets="progression", model_type="regressor")
        assert mlflowx.active_run() is not None
    assert result.run_id == run.info.run_id
    assert "r2_score" in mlflowx.get_run(run.info.run_id).data.metrics


# ------------------------------------------------------------------------------ regressors
def test_regressor_metrics_and_residuals_plot(diabetes: tuple) -> None:
    df, model = diabetes
    X, y = df.drop(columns="progression"), df["progression"]
    result = evaluate(model, df, targets="progression", model_type="regressor")
    y_pred = model.predict(X)
    assert set(result.metrics) >= REGRESSOR_METRICS
    assert result.metrics["mean_squared_error"] == pytest.approx(sk.mean_squared_error(y, y_pred))
    assert result.metrics["root_mean_squared_error"] == pytest.approx(
        np.sqrt(sk.mean_squared_error(y, y_pred))
    )
    assert result.metrics["r2_score"] == pytest.approx(sk.r2_score(y, y_pred))
    assert result.metrics["max_error"] == pytest.approx(sk.max_error(y, y_pred))
    assert result.metrics["score"] == pytest.approx(result.metrics["r2_score"])
    assert set(result.artifacts) == {"residuals_plot", "eval_results_table"}
    _assert_pngs(result, {"residuals_plot"})
    assert _table(result)["columns"][-2:] == ["progression", "outputs"]


# ------------------------------------------------------------------------------ validation
def test_thresholds_pass_and_report_baseline_metrics(cancer: tuple) -> None:
    X, y, model = cancer
    baseline = make_pipeline(StandardScaler(), LogisticRegression(C=0.001)).fit(X, y)
    thresholds = {
        "accuracy_score": MetricThreshold(
            threshold=0.9, min_absolute_change=0.01, greater_is_better=True
        ),
        "log_loss": MetricThreshold(min_relative_change=0.1, greater_is_better=False),
    }
    result = evaluate(
        model,
        X,
        targets=y,
        model_type="classifier",
        baseline_model=baseline,
        validation_thresholds=thresholds,
    )
    assert result.baseline_model_metrics is not None
    assert result.baseline_model_metrics["log_loss"] > result.metrics["log_loss"]
    # The baseline's metrics are returned, not logged.
    logged = mlflowx.get_run(str(result.run_id)).data.metrics
    assert logged["log_loss"] == pytest.approx(result.metrics["log_loss"])


def test_failed_thresholds_list_candidate_baseline_and_why(cancer: tuple) -> None:
    X, y, model = cancer
    thresholds = {
        "accuracy_score": MetricThreshold(threshold=0.999, greater_is_better=True),
        "f1_score": MetricThreshold(min_absolute_change=0.05, greater_is_better=True),
        "log_loss": MetricThreshold(min_relative_change=0.5, greater_is_better=False),
    }
    with pytest.raises(ModelValidationFailedError, match="failed for 3 threshold") as caught:
        evaluate(
            model,
            X,
            targets=y,
            model_type="classifier",
            baseline_model=model,
            validation_thresholds=thresholds,
        )
    accuracy = sk.accuracy_score(y, model.predict(X))
    message = str(caught.value)
    assert f"accuracy_score={accuracy:.4g} is below the threshold 0.999" in message
    assert f"(baseline: {accuracy:.4g})" in message
    assert "f1_score=" in message
    assert "improved on the baseline's" in message
    assert "by 0, less than min_absolute_change 0.05" in message
    assert "less than min_relative_change 0.5 (50.00%)" in message
    assert len(caught.value.failures) == 3
    assert isinstance(caught.value, InvalidParameter)
    # Metrics and plots were logged before validation failed.
    run = mlflowx.last_active_run()
    assert run is not None
    assert run.data.metrics["accuracy_score"] == pytest.approx(accuracy)


def test_lower_is_better_and_worse_than_baseline(diabetes: tuple) -> None:
    df, model = diabetes
    X, y = df.drop(columns="progression"), df["progression"]
    worse = LinearRegression().fit(X[["bmi"]], y)
    thresholds = {
        "mean_squared_error": MetricThreshold(
            threshold=1000.0, min_absolute_change=10, greater_is_better=False
        ),
    }
    with pytest.raises(ModelValidationFailedError, match=r"is above the threshold 1000\.0") as e:
        evaluate(
            lambda d: worse.predict(d[["bmi"]]),
            df,
            targets="progression",
            model_type="regressor",
            baseline_model=model,
            validation_thresholds=thresholds,
        )
    assert "is worse than the baseline's" in str(e.value)
    assert "less than min_absolute_change 10" in str(e.value)


def test_threshold_on_a_metric_not_computed(iris: tuple) -> None:
    df, model = iris
    with pytest.raises(ModelValidationFailedError, match="roc_auc was not computed"):
        evaluate(
            model.predict,  # a bare function: no predict_proba, so no roc_auc
            df,
            targets="species",
            model_type="classifier",
            validation_thresholds={
                "roc_auc": MetricThreshold(threshold=0.5, greater_is_better=True)
            },
        )


def test_comparison_thresholds_need_a_baseline(iris: tuple) -> None:
    df, model = iris
    rule = MetricThreshold(min_absolute_change=0.1, greater_is_better=True)
    with pytest.raises(InvalidParameter, match=r"accuracy_score .*pass baseline_model="):
        evaluate(
            model,
            df,
            targets="species",
            model_type="classifier",
            validation_thresholds={"accuracy_score": rule},
        )
    with pytest.raises(InvalidParameter, match="MetricThreshold objects"):
        evaluate(
            model,
            df,
            targets="species",
            model_type="classifier",
            validation_thresholds={"accuracy_score": 0.8},  # type: ignore[dict-item]
        )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"threshold": 0.5}, "greater_is_better"),
        ({"greater_is_better": True}, "no threshold was specified"),
        ({"threshold": "high", "greater_is_better": True}, "`threshold` must be a number"),
        ({"min_absolute_change": -1, "greater_is_better": True}, "positive number"),
        ({"min_relative_change": 2.0, "greater_is_better": True}, "between 0 and 1"),
        ({"min_relative_change": 1, "greater_is_better": True}, "between 0 and 1"),
    ],
)
def test_metric_threshold_rejects_bad_values(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidParameter, match=match):
        MetricThreshold(**kwargs)


def test_validate_evaluation_results() -> None:
    rule = {"r2_score": MetricThreshold(min_relative_change=0.1, greater_is_better=True)}
    validate_evaluation_results(
        rule, EvaluationResult({"r2_score": 0.6}), EvaluationResult({"r2_score": 0.5})
    )
    with pytest.raises(ModelValidationFailedError, match=r"improved on the baseline's 0.5 by 0.02"):
        validate_evaluation_results(
            rule, EvaluationResult({"r2_score": 0.52}), EvaluationResult({"r2_score": 0.5})
        )
    # Relative to a negative baseline, as MLflow: the change is measured against |baseline|.
    validate_evaluation_results(
        rule, EvaluationResult({"r2_score": -0.4}), EvaluationResult({"r2_score": -0.5})
    )
    with pytest.raises(ModelValidationFailedError, match="the baseline is 0"):
        validate_evaluation_results(
            rule, EvaluationResult({"r2_score": 0.0}), EvaluationResult({"r2_score": 0.0})
        )


# ------------------------------------------------------------------------------ bad input
def test_bad_input_is_invalid_parameter(iris: tuple, diabetes: tuple) -> None:
    df, model = iris
    X = df.drop(columns="species").to_numpy()
    with pytest.raises(InvalidParameter, match="valid model types: classifier, regressor"):
        evaluate(model, df, targets="species", model_type="question-answering")
    with pytest.raises(InvalidParameter, match=r"targets column 'label' is not in data"):
        evaluate(model, df, targets="label", model_type="classifier")
    with pytest.raises(InvalidParameter, match="targets has 10 rows but data has 150"):
        evaluate(model, X, targets=df["species"][:10].to_numpy(), model_type="classifier")
    with pytest.raises(InvalidParameter, match="numpy array without column names"):
        evaluate(model, X, targets="species", model_type="classifier")
    with pytest.raises(InvalidParameter, match="feature_names has 2 names but data has 4"):
        evaluate(model, X, targets=df["species"], model_type="classifier", feature_names=["a", "b"])
    with pytest.raises(InvalidParameter, match="model must be a model URI"):
        evaluate(42, df, targets="species", model_type="classifier")
    with pytest.raises(InvalidParameter, match="returned 3 predictions for 150 rows"):
        evaluate(lambda d: [0, 1, 2], df, targets="species", model_type="classifier")

    names = np.array(["setosa", "versicolor", "virginica"])
    text = df.assign(species=names[df["species"]])
    with pytest.raises(InvalidParameter, match=r"numeric targets, but 'species' holds object"):
        evaluate(lambda d: np.zeros(len(d)), text, targets="species", model_type="regressor")
    reg_df, _ = diabetes
    with pytest.raises(InvalidParameter, match="numeric predictions"):
        evaluate(
            lambda d: np.array(["x"] * len(d)),
            reg_df,
            targets="progression",
            model_type="regressor",
        )
    # Nothing was logged for rejected input.
    assert mlflowx.last_active_run() is None


# ------------------------------------------------------------------------------ vs MLflow
@pytest.fixture(scope="module")
def mlflow_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    # One MLflow database for the module: creating its schema is the slow part.
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def _mlflow_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mlflow_db: str) -> None:
    # MLflow 3.17 refuses to deserialize any sklearn model (skops included) without this.
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    # mlflowx reads MLFLOW_TRACKING_URI too: pin ours so the two stores stay apart.
    mlflowx.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflowx.db'}")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_db)


@pytest.mark.usefixtures("_mlflow_env")
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_same_metrics_as_mlflow(
    kind: str, cancer: tuple, diabetes: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow
    from mlflow.models.evaluation.default_evaluator import BuiltInEvaluator

    # MLflow draws five plots at 175 dpi with tight layout (most of its run time); record the
    # names it would log instead of drawing them.
    their_plots: list[str] = []
    monkeypatch.setattr(
        BuiltInEvaluator,
        "_log_image_artifact",
        lambda self, do_plot, name: their_plots.append(name),
    )
    if kind == "classifier":
        X, y, model = cancer
        data = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]).assign(label=y)
        model = make_pipeline(StandardScaler(), LogisticRegression()).fit(
            data.drop(columns="label"), y
        )
        target, expected = "label", CLASSIFIER_METRICS
    else:
        data, model = diabetes
        target, expected = "progression", REGRESSOR_METRICS
    path = tmp_path / "model"
    mlflowx.sklearn.save_model(model, path)

    ours = evaluate(str(path), data, targets=target, model_type=kind)
    theirs = mlflow.models.evaluate(
        str(path),
        data,
        targets=target,
        model_type=kind,
        evaluator_config={"log_model_explainability": False},
    )

    shared = set(ours.metrics) & set(theirs.metrics)
    assert shared >= expected
    assert {k: ours.metrics[k] for k in shared} == pytest.approx(
        {k: theirs.metrics[k] for k in shared}
    )
    # Our plots carry MLflow's artifact names (the residuals plot is ours alone).
    ours_plots = set(ours.artifacts) - {"eval_results_table", "residuals_plot"}
    assert ours_plots <= set(their_plots)
    assert ours_plots == (CLASSIFIER_PLOTS if kind == "classifier" else set())
