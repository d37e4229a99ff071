"""CI-triggered retraining: the command in .github/workflows/retrain.yml, run as written against
a real Prefect server, with the deployment made from deployments/prefect.yaml and a process
worker (``--run-once``) running the flow."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlflowx.registry.client import RegistryClient
from mlflowx.tracking import MlflowxClient

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WORKFLOW = ROOT / ".github" / "workflows" / "retrain.yml"
POOL = "mlflowx-process"

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect-trigger")]


def workflow_trigger_command() -> str:
    """The ``run:`` line of the workflow step that calls ``mlflowx pipelines trigger``."""
    spec = yaml.safe_load(WORKFLOW.read_text())
    lines = [
        step["run"]
        for job in spec["jobs"].values()
        for step in job["steps"]
        if "mlflowx pipelines trigger" in step.get("run", "")
    ]
    assert len(lines) == 1, lines
    return str(lines[0]).strip()


def _prefect(args: list[str], env: dict[str, str], timeout: float = 300) -> str:
    proc = subprocess.run(
        [str(BIN / "prefect"), *args], env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
    assert proc.returncode == 0, f"prefect {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _wait_for_text(path: Path, text: str, proc: subprocess.Popen[Any], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text(errors="replace"):
        assert proc.poll() is None, f"exited early:\n{path.read_text(errors='replace')}"
        assert time.monotonic() < deadline, f"no {text!r} in:\n{path.read_text()}"
        time.sleep(0.2)


def test_workflow_command_triggers_the_deployment_and_reports_run_and_version(
    prefect_server: Any, tmp_path: Path
) -> None:
    command = workflow_trigger_command()
    assert "--wait" in command
    tracking = f"sqlite:///{tmp_path / 'tracking.db'}"
    env = {
        **os.environ,
        **prefect_server.env,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "MLFLOWX_PROJECT_DIR": str(ROOT),
        "MLFLOWX_TRACKING_URI": tracking,
        "MLFLOWX_HOME": str(tmp_path / "home"),
    }
    _prefect(["work-pool", "create", POOL, "--type", "process", "--overwrite"], env)
    _prefect(
        ["--no-prompt", "deploy", "--prefect-file", "deployments/prefect.yaml",
         "-n", "nightly-retrain"], env,
    )  # fmt: skip

    listing = subprocess.run(
        [str(BIN / "mlflowx"), "pipelines", "list"], env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert listing.returncode == 0, listing.stderr
    expected = "train-pipeline/nightly-retrain\tpool=mlflowx-process\tschedules=0 3 * * *"
    assert expected in listing.stdout.splitlines(), listing.stdout

    # The workflow's inputs, as GitHub would set them; one good run and one that must fail.
    good_env = {**env, "DATASET": "sklearn:iris", "ESTIMATOR_C": "0.5", "GITHUB_SHA": "a1" * 20}
    bad_env = {**good_env, "DATASET": "sklearn:no-such-data", "GITHUB_SHA": "b2" * 20}
    runs = []
    for name, run_env in (("good", good_env), ("bad", bad_env)):
        out, err = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
        with out.open("wb") as o, err.open("wb") as e:
            proc = subprocess.Popen(["bash", "-c", command], env=run_env, cwd=ROOT, stdout=o,
                                    stderr=e, start_new_session=True)  # fmt: skip
        runs.append((proc, out, err))
    for proc, _, err in runs:
        _wait_for_text(err, "created", proc, timeout=180)

    worker = subprocess.run(
        [str(BIN / "prefect"), "worker", "start", "-p", POOL, "--type", "process", "--run-once"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert worker.returncode == 0, worker.stdout + worker.stderr
    results = []
    for proc, out, err in runs:
        try:
            proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        results.append((proc.returncode, out.read_text(), err.read_text()))

    (good_rc, good_out, good_err), (bad_rc, bad_out, bad_err) = results
    assert good_rc == 0, good_out + good_err
    assert "state=COMPLETED" in good_out
    run_id = re.search(r"^tracking_run_id=([0-9a-f]{32})$", good_out, re.M)
    assert run_id, good_out
    assert re.search(r"^model_version=wine-classifier/1 \(champion\)$", good_out, re.M), good_out
    flow_run_id = re.search(r"^flow_run_id=(\S+)$", good_out, re.M)
    assert flow_run_id

    # What the command reported is what the flow run tracked, with the workflow's parameters.
    client = MlflowxClient(tracking)
    run = client.get_run(run_id.group(1))
    assert run.info.status == "FINISHED"
    assert run.data.params["dataset.ref"] == "sklearn:iris"
    assert run.data.params["estimator.params.C"] == "0.5"
    assert run.data.tags["mlflowx.prefect.flow_run_id"] == flow_run_id.group(1)
    assert run.data.tags["mlflowx.prefect.deployment_name"] == "nightly-retrain"
    version = RegistryClient(tracking).get_model_version("wine-classifier", "1")
    assert version.tags["mlflowx.prefect.flow_run_id"] == flow_run_id.group(1)

    assert bad_rc == 1, bad_out + bad_err
    assert "state=FAILED" in bad_out
    assert "sklearn:no-such-data" in bad_err  # the reason, from the flow run's state message

    # The deployment's default target rolled out a scoring server: stop it.
    pid = version.tags.get("mlflowx.deployment.pid")
    assert pid, version.tags
    try:
        os.killpg(int(pid), signal.SIGTERM)
    except ProcessLookupError:
        pass
