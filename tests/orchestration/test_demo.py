"""``make demo`` from a fresh copy of the repository: the pipeline on the embedded defaults
(ephemeral Prefect, SQLite tracking, local artifacts under ./demo-home), deploying a local
scoring-server process and getting a prediction back."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlflowx.registry.client import RegistryClient

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]


def _fresh_copy(dest: Path) -> Path:
    """The repository's tracked files, as a clone would have them (without .venv, demo-home)."""
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / name.decode()
        if source.is_file():
            target = dest / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[1].startswith("Z"))


def test_make_demo_from_a_fresh_copy(tmp_path: Path) -> None:
    need_make = shutil.which("make")
    assert need_make, "make is needed to run the demo as users do"
    clone = _fresh_copy(tmp_path / "mlflowx")
    assert not (clone / "demo-home").exists()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PREFECT_", "MLFLOWX_", "MLFLOW_"))
    }
    env["PYTHONPATH"] = str(clone)  # the copy's mlflowx, not the installed checkout's
    # The Makefile's 90 s is for a machine at rest; a CI box running two test workers needs more
    # to start Prefect's temporary server on a new database.
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "300"
    # `-o install`: the virtualenv exists already; everything else is the Makefile's recipe.
    proc = subprocess.run(
        ["make", "-o", "install", "demo", f"PY={sys.executable}"],
        cwd=clone, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    home = clone / "demo-home"
    assert "What it made" in output
    assert "wine-classifier v1" in output
    assert "predicted [" in output
    assert "demo-home .venv/bin/mlflowx ui   # the web UI" in output
    assert "http://127.0.0.1:5000/#/models/wine-classifier/versions/1" in output
    assert (home / "mlflowx.db").is_file()
    assert (home / "prefect" / "prefect.db").is_file()  # Prefect's ephemeral server, in the home

    registry = RegistryClient(f"sqlite:///{home / 'mlflowx.db'}")
    assert registry.get_registered_model("wine-classifier").aliases == {"champion": "1"}
    tags = registry.get_model_version("wine-classifier", "1").tags
    assert tags["mlflowx.deployment.target"] == "process"
    assert tags["mlflowx.prefect.flow_name"] == "train-pipeline"
    assert not _alive(int(tags["mlflowx.deployment.pid"])), "the demo left its server running"
