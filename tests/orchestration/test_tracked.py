"""Tracked flows and tasks: runs, params, results, status, nesting, context in threads, retries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import BaseModel

import mlflowx
from mlflowx.entities import Run
from mlflowx.orchestration import current_run_id, flow, flow_run_tags, task

pytestmark = pytest.mark.usefixtures("prefect_server")


class Optim(BaseModel):
    lr: float = 0.1
    momentum: float = 0.9


class Config(BaseModel):
    optim: Optim = Optim()
    layers: list[int] = [8, 4]
    name: str = "net"


@dataclass
class Data:
    path: str = "iris.csv"
    rows: int = 150


DEFAULT_DATA = Data()


def runs_of(experiment: str) -> list[Run]:
    client = mlflowx.MlflowClient()
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"experiment {experiment} was not created"
    return list(client.search_runs([found.experiment_id], max_results=1000))


def only(runs: list[Run], **tags: str) -> Run:
    hits = [r for r in runs if all(r.data.tags.get(k) == v for k, v in tags.items())]
    assert len(hits) == 1, (tags, [r.data.tags for r in runs])
    return hits[0]


def test_flow_captures_params_results_and_lineage() -> None:
    seen: dict[str, Any] = {}

    @flow(experiment="capture")
    def train(config: Config, data: Data = DEFAULT_DATA, seed: int = 7) -> dict[str, Any]:
        seen["run_id"] = current_run_id()
        seen["lineage"] = flow_run_tags()
        mlflowx.log_metric("inside", 1.5)
        return {"accuracy": 0.93, "scores": {"f1": 0.8}, "note": "ok", "n": 3, "skip": None}

    assert isinstance(train, mlflowx.flow.__globals__["Flow"])  # a real prefect.Flow
    result = train(Config(optim=Optim(lr=0.5)))
    assert result["accuracy"] == 0.93

    (run,) = runs_of("capture")
    assert run.info.run_id == seen["run_id"]
    assert run.info.status == "FINISHED"
    assert run.data.params == {
        "config.optim.lr": "0.5",
        "config.optim.momentum": "0.9",
        "config.layers": "[8, 4]",
        "config.name": "net",
        "data.path": "iris.csv",
        "data.rows": "150",
        "seed": "7",
    }
    assert run.data.metrics == {"accuracy": 0.93, "scores.f1": 0.8, "n": 3.0, "inside": 1.5}
    tags = run.data.tags
    assert tags["note"] == "ok"
    assert tags["mlflowx.prefect.flow_name"] == "train"
    assert tags["mlflowx.prefect.state"] == "Completed"
    flow_run_id = tags["mlflowx.prefect.flow_run_id"]
    assert seen["lineage"]["mlflowx.prefect.flow_run_id"] == flow_run_id
    assert tags["mlflowx.prefect.flow_run_url"].endswith(f"/runs/flow-run/{flow_run_id}")
    assert tags["mlflow.runName"] == tags["mlflowx.prefect.flow_run_name"]
    assert "mlflowx.prefect.deployment_id" not in tags


def test_failed_flow_run_is_failed() -> None:
    @flow(experiment="fails")
    def broken(x: int = 1) -> int:
        raise ValueError("bad data in column 3")

    state = broken(return_state=True)
    assert state.is_failed()
    (run,) = runs_of("fails")
    assert run.info.status == "FAILED"
    assert run.info.end_time is not None
    assert run.data.tags["mlflowx.prefect.state"] == "Failed"
    assert "bad data in column 3" in run.data.tags["mlflowx.prefect.state_message"]


class Crash(BaseException):
    """Not an Exception: Prefect reports the flow run as Crashed."""


def test_crashed_flow_run_is_failed() -> None:
    @flow(experiment="crashes")
    def crashing() -> None:
        raise Crash("power cut")

    with pytest.raises(Crash, match="power cut"):
        crashing()
    (run,) = runs_of("crashes")
    assert run.info.status == "FAILED"
    assert run.data.tags["mlflowx.prefect.state"] == "Crashed"


def test_nested_tasks_and_fluent_logging_in_threads() -> None:
    @task(track=True)
    def fit(x: int) -> dict[str, float]:
        mlflowx.log_metric("seen", x)
        return {"loss": 1 / (x + 1)}

    @task
    def untracked(x: int) -> int:
        mlflowx.log_metric("untracked", x)
        return x

    @flow(experiment="nested")
    def sweep(n: int = 3) -> float:
        losses = [f.result()["loss"] for f in fit.map(range(n))]
        untracked.submit(5).result()
        fit(10)
        return min(losses)

    sweep()
    runs = runs_of("nested")
    parent = only(runs, **{"mlflowx.prefect.flow_name": "sweep"})
    children = [r for r in runs if r is not parent]
    assert len(runs) == 5, [r.info.run_name for r in runs]  # no orphan top-level runs
    assert parent.data.metrics == {"result": 1 / 3, "untracked": 5.0}
    assert {r.data.params["x"] for r in children} == {"0", "1", "2", "10"}
    for child in children:
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.info.status == "FINISHED"
        x = float(child.data.params["x"])
        assert child.data.metrics == {"seen": x, "loss": 1 / (x + 1)}
        assert child.data.tags["mlflowx.prefect.task_name"] == "fit"
        assert (
            child.data.tags["mlflowx.prefect.flow_run_id"]
            == (parent.data.tags["mlflowx.prefect.flow_run_id"])
        )


def test_retried_task_reuses_its_run() -> None:
    attempts: list[int] = []

    @task(track=True, retries=2, retry_delay_seconds=0)
    def flaky(x: int) -> float:
        attempts.append(x)
        if len(attempts) < 3:
            raise RuntimeError(f"transient {len(attempts)}")
        return 0.5

    @flow(experiment="retries")
    def pipeline() -> float:
        return float(flaky(1))

    assert pipeline() == 0.5
    runs = runs_of("retries")
    assert len(runs) == 2
    child = only(runs, **{"mlflowx.prefect.task_name": "flaky"})
    assert child.info.status == "FINISHED"
    assert child.data.tags["mlflowx.prefect.attempt"] == "3"
    assert child.data.tags["mlflowx.prefect.attempt.1.error"] == "RuntimeError: transient 1"
    assert child.data.tags["mlflowx.prefect.attempt.2.error"] == "RuntimeError: transient 2"
    assert child.data.metrics == {"result": 0.5}
    assert child.data.params == {"x": "1"}
