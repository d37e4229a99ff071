"""The Docker work-pool variant: the flow image built by infra/build-flow-image.sh, the
deployment from deployments/prefect.yaml, a ``--run-once`` Docker worker; the flow run inside
the container tracks to a tracking server on the host (host networking, as prefect-docker sets
it up for a loopback Prefect API)."""

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

from mlflowx.tracking import MlflowxClient
from tests.fixtures.server import start_mlflowx_server

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
POOL = "mlflowx-docker"

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect-docker-pool")]


def _run(args: list[str], env: dict[str, str], timeout: float) -> str:
    proc = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip
    assert proc.returncode == 0, f"{' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_docker_pool_run_lands_in_tracking(
    docker_client: Any, base_image: str, prefect_server: Any, tmp_path: Path
) -> None:
    server = start_mlflowx_server(tmp_path / "tracking")
    try:
        env = {
            **os.environ,
            **prefect_server.env,
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "MLFLOWX_TRACKING_URI": server.url,
            "MLFLOWX_BASE_IMAGE": base_image,
            "PYTHON": sys.executable,
        }
        # Build once up front (cached by content hash); the yaml's build step then finds it.
        image = _run(["bash", "infra/build-flow-image.sh"], env, timeout=3600).strip()
        assert re.fullmatch(r"mlflowx-flows:[0-9a-f]{12}", image), image
        env["MLFLOWX_FLOW_IMAGE"] = image  # the yaml's build step: this image, no rebuild
        prefect = str(BIN / "prefect")
        _run([prefect, "work-pool", "create", POOL, "--type", "docker", "--overwrite"], env, 120)
        _run(
            [prefect, "--no-prompt", "deploy", "--prefect-file", "deployments/prefect.yaml",
             "-n", "nightly-retrain-docker"], env, 600,
        )  # fmt: skip
        out, err = tmp_path / "trigger.out", tmp_path / "trigger.err"
        with out.open("wb") as o, err.open("wb") as e:
            trigger = subprocess.Popen(
                [str(BIN / "mlflowx"), "pipelines", "trigger",
                 "train-pipeline/nightly-retrain-docker", "--param", "dataset.ref=sklearn:iris",
                 "--wait", "--timeout", "900"],
                env=env, cwd=ROOT, stdout=o, stderr=e, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 180
        while "created" not in err.read_text(errors="replace"):
            assert trigger.poll() is None, err.read_text()
            assert time.monotonic() < deadline, err.read_text()
            time.sleep(0.2)
        worker = subprocess.run(
            [prefect, "worker", "start", "--pool", POOL, "--type", "docker", "--run-once"],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert worker.returncode == 0, worker.stdout + worker.stderr
        try:
            trigger.wait(timeout=300)
        except subprocess.TimeoutExpired:
            os.killpg(trigger.pid, signal.SIGKILL)
            raise
        output = out.read_text()
        assert trigger.returncode == 0, output + err.read_text() + worker.stdout + worker.stderr
        run_id = re.search(r"^tracking_run_id=([0-9a-f]{32})$", output, re.M)
        assert run_id, output

        run = MlflowxClient(server.url).get_run(run_id.group(1))
        assert run.info.status == "FINISHED"
        assert run.data.params["dataset.ref"] == "sklearn:iris"
        assert run.data.tags["mlflowx.prefect.work_pool"] == POOL
        assert run.data.tags["mlflowx.prefect.deployment_name"] == "nightly-retrain-docker"
        assert re.search(r"^model_version=wine-classifier/1 \(champion\)$", output, re.M), output
    finally:
        server.stop()
