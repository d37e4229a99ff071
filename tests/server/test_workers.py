"""``mlflowx server --workers N``: workers forked from one preloaded parent that keeps them
running, stops them on SIGTERM, and fails fast when they cannot start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.fixtures.server import free_port, start_mlflowx_server


def _group(pgid: int) -> set[int]:
    out = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True, check=False)
    return {int(p) for p in out.stdout.split()}


def _wait(predicate, timeout: float = 20) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_forked_workers_serve_are_replaced_and_stop_on_sigterm(tmp_path: Path) -> None:
    server = start_mlflowx_server(tmp_path, workers=2)
    parent = server.proc.pid
    try:
        assert _wait(lambda: len(_group(parent)) == 3), _group(parent)  # parent + 2 workers
        workers = _group(parent) - {parent}
        with httpx.Client(base_url=server.url, timeout=10) as client:
            created = client.post("/api/2.0/mlflow/experiments/create", json={"name": "w"})
            assert created.status_code == 200, created.text

            victim = min(workers)
            os.kill(victim, signal.SIGKILL)  # a worker dies: the parent starts another
            assert _wait(lambda: len(_group(parent) - {parent, victim}) == 2), _group(parent)
            assert victim not in _group(parent)
            for _ in range(20):  # every request is answered, whichever worker takes it
                found = client.get(
                    "/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": "w"}
                )
                assert found.status_code == 200, found.text
        assert "starting another" in server.logs()
    finally:
        os.kill(parent, signal.SIGTERM)  # the parent alone: it stops its workers
        code = server.proc.wait(30)
    assert code == 0, server.logs()
    assert _wait(lambda: not _group(parent), 10), _group(parent)


def test_workers_that_cannot_start_stop_the_server_with_code_3(tmp_path: Path) -> None:
    code = (
        "from mlflowx.utils.uvicorn_setup import serve\n"
        f"serve('no_such_module_here:app', workers=2, port={free_port()})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False,
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "could not start" in done.stderr
