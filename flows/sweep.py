"""A hyperparameter sweep: every trial a child run of the sweep's run, trained in parallel on a
local Dask cluster of worker processes; the best trial is evaluated and registered.

Run it with ``python flows/sweep.py``.
"""

import itertools
from typing import Any

from pydantic import JsonValue

import mlflowx
from mlflowx.orchestration import current_run_id, flow, tasks
from mlflowx.orchestration.dask import ProcessDaskTaskRunner
from mlflowx.orchestration.tasks import DatasetSpec, EstimatorSpec, EvaluationSpec

EXPERIMENT = "sweep"
#: Worker processes, not threads: each trial runs in its own interpreter, so its run must name
#: its parent and the tracking URI explicitly (see mlflowx.orchestration.tasks.sweep).
TASK_RUNNER = ProcessDaskTaskRunner(n_workers=2)

DEFAULT_ESTIMATOR = EstimatorSpec(
    import_path="sklearn.linear_model.LogisticRegression",
    params={"max_iter": 1000},
    preprocess=[EstimatorSpec(import_path="sklearn.preprocessing.StandardScaler")],
)
DEFAULT_GRID: dict[str, list[JsonValue]] = {"C": [0.01, 0.1, 1.0, 10.0]}


def grid_points(grid: dict[str, list[JsonValue]]) -> list[dict[str, JsonValue]]:
    """Every combination of the grid's values, in a stable order."""
    keys = sorted(grid)
    return [
        dict(zip(keys, values, strict=True))
        for values in itertools.product(*(grid[k] for k in keys))
    ]


@flow(name="sweep", experiment=EXPERIMENT, task_runner=TASK_RUNNER)
def sweep(
    model_name: str = "wine-sweep",
    dataset: DatasetSpec = DatasetSpec(),  # noqa: B008 - frozen pydantic models
    estimator: EstimatorSpec = DEFAULT_ESTIMATOR,
    grid: dict[str, list[JsonValue]] = DEFAULT_GRID,
    evaluation: EvaluationSpec = EvaluationSpec(),  # noqa: B008
) -> dict[str, Any]:
    """Train one model per grid point in parallel; evaluate and register the best one."""
    parent = current_run_id()
    if parent is None:
        raise RuntimeError("the sweep needs a tracking run to hang its trials under")
    uri = mlflowx.get_tracking_uri()
    futures = [
        tasks.trial.submit(dataset, estimator, point, parent_run_id=parent, tracking_uri=uri)
        for point in grid_points(grid)
    ]
    trials = [f.result() for f in futures]
    best = max(trials, key=lambda t: t.score)
    outcome = tasks.evaluate(best.trained, dataset, evaluation, model_name=model_name)
    registration = tasks.register(best.trained, model_name, outcome)
    return {
        "best_run_id": best.trained.run_id,
        "best_params": best.params,
        "best_score": best.score,
        "model_version": registration.version,
        "champion": registration.champion,
        "trials": len(trials),
        "worker_pids": sorted({t.pid for t in trials}),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(sweep(), indent=2, default=str))
