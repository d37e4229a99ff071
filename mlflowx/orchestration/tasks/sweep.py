"""``trial``: one hyperparameter-sweep trial, safe to run in another process (a Dask worker).

Neither the active run nor an in-process tracking URI crosses a process boundary, so the trial
gets both explicitly and its run names its parent by id.
"""

from __future__ import annotations

from typing import Any

from prefect import task
from pydantic import BaseModel

import mlflowx
from mlflowx.orchestration._context import Tracking, activate
from mlflowx.orchestration.tasks.specs import DatasetSpec, EstimatorSpec
from mlflowx.orchestration.tasks.train import TrainResult, train_model

__all__ = ["TrialResult", "run_trial", "trial"]


class TrialResult(BaseModel):
    """One trial: its parameters, its run and model, and the held-out score."""

    params: dict[str, Any]
    trained: TrainResult
    score: float
    pid: int


def run_trial(
    dataset: DatasetSpec,
    estimator: EstimatorSpec,
    params: dict[str, Any],
    *,
    parent_run_id: str,
    tracking_uri: str,
    metric: str = "accuracy_score",
) -> TrialResult:
    """Train ``estimator`` with ``params`` merged into its parameters as a child run of
    ``parent_run_id``; score it on the held-out rows (logged as ``metric``)."""
    import os

    from mlflowx.orchestration.tasks.data import load_split

    spec = estimator.model_copy(update={"params": {**estimator.params, **params}})
    label = ",".join(f"{k}={v}" for k, v in sorted(params.items()))
    trained = train_model(
        dataset,
        spec,
        run_name=f"trial {label}",
        parent_run_id=parent_run_id,
        tracking_uri=tracking_uri,
    )
    split = load_split(dataset, classification=trained.model_type == "classifier")
    from mlflowx.sklearn import load_model

    # This may run in another process (a Dask worker): resolve the model where the run lives.
    with activate(Tracking(tracking_uri, trained.run_id, trained.experiment_id)):
        model = load_model(trained.model_uri)
    if metric == "accuracy_score" or trained.model_type == "classifier":
        from sklearn.metrics import accuracy_score

        score = float(accuracy_score(split.y_test, model.predict(split.x_test)))
        metric = "accuracy_score"
    else:
        from sklearn.metrics import r2_score

        score = float(r2_score(split.y_test, model.predict(split.x_test)))
        metric = "r2_score"
    client = mlflowx.MlflowxClient(tracking_uri)
    client.log_metric(trained.run_id, f"test_{metric}", score)
    client.set_tag(trained.run_id, "mlflowx.sweep.worker_pid", str(os.getpid()))
    return TrialResult(params=params, trained=trained, score=score, pid=os.getpid())


trial = task(name="trial", task_run_name="trial-{params}")(run_trial)
