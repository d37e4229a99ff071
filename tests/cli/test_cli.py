"""The ``mlflowx`` command: groups, typed errors and exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mlflowx
from mlflowx.cli import app, main
from mlflowx.store.sql.schema import HEAD_REVISION

runner = CliRunner()


def test_experiments_and_runs_commands(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    result = runner.invoke(app, ["experiments", "create", "cli-exp", "--tracking-uri", uri])
    assert result.exit_code == 0, result.output
    eid = result.output.strip()
    client = mlflowx.MlflowClient(uri)
    run = client.create_run(eid, run_name="from-cli-test")
    client.log_metric(run.info.run_id, "acc", 0.75)
    listed = runner.invoke(app, ["experiments", "list", "--tracking-uri", uri])
    assert "cli-exp" in listed.output
    runs = runner.invoke(
        app, ["runs", "list", "-x", eid, "-f", "metrics.acc > 0.5", "--tracking-uri", uri]
    )
    assert run.info.run_id in runs.output, runs.output
    described = runner.invoke(app, ["runs", "describe", run.info.run_id, "--tracking-uri", uri])
    assert '"acc": 0.75' in described.output
    assert (
        runner.invoke(app, ["runs", "delete", run.info.run_id, "--tracking-uri", uri]).exit_code
        == 0
    )
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"


def test_db_upgrade_and_current(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'db.db'}"
    first = runner.invoke(app, ["db", "upgrade", uri])
    assert "Upgraded from an empty database" in first.output
    again = runner.invoke(app, ["db", "upgrade", uri])
    assert "Already at revision" in again.output
    current = runner.invoke(app, ["db", "current", uri])
    assert f"database: {HEAD_REVISION}" in current.output


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["db", "upgrade", "sqlite:///{tmp}/x.db", "--revision", "nope"],
            "Unknown schema revision",
        ),
        (["db", "current", "./mlruns"], "mlflowx import ./mlruns --to"),
        (["db", "upgrade", "file:./mlruns"], "mlflowx import ./mlruns --to"),
        (["db", "current", "http://127.0.0.1:5000"], "is a tracking server, not a database"),
        (["db", "upgrade", "foo://bar"], "Unsupported database URI 'foo://bar'"),
    ],
)
def test_db_commands_refuse_what_is_not_their_database(
    argv: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    argv = [a.replace("{tmp}", str(work)) for a in argv]
    assert _run_main(monkeypatch, argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert list(work.iterdir()) == []  # nothing created on the way


def test_db_current_creates_no_database(tmp_path: Path) -> None:
    result = runner.invoke(app, ["db", "current", f"sqlite:///{tmp_path / 'new' / 'x.db'}"])
    assert result.exit_code == 0
    assert "database: (empty)" in result.output
    assert not (tmp_path / "new").exists()


def _run_main(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> int:
    monkeypatch.setattr(sys, "argv", ["mlflowx", *argv])
    with pytest.raises(SystemExit, match=r"^\d+$") as exit_info:
        main()
    return int(exit_info.value.code or 0)


def test_errors_print_the_message_and_exit_with_the_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = f"sqlite:///{tmp_path / 'e.db'}"
    code = _run_main(monkeypatch, ["experiments", "delete", "424242", "--tracking-uri", uri])
    assert code == 3  # NotFound
    assert "Error: No Experiment with id=424242 exists" in capsys.readouterr().err
    code = _run_main(monkeypatch, ["runs", "list", "-f", "metrics.x ~ 1", "--tracking-uri", uri])
    assert code == 2  # InvalidParameter
    assert "position" in capsys.readouterr().err


def test_console_script_runs() -> None:
    exe = Path(sys.executable).with_name("mlflowx")
    out = subprocess.run([str(exe), "version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == mlflowx.__version__


@pytest.mark.parametrize(
    ("args", "code", "shown"),
    [
        ([], 2, "Usage: mlflowx"),  # the help, as click answers a bare group
        (["--version"], 0, "mlflowx 0.1"),
        (["experimnts"], 2, "Did you mean 'experiments'?"),
        (["experiments", "create"], 2, "Missing argument 'name'."),
        (["ui", "--port", "abc"], 2, "Invalid value for '--port'"),
        (["runs", "describe", "no-such-run"], 3, "Error: Run with id=no-such-run not found"),
    ],
)
def test_usage_mistakes_print_one_line_not_a_traceback(
    args: list[str], code: int, shown: str, tmp_path: Path
) -> None:
    env = {**os.environ, "MLFLOWX_HOME": str(tmp_path), "COLUMNS": "200"}
    for how in ([str(Path(sys.executable).parent / "mlflowx")], [sys.executable, "-m", "mlflowx"]):
        done = subprocess.run([*how, *args], capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == code, (how, done.stdout, done.stderr)
        assert shown in done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr
