"""``mlflowx artifacts``: list, download, log-artifact and log-artifacts, as MLflow's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mlflowx
from mlflowx.cli import app, main

runner = CliRunner()


@pytest.fixture
def run(tmp_path: Path) -> tuple[str, str]:
    uri = f"sqlite:///{tmp_path / 'a.db'}"
    client = mlflowx.MlflowClient(uri)
    eid = client.create_experiment("art", artifact_location=str(tmp_path / "store"))
    return uri, client.create_run(eid).info.run_id


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_log_list_and_download(run: tuple[str, str], tmp_path: Path) -> None:
    uri, rid = run
    (tmp_path / "one.txt").write_text("1")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "two.txt").write_text("22")
    out = _ok(
        "artifacts",
        "log-artifact",
        "--local-file",
        str(tmp_path / "one.txt"),
        "--run-id",
        rid,
        "--tracking-uri",
        uri,
    )
    assert "Logged artifact from local file" in out
    _ok(
        "artifacts",
        "log-artifacts",
        "--local-dir",
        str(tmp_path / "dir"),
        "--run-id",
        rid,
        "--artifact-path",
        "sub",
        "--tracking-uri",
        uri,
    )
    root = json.loads(_ok("artifacts", "list", "--run-id", rid, "--tracking-uri", uri))
    assert root == [
        {"path": "one.txt", "is_dir": False, "file_size": 1},
        {"path": "sub", "is_dir": True, "file_size": None},
    ]
    sub = json.loads(
        _ok("artifacts", "list", "-r", rid, "--artifact-path", "sub", "--tracking-uri", uri)
    )
    assert [f["path"] for f in sub] == ["sub/two.txt"]
    dst = tmp_path / "dl"
    local = _ok(
        "artifacts",
        "download",
        "--run-id",
        rid,
        "--artifact-path",
        "sub/two.txt",
        "--dst-path",
        str(dst),
        "--tracking-uri",
        uri,
    ).strip()
    assert Path(local).read_text() == "22"
    whole = _ok(
        "artifacts",
        "download",
        "--artifact-uri",
        f"runs:/{rid}/sub",
        "-d",
        str(tmp_path / "dl2"),
        "--tracking-uri",
        uri,
    ).strip()
    assert (Path(whole) / "two.txt").read_text() == "22"
    direct = _ok(
        "artifacts",
        "download",
        "--artifact-uri",
        str(tmp_path / "dir"),
        "-d",
        str(tmp_path / "dl3"),
        "--tracking-uri",
        uri,
    ).strip()
    assert (Path(direct) / "two.txt").read_text() == "22"


def test_usage_mistakes(
    run: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uri, rid = run
    with pytest.raises(SystemExit, match=r"^2$"):
        main(["artifacts", "download", "--tracking-uri", uri])
    assert "Error: Give either --run-id or --artifact-uri" in capsys.readouterr().err
    missing = runner.invoke(
        app, ["artifacts", "log-artifact", "--local-file", str(tmp_path / "nope"), "-r", rid]
    )
    assert missing.exit_code == 2
    shown = " ".join(missing.output.replace("│", " ").split())  # rich may wrap the panel
    assert "does not exist" in shown
