"""The flows in flows/ end to end against a real Prefect server: the train pipeline (deploying a
scoring-server process) and the sweep on a Dask cluster of worker processes."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mlflowx
from mlflowx.orchestration.tasks import (
    ChallengerRejected,
    DatasetSpec,
    DeploySpec,
    EstimatorSpec,
    stop_servers,
)
from mlflowx.registry.client import RegistryClient

FLOWS = Path(__file__).resolve().parents[2] / "flows"
IRIS = DatasetSpec(ref="sklearn:iris", test_size=0.3, seed=3)

pytestmark = pytest.mark.xdist_group("prefect-flows")


@pytest.fixture
def flows_on_path(prefect_server: Any) -> Iterator[None]:
    sys.path.insert(0, str(FLOWS))
    try:
        yield
    finally:
        sys.path.remove(str(FLOWS))
        stop_servers()


def _runs(flow_run_id: str) -> list[mlflowx.Run]:
    runs = mlflowx.search_runs(
        search_all_experiments=True,
        filter_string=f"tags.`mlflowx.prefect.flow_run_id` = '{flow_run_id}'",
        output_format="list",
    )
    return list(runs)


def test_train_pipeline_end_to_end_then_a_worse_challenger_fails_the_flow(
    flows_on_path: None,
) -> None:
    from train_pipeline import train_pipeline

    state = train_pipeline(
        model_name="iris-e2e",
        dataset=IRIS,
        deploy=DeploySpec(target="process", keep_running=False),
        return_state=True,
    )
    assert state.is_completed(), state.message
    result = state.result()
    flow_run_id = str(state.state_details.flow_run_id)
    runs = _runs(flow_run_id)
    top = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(top) == 1
    flow_run = top[0]
    assert flow_run.info.status == "FINISHED"
    assert flow_run.data.params["dataset.ref"] == "sklearn:iris"
    train_run = mlflowx.get_run(result["run_id"])
    assert train_run.data.tags["mlflow.parentRunId"] == flow_run.info.run_id
    assert train_run.data.metrics["accuracy_score"] >= 0.8
    client = RegistryClient()
    assert client.get_registered_model("iris-e2e").aliases == {"champion": "1"}
    version = client.get_model_version("iris-e2e", "1")
    assert version.tags["mlflowx.prefect.flow_run_id"] == flow_run_id
    assert version.tags["mlflowx.lineage.run_id"] == train_run.info.run_id
    assert version.tags["mlflowx.deployment.target"] == "process"
    deployment = result["deployment"]
    assert deployment["model_uri"] == "models:/iris-e2e/1"
    assert len(deployment["prediction"]) == 5

    failed = train_pipeline(
        model_name="iris-e2e",
        dataset=IRIS,
        estimator=EstimatorSpec(
            import_path="sklearn.dummy.DummyClassifier", params={"strategy": "uniform"}
        ),
        deploy=DeploySpec(target="none"),
        return_state=True,
    )
    assert failed.is_failed()
    with pytest.raises(ChallengerRejected, match="rejected against champion iris-e2e v1"):
        failed.result()
    failed_runs = _runs(str(failed.state_details.flow_run_id))
    statuses = {r.info.run_name: r.info.status for r in failed_runs}
    assert "FAILED" in statuses.values(), statuses
    # The champion did not move, and nothing was registered for the failed challenger.
    assert client.get_registered_model("iris-e2e").aliases == {"champion": "1"}
    assert [v.version for v in client.search_model_versions("name = 'iris-e2e'")] == ["1"]


def test_sweep_trials_run_in_dask_worker_processes_as_child_runs(flows_on_path: None) -> None:
    from sweep import sweep

    result = sweep(model_name="iris-sweep", dataset=IRIS, grid={"C": [0.05, 1.0, 20.0]})
    assert result["trials"] == 3
    assert os.getpid() not in result["worker_pids"]
    best = mlflowx.get_run(result["best_run_id"])
    parent_id = best.data.tags["mlflow.parentRunId"]
    parent = mlflowx.get_run(parent_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["mlflowx.prefect.flow_name"] == "sweep"
    children = mlflowx.search_runs(
        experiment_ids=[parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent_id}'",
        output_format="list",
    )
    trials = [c for c in children if c.data.tags.get("mlflowx.task") == "train"]
    assert sorted(float(t.data.params["C"]) for t in trials) == [0.05, 1.0, 20.0]
    pids = {t.data.tags["mlflowx.sweep.worker_pid"] for t in trials}
    assert str(os.getpid()) not in pids
    scores = {t.info.run_id: t.data.metrics["test_accuracy_score"] for t in trials}
    assert scores[best.info.run_id] == max(scores.values())
    version = RegistryClient().get_model_version("iris-sweep", result["model_version"])
    assert version.run_id == best.info.run_id
    assert RegistryClient().get_registered_model("iris-sweep").aliases == {"champion": "1"}
