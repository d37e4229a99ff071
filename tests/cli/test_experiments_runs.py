"""``mlflowx experiments get|search|csv`` and ``mlflowx runs create|list`` (outputs, columns)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mlflowx
from mlflowx.cli import app, main

runner = CliRunner()


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'c.db'}"


def test_experiments_get_search_and_csv(uri: str, tmp_path: Path) -> None:
    eid = _ok("experiments", "create", "--experiment-name", "exp-one", "--tracking-uri", uri)
    eid = eid.strip()
    got = json.loads(_ok("experiments", "get", "-x", eid, "--tracking-uri", uri))
    assert got["name"] == "exp-one"
    by_name = json.loads(_ok("experiments", "get", "-n", "exp-one", "--tracking-uri", uri))
    assert by_name["experiment_id"] == eid
    assert "exp-one" in _ok("experiments", "search", "--tracking-uri", uri)
    client = mlflowx.MlflowClient(uri)
    run = client.create_run(eid, run_name="r1")
    client.log_metric(run.info.run_id, "acc", 0.5)
    client.log_param(run.info.run_id, "lr", "0.1")
    rows = list(
        csv.DictReader(io.StringIO(_ok("experiments", "csv", "-x", eid, "--tracking-uri", uri)))
    )
    assert rows[0]["run_id"] == run.info.run_id
    assert rows[0]["metrics.acc"] == "0.5"
    assert rows[0]["params.lr"] == "0.1"
    out = tmp_path / "runs.csv"
    runner.invoke(app, ["experiments", "csv", "-x", eid, "-o", str(out), "--tracking-uri", uri])
    assert run.info.run_id in out.read_text()
    assert "has been renamed to 'exp-two'" in _ok(
        "experiments", "rename", eid, "exp-two", "--tracking-uri", uri
    )
    assert f"Experiment with id {eid} has been deleted." in _ok(
        "experiments", "delete", eid, "--tracking-uri", uri
    )
    assert "has been restored" in _ok("experiments", "restore", eid, "--tracking-uri", uri)


def test_experiments_get_needs_one_key(uri: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match=r"^2$"):
        main(["experiments", "get", "--tracking-uri", uri])
    assert "Give either --experiment-id or --experiment-name" in capsys.readouterr().err


def test_runs_create_and_list_outputs(uri: str) -> None:
    parent = _ok("runs", "create", "--run-name", "parent", "--tracking-uri", uri).strip()
    child = _ok(
        "runs", "create", "-x", "0", "--run-name", "child-with-a-rather-long-name-for-the-table",
        "--parent-run-id", parent, "-t", "team=ml", "--description", "hello",
        "--tracking-uri", uri,
    ).strip()  # fmt: skip
    client = mlflowx.MlflowClient(uri)
    run = client.get_run(child)
    assert run.data.tags["team"] == "ml"
    assert run.data.tags["mlflow.parentRunId"] == parent
    assert run.data.tags["mlflow.note.content"] == "hello"
    client.log_param(child, "a-long-parameter-name", "a-long-parameter-value-" * 3)
    table = _ok("runs", "list", "--tracking-uri", uri)
    # Not a terminal: the table keeps its natural width, one line per run, nothing cut.
    line = next(x for x in table.splitlines() if child in x)
    assert parent in line
    assert "a-long-parameter-value-" * 3 in line
    assert "…" not in table
    assert "start time" in table
    records = json.loads(_ok("runs", "list", "-o", "json", "--tracking-uri", uri))
    by_id = {r["run_id"]: r for r in records}
    assert by_id[child]["parent_run_id"] == parent
    assert by_id[child]["start_time"].endswith("+00:00")
    rows = list(
        csv.DictReader(io.StringIO(_ok("runs", "list", "--output", "csv", "--tracking-uri", uri)))
    )
    assert {r["run_id"] for r in rows} == {parent, child}
    ordered = json.loads(
        _ok("runs", "list", "--order-by", "attributes.run_name ASC", "-o", "json",
            "--tracking-uri", uri)
    )  # fmt: skip
    assert [r["run_id"] for r in ordered] == [child, parent]
    assert f"Run with id {child} has been deleted." in _ok(
        "runs", "delete", child, "--tracking-uri", uri
    )
    assert f"Run with id {child} has been restored." in _ok(
        "runs", "restore", child, "--tracking-uri", uri
    )


def test_runs_create_rejects_a_bad_tag(uri: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match=r"^2$"):
        main(["runs", "create", "-t", "novalue", "--tracking-uri", uri])
    assert "Invalid --tag 'novalue'" in capsys.readouterr().err


def test_mlflow_option_forms(uri: str) -> None:
    eid = _ok("experiments", "create", "-n", "forms", "--tracking-uri", uri).strip()
    assert "renamed to 'forms-2'" in _ok(
        "experiments", "rename", "--experiment-id", eid, "--new-name", "forms-2",
        "--tracking-uri", uri,
    )  # fmt: skip
    rid = _ok("runs", "create", "-x", eid, "--tracking-uri", uri).strip()
    assert json.loads(_ok("runs", "describe", "--run-id", rid, "--tracking-uri", uri))
    assert "has been deleted" in _ok("runs", "delete", "--run-id", rid, "--tracking-uri", uri)
    assert "has been restored" in _ok("runs", "restore", "--run-id", rid, "--tracking-uri", uri)
    assert "has been deleted" in _ok("experiments", "delete", "-x", eid, "--tracking-uri", uri)
    assert "has been restored" in _ok(
        "experiments", "restore", "--experiment-id", eid, "--tracking-uri", uri
    )


def test_an_id_given_twice_differently_is_a_usage_error(
    uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit, match=r"^2$"):
        main(["runs", "delete", "a" * 32, "--run-id", "b" * 32, "--tracking-uri", uri])
    assert "Give RUN_ID once" in capsys.readouterr().err
