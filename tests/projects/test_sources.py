"""Git sources: a local repository with two commits, run at a tag, a commit, a branch."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import mlflowx
from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.projects import RunConfig, load
from mlflowx.projects.execution import execute

MLPROJECT = "name: gitproj\nentry_points:\n  main:\n    command: 'cat version.txt'\n"


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str, str]:
    """A repo whose project lives in ``sub/``; returns (repo, first commit, second commit)."""
    root = tmp_path / "repo"
    (root / "sub").mkdir(parents=True)
    _git(root, "init", "-q", "-b", "trunk")
    (root / "sub" / "MLproject").write_text(MLPROJECT)
    (root / "sub" / "version.txt").write_text("one\n")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "first")
    first = _git(root, "rev-parse", "HEAD")
    _git(root, "tag", "v1")
    (root / "sub" / "version.txt").write_text("two\n")
    _git(root, "commit", "-qam", "second")
    return root, first, _git(root, "rev-parse", "HEAD")


def _output(uri: str, version: str | None, caplog: pytest.LogCaptureFixture) -> tuple[str, str]:
    caplog.clear()
    caplog.set_level("INFO", logger="mlflowx.projects")
    out = execute(load(uri, version), "main", {}, RunConfig(env_manager="local"))
    lines = [r.getMessage() for r in caplog.records]
    return lines[-1], out["run_id"]


def test_tag_commit_and_branch(
    repo: tuple[Path, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    root, first, second = repo
    text, run_id = _output(f"{root}#sub", "v1", caplog)
    assert text == "one"
    tags = mlflowx.get_run(run_id).data.tags
    assert tags["mlflow.source.git.commit"] == first
    assert tags["mlflow.source.git.repoURL"] == str(root)
    assert tags["mlflowx.source.git.version"] == "v1"
    assert "mlflow.source.git.branch" not in tags  # a tag, not a branch
    text, run_id = _output(f"file://{root}#sub", second, caplog)
    assert text == "two"
    assert mlflowx.get_run(run_id).data.tags["mlflow.source.git.commit"] == second
    text, run_id = _output(f"{root}#sub", "trunk", caplog)
    assert text == "two"
    assert mlflowx.get_run(run_id).data.tags["mlflow.source.git.branch"] == "trunk"


def test_checkouts_are_cached_per_commit(repo: tuple[Path, str, str]) -> None:
    root, first, _ = repo
    a = load(f"{root}#sub", "v1")
    b = load(f"{root}#sub", first)
    assert a.directory == b.directory
    assert a.source.commit == first


def test_local_folder_in_a_repo_records_head(
    repo: tuple[Path, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    root, _, second = repo
    text, run_id = _output(str(root / "sub"), None, caplog)
    assert text == "two"
    assert mlflowx.get_run(run_id).data.tags["mlflow.source.git.commit"] == second


def test_unknown_version_is_not_found(repo: tuple[Path, str, str]) -> None:
    root, _, _ = repo
    with pytest.raises(NotFound, match="Cannot check out version 'nope'"):
        load(str(root), "nope")


def test_version_on_a_plain_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "MLproject").write_text(MLPROJECT)
    with pytest.raises(InvalidParameter, match="not the root of a git repository"):
        load(str(tmp_path), "v1")
