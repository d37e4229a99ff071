"""Reconciliation: a flow process killed outside any worker leaves its runs RUNNING until
``mlflowx pipelines reconcile`` reads the Prefect states and ends them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from uuid import UUID

import mlflowx
from mlflowx.entities import Run
from mlflowx.orchestration.reconcile import RECONCILED_TAG, reconcile_runs
from tests.fixtures.prefect import PrefectServer

BIN = Path(sys.executable).parent
FLOWS = Path(__file__).resolve().parents[2] / "flows"

KILLED_SCRIPT = """
import os, signal
import mlflowx

@mlflowx.task(track=True)
def fit(n: int) -> float:
    mlflowx.log_metric("before_kill", n)
    os.kill(os.getpid(), signal.SIGKILL)  # no hook runs: nothing ends the runs
    return 1.0

@mlflowx.task(track=True)
def prepare(n: int) -> int:
    return n + 1

@mlflowx.flow(experiment="killed")
def killed(n: int = 3) -> float:
    return fit(prepare(n))

@mlflowx.flow(experiment="killed")
def fine(n: int = 1) -> dict:
    return {"double": 2 * n}

if __name__ == "__main__":
    fine()
    killed()
"""


def _runs(experiment: str) -> dict[str, Run]:
    client = mlflowx.MlflowClient()
    found = client.get_experiment_by_name(experiment)
    assert found is not None
    return {
        r.data.tags.get("mlflowx.prefect.task_name") or r.data.tags["mlflowx.prefect.flow_name"]: r
        for r in client.search_runs([found.experiment_id], max_results=100)
    }


def test_runs_of_a_killed_flow_process_end_once_prefect_says_crashed(
    prefect_server: PrefectServer, tmp_path: Path
) -> None:
    from prefect import get_client
    from prefect.states import Crashed

    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(KILLED_SCRIPT))
    uri = f"sqlite:///{tmp_path}/tracking.db"
    env = {**os.environ, **prefect_server.env, "MLFLOWX_TRACKING_URI": uri}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == -9, done.stderr
    mlflowx.set_tracking_uri(uri)
    runs = _runs("killed")
    assert {name: r.info.status for name, r in runs.items()} == {
        "fine": "FINISHED",
        "killed": "RUNNING",
        "prepare": "FINISHED",
        "fit": "RUNNING",
    }
    flow_run_id = runs["killed"].data.tags["mlflowx.prefect.flow_run_id"]

    # Prefect still has the flow run RUNNING (no worker saw the process die): nothing to end.
    assert reconcile_runs(grace_seconds=0) == []

    # What Prefect's zombie detection (or an operator) does once the heartbeats stop.
    with get_client(sync_client=True) as prefect:
        prefect.set_flow_run_state(
            UUID(flow_run_id), Crashed(message="Flow run stopped sending heartbeats"), force=True
        )
    assert reconcile_runs(grace_seconds=3600) == []  # ended too recently: hooks may still run

    planned = reconcile_runs(grace_seconds=0, dry_run=True)
    assert sorted((r.run_name, r.status, r.state) for r in planned) == sorted(
        [
            (runs["killed"].info.run_name, "FAILED", "Crashed"),
            (runs["fit"].info.run_name, "FAILED", "Crashed"),
        ]
    )
    # The scheduled flow (deployments/prefect.yaml: reconcile) sees the same, as a dry run.
    sys.path.insert(0, str(FLOWS))
    try:
        from reconcile import reconcile as reconcile_flow
    finally:
        sys.path.remove(str(FLOWS))
    assert reconcile_flow(grace_seconds=0, dry_run=True) == 2
    assert _runs("killed")["killed"].info.status == "RUNNING"  # a dry run changes nothing

    cli = subprocess.run(
        [str(BIN / "mlflowx"), "pipelines", "reconcile", "--grace", "0", "-e", "killed",
         "-o", "json"],
        env={**env, "MLFLOWX_TRACKING_URI": uri}, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    ended = json.loads(cli.stdout)
    assert {r["run_id"] for r in ended} == {runs["killed"].info.run_id, runs["fit"].info.run_id}
    fit_item = next(r for r in ended if r["run_id"] == runs["fit"].info.run_id)
    assert fit_item["task_run_id"] == runs["fit"].data.tags["mlflowx.prefect.task_run_id"]

    after = _runs("killed")
    for name in ("killed", "fit"):
        run = after[name]
        assert run.info.status == "FAILED"
        assert run.info.end_time is not None
        assert run.info.end_time >= run.info.start_time
        assert run.data.tags["mlflowx.prefect.state"] == "Crashed"
        assert run.data.tags["mlflowx.prefect.state_message"].startswith("Flow run stopped")
        assert RECONCILED_TAG in run.data.tags
    assert after["fit"].data.metrics == {"before_kill": 4.0}  # what it logged is kept
    assert after["fine"].info.status == "FINISHED"  # ended by its hooks: never touched
    assert RECONCILED_TAG not in after["fine"].data.tags

    # Idempotent: a second pass finds nothing left.
    assert reconcile_runs(grace_seconds=0) == []


def test_unknown_experiment_is_a_clear_cli_error(tmp_path: Path) -> None:
    env = {**os.environ, "MLFLOWX_TRACKING_URI": f"sqlite:///{tmp_path}/t.db"}
    done = subprocess.run(
        [str(BIN / "mlflowx"), "pipelines", "reconcile", "-e", "nope"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "--experiment 'nope'" in done.stderr
