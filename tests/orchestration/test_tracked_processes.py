"""Tracked tasks in other processes: Dask worker processes and a flow run in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mlflowx
from mlflowx.entities import Run
from mlflowx.orchestration import flow, task
from tests.fixtures.prefect import PrefectServer


def runs_of(experiment: str) -> list[Run]:
    client = mlflowx.MlflowClient()
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"experiment {experiment} was not created"
    return list(client.search_runs([found.experiment_id], max_results=1000))


@task(track=True)
def trial(alpha: float) -> dict[str, float]:
    mlflowx.log_metric("worker_pid", os.getpid())
    return {"score": 1 - alpha}


@task
def untracked(x: int) -> int:
    mlflowx.log_metric("untracked_pid", os.getpid())
    return x


@pytest.mark.usefixtures("prefect_server")
def test_dask_process_workers_log_into_child_runs(tmp_path: Path) -> None:
    from prefect_dask import DaskTaskRunner

    # A URI set in code only (no environment variable): it must still reach the workers.
    mlflowx.set_tracking_uri(f"sqlite:///{tmp_path}/dask.db")

    @flow(
        experiment="dask",
        task_runner=DaskTaskRunner(
            cluster_kwargs={"n_workers": 2, "processes": True, "threads_per_worker": 1}
        ),
    )
    def sweep(alphas: list[float]) -> float:
        scores = [f.result()["score"] for f in trial.map(alphas)]
        untracked.submit(1).result()
        return max(scores)

    assert sweep([0.1, 0.2, 0.3, 0.4]) == pytest.approx(0.9)
    runs = runs_of("dask")
    assert len(runs) == 5, [r.info.run_name for r in runs]
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["result"] == pytest.approx(0.9)
    assert parent.data.metrics["untracked_pid"] != os.getpid()
    children = [r for r in runs if r is not parent]
    assert {c.data.params["alpha"] for c in children} == {"0.1", "0.2", "0.3", "0.4"}
    for child in children:
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.info.status == "FINISHED"
        assert child.data.metrics["worker_pid"] != os.getpid()  # ran in another process
        assert child.data.metrics["score"] == pytest.approx(1 - float(child.data.params["alpha"]))


FLOW_SCRIPT = """
import mlflowx

@mlflowx.flow(experiment="subprocess")
def job(n: int = 2) -> dict:
    mlflowx.log_metric("from_body", n)
    return {"double": 2 * n}

if __name__ == "__main__":
    job(n=21)
"""


def test_tracking_uri_travels_to_a_subprocess_flow_run(
    prefect_server: PrefectServer, tmp_path: Path
) -> None:
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(FLOW_SCRIPT))
    uri = f"sqlite:///{tmp_path}/sub.db"
    env = {**os.environ, **prefect_server.env, "MLFLOWX_TRACKING_URI": uri}
    env.pop("MLFLOWX_HOME", None)
    done = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "mlflowx.db").exists()  # not the default store in the cwd
    mlflowx.set_tracking_uri(uri)
    (run,) = runs_of("subprocess")
    assert run.info.status == "FINISHED"
    assert run.data.params == {"n": "21"}
    assert run.data.metrics == {"from_body": 21.0, "double": 42.0}
    assert run.data.tags["mlflowx.prefect.flow_name"] == "job"


DEPLOYED_SCRIPT = """
import mlflowx

@mlflowx.flow
def nightly(n: int = 2) -> dict:
    return {"double": 2 * n}


@mlflowx.flow
def crashy() -> None:
    import os

    os._exit(3)  # the process dies: no hook runs in it; the worker reports the crash
"""


def test_deployment_run_on_a_process_worker_is_tracked_with_lineage(
    prefect_server: PrefectServer, tmp_path: Path
) -> None:
    """The tracking URI and experiment reach the flow run through the deployment's job
    variables; the run carries the deployment, work pool and UI link. A flow run whose process
    dies is ended FAILED by the crash hook the worker runs."""
    import uuid

    from prefect import Flow
    from prefect.deployments import run_deployment

    project = tmp_path / "project"
    project.mkdir()
    (project / "nightly.py").write_text(textwrap.dedent(DEPLOYED_SCRIPT))
    uri = f"sqlite:///{tmp_path}/deployed.db"
    env = {**os.environ, **prefect_server.env}
    pool = f"proc-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        [sys.executable, "-m", "prefect", "work-pool", "create", pool, "--type", "process"],
        env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    job_env = {"MLFLOWX_TRACKING_URI": uri, "MLFLOWX_EXPERIMENT_NAME": "deployed"}
    for name in ("nightly", "crashy"):
        loaded = Flow.from_source(source=str(project), entrypoint=f"nightly.py:{name}")
        loaded.deploy(
            name="retrain",
            work_pool_name=pool,
            job_variables={"env": job_env},
            print_next_steps=False,
        )
    flow_run = run_deployment(name="nightly/retrain", parameters={"n": 5}, timeout=0)
    crash_run = run_deployment(name="crashy/retrain", timeout=0)
    worker = subprocess.run(
        [sys.executable, "-m", "prefect", "worker", "start", "-p", pool, "--run-once"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert worker.returncode == 0, worker.stdout + worker.stderr

    mlflowx.set_tracking_uri(uri)
    runs = runs_of("deployed")
    assert len(runs) == 2, [r.data.tags for r in runs]
    (crashed,) = [r for r in runs if r.data.tags["mlflowx.prefect.flow_name"] == "crashy"]
    assert crashed.data.tags["mlflowx.prefect.flow_run_id"] == str(crash_run.id)
    assert crashed.info.status == "FAILED"
    assert crashed.data.tags["mlflowx.prefect.state"] == "Crashed"
    (run,) = [r for r in runs if r is not crashed]
    tags = run.data.tags
    assert run.info.status == "FINISHED", tags
    assert run.data.params == {"n": "5"}
    assert run.data.metrics == {"double": 10.0}
    assert tags["mlflowx.prefect.flow_run_id"] == str(flow_run.id)
    assert tags["mlflowx.prefect.deployment_id"] == str(flow_run.deployment_id)
    assert tags["mlflowx.prefect.deployment_name"] == "retrain"
    assert tags["mlflowx.prefect.work_pool"] == pool
    assert tags["mlflowx.prefect.flow_run_url"].endswith(f"/runs/flow-run/{flow_run.id}")
