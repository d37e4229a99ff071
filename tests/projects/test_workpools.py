"""The Prefect work-pool backend against a real server: a process worker, scheduled deployments."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

import mlflowx
import mlflowx.projects
from tests.projects.conftest import ProjectFactory

BIN = Path(sys.executable).parent
LOG = (
    "import mlflowx, sys; mlflowx.start_run(); mlflowx.log_metric('alpha', float(sys.argv[1])); "
    "mlflowx.end_run(); print('worker says', sys.argv[2])"
)
PROJECT = f"""
name: pooled
entry_points:
  main:
    parameters:
      alpha: {{type: float, default: 0.5}}
      label: {{type: string, default: none}}
    command: "python -c \\"{LOG}\\" {{alpha}} {{label}}"
"""


def _process_pool(name: str) -> None:
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.workers.process import ProcessWorker

    template = ProcessWorker.get_default_base_job_template()
    with get_client(sync_client=True) as client:
        client.create_work_pool(
            WorkPoolCreate(name=name, type="process", base_job_template=template)
        )


def _docker_pool() -> str:
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect_docker.worker import DockerWorker

    pool = f"docker-{uuid.uuid4().hex[:8]}"
    template = DockerWorker.get_default_base_job_template()
    with get_client(sync_client=True) as client:
        client.create_work_pool(
            WorkPoolCreate(name=pool, type="docker", base_job_template=template)
        )
    return pool


def _run_worker(pool: str, env: dict[str, str], log: Path, worker_type: str = "process") -> None:
    cmd = [str(BIN / "prefect"), "worker", "start", "--pool", pool, "--type", worker_type,
           "--run-once"]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
        try:
            proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
            pytest.fail(f"worker did not finish:\n{log.read_text()}")


def test_process_worker_runs_the_project(
    prefect_server: Any, make_project: ProjectFactory, tmp_path: Path
) -> None:
    pool = f"proc-{uuid.uuid4().hex[:8]}"
    _process_pool(pool)
    root = make_project(MLproject=PROJECT)
    submitted = mlflowx.projects.run(
        str(root), parameters={"alpha": 0.25, "label": "hello; rm -rf /"},
        backend="prefect", work_pool=pool, synchronous=False, run_name="pooled-run",
    )  # fmt: skip
    assert isinstance(submitted, mlflowx.projects.PrefectSubmittedRun)
    assert submitted.get_status() == "SCHEDULED"
    env = {**os.environ, **prefect_server.env, "PREFECT_LOGGING_LEVEL": "INFO"}
    _run_worker(pool, env, tmp_path / "worker.log")
    assert submitted.wait(timeout=120), (tmp_path / "worker.log").read_text()
    assert submitted.get_status() == "FINISHED"
    run = mlflowx.get_run(submitted.run_id)
    assert run.info.status.value == "FINISHED"
    assert run.info.run_name == "pooled-run"
    assert run.data.metrics == {"alpha": 0.25}
    assert run.data.params == {"alpha": "0.25", "label": "hello; rm -rf /"}
    tags = run.data.tags
    assert tags["mlflow.project.backend"] == "prefect"
    assert tags["mlflowx.prefect.flow_run_id"] == str(submitted.flow_run_id)
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(submitted.flow_run_id)
    assert flow_run.parameters["alpha"] == 0.25
    log_filter = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run.id]))
    deadline = time.monotonic() + 60  # the server stores shipped logs asynchronously
    while True:
        with get_client(sync_client=True) as client:
            messages = [log.message for log in client.read_logs(log_filter)]
        if "worker says hello; rm -rf /" in messages or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "worker says hello; rm -rf /" in messages


def test_scheduled_deployment_reads_back(prefect_server: Any, make_project: ProjectFactory) -> None:
    from typer.testing import CliRunner

    from mlflowx.cli import app

    pool = f"sched-{uuid.uuid4().hex[:8]}"
    _process_pool(pool)
    root = make_project(MLproject=PROJECT)
    result = CliRunner().invoke(
        app, ["projects", "deploy", str(root), "-e", "main", "--work-pool", pool,
              "--cron", "0 3 * * *", "--name", "nightly", "-P", "alpha=0.75"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    deployment_id = uuid.UUID(result.output.split()[-1])
    from prefect import get_client

    with get_client(sync_client=True) as client:
        deployment = client.read_deployment(deployment_id)
        flow = client.read_flow(deployment.flow_id)
    assert flow.name == "pooled-main"
    assert deployment.name == "nightly"
    assert deployment.work_pool_name == pool
    (schedule,) = deployment.schedules
    assert schedule.schedule.cron == "0 3 * * *"
    assert schedule.active
    assert deployment.parameters == {"alpha": 0.75}
    props = deployment.parameter_openapi_schema["properties"]
    assert props["alpha"] == {"default": 0.5, "position": 0, "title": "alpha", "type": "number"}
    assert props["label"]["type"] == "string"
    assert deployment.entrypoint == ".mlflowx/flow_main.py:mlproject_main"
    assert deployment.job_variables["env"]["MLFLOWX_TRACKING_URI"] == mlflowx.get_tracking_uri()


@pytest.mark.slow
def test_docker_worker_runs_the_project_in_its_image(
    prefect_server: Any, docker_client: Any, base_image: str, make_project: ProjectFactory,
    tmp_path: Path,
) -> None:  # fmt: skip
    """A prefect-docker worker runs the flow inside the project's image (Prefect + mlflowx +
    the project, built offline from a wheelhouse); the tracking store is mounted."""
    from prefect import get_client

    pool = _docker_pool()
    root = make_project(MLproject=PROJECT)
    submitted = mlflowx.projects.run(
        str(root), parameters={"alpha": 0.5, "label": "in-docker"}, backend="prefect",
        work_pool=pool, synchronous=False,
    )  # fmt: skip
    assert isinstance(submitted, mlflowx.projects.PrefectSubmittedRun)
    env = {**os.environ, **prefect_server.env, "PREFECT_LOGGING_LEVEL": "INFO"}
    _run_worker(pool, env, tmp_path / "worker.log", worker_type="docker")
    assert submitted.wait(timeout=180), (tmp_path / "worker.log").read_text()
    run = mlflowx.get_run(submitted.run_id)
    assert run.info.status.value == "FINISHED"
    assert run.data.metrics == {"alpha": 0.5}
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(submitted.flow_run_id)
        deployment = client.read_deployment(flow_run.deployment_id)  # type: ignore[arg-type]
    image = deployment.job_variables["image"]
    assert image.startswith("mlflowx-project-pooled:")
    docker_client.images.remove(image, force=True)  # one image per test project: don't pile up


@pytest.mark.slow
def test_pushed_image_is_pulled_and_runs_the_project_from_the_image(
    prefect_server: Any, docker_client: Any, base_image: str, registry: str,
    make_project: ProjectFactory, tmp_path: Path,
) -> None:  # fmt: skip
    """``deploy --registry`` pushes the project image; the worker pulls it by its registry name
    (every local copy is removed first) and runs the flow baked in it (the host folder is gone)."""
    import shutil

    from prefect import get_client
    from prefect.deployments import run_deployment
    from typer.testing import CliRunner

    from mlflowx.cli import app

    pool = _docker_pool()
    root = make_project(MLproject=PROJECT)
    result = CliRunner().invoke(
        app, ["projects", "deploy", str(root), "--work-pool", pool, "--name", "pushed",
              "--registry", registry],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    deployment_id = uuid.UUID(result.output.split()[-1])
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment(deployment_id)
    variables = deployment.job_variables
    image = variables["image"]
    repository, _, tag = image.rpartition(":")
    assert repository == f"{registry}/mlflowx-project-pooled"
    assert variables["image_pull_policy"] == "IfNotPresent"
    local = f"mlflowx-project-pooled:{tag}"
    docker_client.images.remove(image, force=True)
    docker_client.images.remove(local, force=True)
    # This test's tag only: other tests build images of the same repository meanwhile.
    assert not docker_client.images.list(name=image)
    assert not docker_client.images.list(name=local)
    shutil.rmtree(root)  # the worker can only find the flow in the image
    flow_run: Any = run_deployment(
        deployment_id, parameters={"alpha": 0.75, "label": "pulled"}, timeout=0,
        as_subflow=False,
    )  # fmt: skip
    log = tmp_path / "worker.log"
    try:
        _run_worker(pool, {**os.environ, **prefect_server.env}, log, worker_type="docker")
        submitted = mlflowx.projects.PrefectSubmittedRun("", "", flow_run.id)
        assert submitted.wait(timeout=180), log.read_text()
        assert docker_client.images.get(image)  # pulled from the registry by the worker
    finally:
        for leftover in docker_client.images.list(name=image):  # the pulled copy, if any
            docker_client.images.remove(leftover.id, force=True)
    (run,) = mlflowx.search_runs(
        output_format="list", filter_string="metrics.alpha = 0.75", search_all_experiments=True
    )
    assert run.info.status.value == "FINISHED"
    assert run.data.params["label"] == "pulled"


def test_pushing_needs_a_registry_and_an_image_pool(
    prefect_server: Any, make_project: ProjectFactory
) -> None:
    from mlflowx.exceptions import InvalidParameter
    from mlflowx.projects.docker_image import names_registry, push_image

    assert names_registry("127.0.0.1:5000/team/model:abc")
    assert names_registry("registry.example.com/model")
    assert not names_registry("mlflowx-project-pooled:abc")
    assert not names_registry("team/model:abc")
    with pytest.raises(InvalidParameter, match="names no registry"):
        push_image("mlflowx-project-pooled:abc", client=object())
    pool = f"proc-{uuid.uuid4().hex[:8]}"
    _process_pool(pool)
    root = make_project(MLproject=PROJECT)
    with pytest.raises(InvalidParameter, match="is a process pool"):
        mlflowx.projects.deploy(str(root), work_pool=pool, registry="127.0.0.1:5000")


def test_prefect_backend_needs_an_api_and_a_pool(make_project: ProjectFactory) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from mlflowx.exceptions import InvalidParameter

    root = make_project(MLproject=PROJECT)
    with pytest.raises(InvalidParameter, match="needs a work pool"):
        mlflowx.projects.run(str(root), backend="prefect")
    with (
        temporary_settings(restore_defaults={PREFECT_API_URL}),
        pytest.raises(InvalidParameter, match="set PREFECT_API_URL"),
    ):
        mlflowx.projects.run(str(root), backend="prefect", work_pool="p")
    with pytest.raises(InvalidParameter, match="Unknown backend"):
        mlflowx.projects.run(str(root), backend="k8s")
