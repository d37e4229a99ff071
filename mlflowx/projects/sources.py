"""Where a project comes from: a local folder, or a git repository (local or remote) at a version.

URIs follow MLflow: ``<folder or repo>[#subdirectory]``; ``version`` is a branch, tag or commit.
Git checkouts go to ``$MLFLOWX_HOME/projects/<repo hash>-<commit>`` once per commit and are
reused, so a deployment made from them stays loadable by workers. The ``git`` command does the work.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mlflowx import settings
from mlflowx.exceptions import InvalidParameter, NotFound

__all__ = ["ProjectSource", "fetch", "git_commit", "split_subdirectory"]


@dataclass(frozen=True, slots=True)
class ProjectSource:
    uri: str
    directory: Path
    version: str | None = None
    commit: str | None = None
    repo_url: str | None = None
    #: ``version`` when it names a branch (MLflow's ``mlflow.source.git.branch`` tag).
    branch: str | None = None


def split_subdirectory(uri: str) -> tuple[str, str]:
    """``repo#sub/dir`` → (``repo``, ``sub/dir``); ``..`` and absolute paths are refused."""
    uri = uri.strip("'\"")
    base, _, sub = uri.partition("#")
    if sub:
        parts = PurePosixPath(sub).parts
        if PurePosixPath(sub).is_absolute() or ".." in parts:
            raise InvalidParameter(f"Invalid project subdirectory {sub!r} in {uri!r}")
    return base, sub


def _git(*args: str, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=600,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )  # fmt: skip
    except FileNotFoundError:
        raise InvalidParameter(
            "Git sources need the `git` command, which is not installed"
        ) from None
    if done.returncode != 0:
        raise InvalidParameter(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def git_commit(directory: Path) -> str | None:
    """HEAD of the git work tree holding ``directory``, or ``None`` outside git."""
    try:
        return _git("rev-parse", "HEAD", cwd=directory)
    except InvalidParameter:
        return None


def _repo_url(directory: Path) -> str | None:
    try:
        return _git("remote", "get-url", "origin", cwd=directory) or None
    except InvalidParameter:
        return None


def _local_path(uri: str) -> Path | None:
    path = Path(uri[len("file://") :] if uri.startswith("file://") else uri).expanduser()
    return path.resolve() if path.exists() else None


def _mlflowx_dir() -> Path:
    """``$MLFLOWX_HOME`` when set, else ``~/.mlflowx`` (never the working directory)."""
    return settings.home() if os.environ.get("MLFLOWX_HOME") else Path.home() / ".mlflowx"


def _checkout(repo: str, version: str | None) -> tuple[Path, str, str | None]:
    root = _mlflowx_dir() / "projects"
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".clone-", dir=root))
    try:
        _git("clone", "--quiet", "--no-checkout", repo, str(tmp / "repo"))
        work = tmp / "repo"
        target = version or "HEAD"
        try:
            _git("checkout", "--quiet", "--detach", target, cwd=work)
        except InvalidParameter as exc:
            raise NotFound(
                f"Cannot check out version {version!r} of git repository {repo}: {exc.message}"
            ) from None
        if (work / ".gitmodules").exists():
            _git("submodule", "update", "--init", "--recursive", cwd=work)
        commit = _git("rev-parse", "HEAD", cwd=work)
        branch = None
        if version:
            try:
                _git("rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{version}", cwd=work)
                branch = version
            except InvalidParameter:
                pass
        digest = hashlib.sha256(repo.encode()).hexdigest()[:12]
        final = root / f"{digest}-{commit[:12]}"
        if not final.exists():
            try:
                work.rename(final)
            except OSError:  # another process checked out the same commit first
                pass
        return final, commit, branch
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fetch(uri: str, version: str | None = None) -> ProjectSource:
    """Resolve ``uri`` to a local project directory, checking out git sources at ``version``."""
    base, sub = split_subdirectory(uri)
    local = _local_path(base)
    if local is not None and local.is_dir() and version is None:
        directory = local / sub if sub else local
        commit = git_commit(local)
        shown = f"{local}#{sub}" if sub else str(local)
        return ProjectSource(shown, _existing(directory, uri), None, commit, _repo_url(local))
    if local is not None and not (local / ".git").exists() and version is not None:
        raise InvalidParameter(
            f"A version ({version!r}) was given but {base} is not the root of a git repository"
        )
    repo = str(local) if local is not None else base
    if local is None and "://" not in base and "@" not in base:
        raise NotFound(f"No project at {uri!r}: not a folder, and not a git URL")
    checkout, commit, branch = _checkout(repo, version)
    directory = checkout / sub if sub else checkout
    return ProjectSource(uri, _existing(directory, uri), version, commit, repo, branch)


def _existing(directory: Path, uri: str) -> Path:
    if not directory.is_dir():
        raise NotFound(f"No project directory {directory} (from {uri!r})")
    return directory
