"""The quick-start demo: a small hyperparameter study on scikit-learn's wine data, tracked with
mlflowx through MLflow's own API names (``import mlflowx as mlflow``).

It runs on the embedded defaults (a SQLite file and a local artifact folder under $MLFLOWX_HOME)
and prints where everything went. Later pipelines (training, registry, serving on Prefect) grow
out of this file's shape.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.datasets import load_wine
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score, f1_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import mlflowx as mlflow

EPOCHS = 30


def train_one(alpha: float, loss: str, X_train, X_test, y_train, y_test) -> float:  # type: ignore[no-untyped-def]
    """One child run: SGD epochs with per-epoch metrics, final scores and a figure."""
    with mlflow.start_run(run_name=f"{loss}-alpha={alpha:g}", nested=True):
        mlflow.log_params({"alpha": alpha, "loss": loss, "epochs": EPOCHS})
        model = SGDClassifier(alpha=alpha, loss=loss, random_state=0)
        classes = sorted(set(y_train))
        for epoch in range(EPOCHS):
            model.partial_fit(X_train, y_train, classes=classes)
            metrics = {"train_accuracy": accuracy_score(y_train, model.predict(X_train))}
            if loss == "log_loss":
                metrics["train_log_loss"] = log_loss(y_train, model.predict_proba(X_train))
            mlflow.log_metrics(metrics, step=epoch)
        predictions = model.predict(X_test)
        accuracy = accuracy_score(y_test, predictions)
        mlflow.log_metrics(
            {"test_accuracy": accuracy, "test_f1": f1_score(y_test, predictions, average="macro")}
        )
        fig, ax = plt.subplots(figsize=(4, 4))
        ConfusionMatrixDisplay.from_predictions(y_test, predictions, ax=ax, colorbar=False)
        mlflow.log_figure(fig, "confusion_matrix.png")
        plt.close(fig)
        return float(accuracy)


def main() -> None:
    data = load_wine(as_frame=True)
    frame = data.frame
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.3, random_state=42, stratify=data.target
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    experiment = mlflow.set_experiment("wine-quickstart")
    with mlflow.start_run(run_name="sgd-study") as parent:
        mlflow.log_input(mlflow.data.from_pandas(frame, name="wine", targets="target"), "training")
        mlflow.set_tag("study", "sgd-alpha")
        results = {}
        for loss in ("hinge", "log_loss"):
            for alpha in (1e-4, 1e-3, 1e-2, 1e-1):
                results[(loss, alpha)] = train_one(alpha, loss, X_train, X_test, y_train, y_test)
        (best_loss, best_alpha), best = max(results.items(), key=lambda kv: kv[1])
        mlflow.log_metric("best_test_accuracy", best)
        mlflow.log_params({"best_loss": best_loss, "best_alpha": best_alpha})
        with tempfile.TemporaryDirectory() as tmp:
            summary = Path(tmp) / "summary.md"
            lines = [
                f"| {loss} | {alpha:g} | {acc:.3f} |" for (loss, alpha), acc in results.items()
            ]
            summary.write_text("| loss | alpha | accuracy |\n|---|---|---|\n" + "\n".join(lines))
            mlflow.log_artifact(summary)

    top = mlflow.search_runs(
        experiment_ids=[experiment.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}' "
        "AND metrics.test_accuracy > 0.8",
        order_by=["metrics.test_accuracy DESC", "params.alpha ASC"],
        max_results=3,
    )
    print(f"\nTracking URI : {mlflow.get_tracking_uri()}")
    print(f"Experiment   : {experiment.name} (id {experiment.experiment_id})")
    print(f"Study run    : {parent.info.run_id}  best accuracy {best:.3f}")
    print(f"Artifacts    : {parent.info.artifact_uri}\n")
    print("Top child runs (metrics.test_accuracy > 0.8, best first):")
    print(
        top[
            ["tags.mlflow.runName", "params.loss", "params.alpha", "metrics.test_accuracy"]
        ].to_string(index=False)
    )


if __name__ == "__main__":
    main()
