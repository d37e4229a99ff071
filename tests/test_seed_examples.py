"""The tracking examples of the project's seed document, with ``mlflow`` replaced by mlflowx."""

from __future__ import annotations

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import mlflowx as mlflow
from mlflowx import log_metric, log_param


def test_experiment_tracking_example() -> None:
    mlflow.start_run()
    log_param("learning_rate", 0.001)
    log_metric("accuracy", 0.95)
    mlflow.end_run()
    run = mlflow.last_active_run()
    assert run is not None
    assert run.data.params == {"learning_rate": "0.001"}
    assert run.data.metrics == {"accuracy": 0.95}
    assert run.info.status == "FINISHED"


def test_end_to_end_example_tracking_part() -> None:
    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    mlflow.start_run()
    model = LogisticRegression(max_iter=500)
    model.fit(X_train, y_train)
    mlflow.log_param("C", 1.0)
    mlflow.log_metric("accuracy", model.score(X_test, y_test))
    mlflow.end_run()
    run = mlflow.last_active_run()
    assert run is not None
    assert run.data.metrics["accuracy"] > 0.8
