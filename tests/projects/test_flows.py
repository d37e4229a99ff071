"""Entry points compiled into Prefect flows and run in-process against a real Prefect server."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

import mlflowx
import mlflowx.projects
from mlflowx.orchestration import TrackedFlow
from mlflowx.projects import ProjectRunFailed, load
from tests.fixtures.server import start_mlflowx_server
from tests.projects.conftest import ProjectFactory

TYPED = """
name: typed
entry_points:
  main:
    parameters:
      label: string
      alpha: {type: float, default: 0.5}
      epochs: {type: int, default: 3}
      data: {type: path, default: data.csv}
    command: "echo label={label} alpha={alpha} epochs={epochs} && cat {data} && echo tail"
  fail:
    command: "echo about to fail; exit 7"
  slow:
    command: "echo started; sleep 600"
"""


@pytest.fixture
def typed(make_project: ProjectFactory) -> Path:
    return make_project(MLproject=TYPED, **{"data.csv": "a,b\n"})


def test_flow_signature_and_schema(typed: Path) -> None:
    assert isinstance(load(str(typed)).to_flow("main"), TrackedFlow)
    flow = load(str(typed)).to_flow("main")
    assert flow.name == "typed-main"
    assert flow.fn.__name__ == "mlproject_main"
    schema = flow.parameters.model_dump()
    props = schema["properties"]
    assert schema["required"] == ["label"]
    assert props["alpha"]["type"] == "number"
    assert props["alpha"]["default"] == 0.5
    assert props["epochs"]["type"] == "integer"
    assert props["label"]["type"] == "string"
    assert props["data"]["default"] == "data.csv"
    assert "extra_parameters" in props


def _logs(flow_run_id: str, expect: str, timeout: float = 60) -> list[str]:
    """The flow run's log messages, polled until ``expect`` is among them (the server stores
    shipped logs asynchronously)."""
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    deadline = time.monotonic() + timeout
    log_filter = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[UUID(flow_run_id)]))
    while True:
        with get_client(sync_client=True) as client:
            messages = [log.message for log in client.read_logs(log_filter)]
        if expect in messages or time.monotonic() > deadline:
            return messages
        time.sleep(0.5)


def test_local_backend_runs_the_flow_and_tracks(prefect_server: Any, typed: Path) -> None:
    submitted = mlflowx.projects.run(
        str(typed), "main", parameters={"label": "x y", "epochs": "4", "undeclared": "u"},
        experiment_name="projects", run_name="first", env_manager="local",
    )  # fmt: skip
    assert submitted.get_status() == "FINISHED"
    assert submitted.wait()
    run = mlflowx.get_run(submitted.run_id)
    assert run.info.run_name == "first"
    assert mlflowx.get_experiment(run.info.experiment_id).name == "projects"
    assert run.data.params == {
        "label": "x y", "alpha": "0.5", "epochs": "4", "data": "data.csv", "undeclared": "u"
    }  # fmt: skip
    tags = run.data.tags
    assert tags["mlflow.project.backend"] == "local"
    assert tags["mlflow.source.type"] == "PROJECT"
    # The same tracked-flow machinery as @mlflowx.flow: the run made by the submitter is
    # continued by the flow run, with the lineage every tracked flow run carries.
    assert tags["mlflowx.prefect.flow_name"] == "typed-main"
    assert tags["mlflowx.prefect.attempt"] == "1"
    flow_run_id = tags["mlflowx.prefect.flow_run_id"]
    assert isinstance(submitted, mlflowx.projects.LocalSubmittedRun)
    assert submitted.flow_run_id == flow_run_id
    logs = _logs(flow_run_id, "tail --undeclared u")
    assert "label=x y alpha=0.5 epochs=4 --undeclared u" not in logs  # flags follow the command
    assert "label=x y alpha=0.5 epochs=4" in logs
    assert "a,b" in logs
    assert "tail --undeclared u" in logs


def test_failing_command_fails_the_flow(prefect_server: Any, typed: Path) -> None:
    with pytest.raises(ProjectRunFailed, match="failed"):
        mlflowx.projects.run(str(typed), "fail", env_manager="local")
    submitted = mlflowx.projects.run(str(typed), "fail", env_manager="local", synchronous=False)
    assert not submitted.wait(timeout=120)
    assert isinstance(submitted, mlflowx.projects.LocalSubmittedRun)
    assert submitted.state.is_failed()
    assert "exited with code 7" in str(submitted.state.message)
    assert submitted.get_status() == "FAILED"
    error = mlflowx.get_run(submitted.run_id).data.tags["mlflowx.prefect.error"]
    assert error.startswith("ProjectRunFailed: ")
    assert "exited with code 7" in error
    assert "about to fail" in _logs(str(submitted.flow_run_id), "about to fail")


def test_required_and_typed_parameters_checked_before_running(
    prefect_server: Any, typed: Path
) -> None:
    with pytest.raises(mlflowx.exceptions.InvalidParameter, match=r"'label'"):
        mlflowx.projects.run(str(typed), "main", env_manager="local")
    with pytest.raises(mlflowx.exceptions.InvalidParameter, match=r"'alpha' .* must be a float"):
        mlflowx.projects.run(str(typed), "main", parameters={"label": "a", "alpha": "high"})
    assert mlflowx.search_runs(output_format="list", search_all_experiments=True) == []


def test_cancel_kills_the_command(prefect_server: Any, typed: Path) -> None:
    submitted = mlflowx.projects.run(str(typed), "slow", env_manager="local", synchronous=False)
    deadline = time.monotonic() + 120
    while submitted.get_status() != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)
    submitted.cancel()
    assert not submitted.wait(timeout=60)
    assert submitted.get_status() == "KILLED"


MLFLOW_TRAIN = """
import sys
import mlflow

regularization = float(sys.argv[2])
with open(sys.argv[3]) as handle:
    rows = len(handle.read().splitlines())
with mlflow.start_run() as run:
    mlflow.log_metric("rows", rows)
    mlflow.log_param("seen_regularization", regularization)
    print("mlflow run", run.info.run_id)
"""


def test_mlflow_project_with_official_client_logs_into_the_same_run(
    prefect_server: Any, make_project: ProjectFactory, tmp_path: Path
) -> None:
    """MLflow's documented MLproject, unchanged; its code uses the official `mlflow` client
    against an mlflowx server, and logs into the project's run."""
    root = make_project(
        MLproject="""
        name: My Project

        python_env: python_env.yaml

        entry_points:
          main:
            parameters:
              data_file: path
              regularization: {type: float, default: 0.1}
            command: "python train.py -r {regularization} {data_file}"
        """,
        **{
            "python_env.yaml": "python: '3.11'\ndependencies: [mlflow]\n",
            "train.py": MLFLOW_TRAIN,
            "data.csv": "x\n1\n2\n",
        },
    )
    server = start_mlflowx_server(tmp_path / "server")
    try:
        mlflowx.set_tracking_uri(server.url)
        submitted = mlflowx.projects.run(
            str(root), parameters={"data_file": "data.csv"}, env_manager="local"
        )
        run = mlflowx.get_run(submitted.run_id)
    finally:
        server.stop()
    assert run.data.metrics == {"rows": 3.0}
    assert run.data.params["seen_regularization"] == "0.1"
    assert run.data.params["regularization"] == "0.1"
    assert run.data.tags["mlflow.project.env"] == "local"
    assert sys.executable  # the command's `python` is this interpreter (it has mlflow)


def test_cli_run(prefect_server: Any, typed: Path) -> None:
    from typer.testing import CliRunner

    from mlflowx.cli import app

    result = CliRunner().invoke(
        app, ["run", str(typed), "-P", "label=cli", "-P", "alpha=0.25",
              "--env-manager", "local", "--experiment-name", "cli"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    run_id = result.output.split()[-2]
    run = mlflowx.get_run(run_id)
    assert run.data.params["alpha"] == "0.25"
    assert run.info.status.value == "FINISHED"
    failed = CliRunner().invoke(app, ["run", str(typed), "-e", "fail"])
    assert failed.exit_code == 1
    # The console script's process exits with it too (it used to exit 0).
    from mlflowx.cli import main

    with pytest.raises(SystemExit, match=r"^1$"):
        main(["run", str(typed), "-e", "fail"])
