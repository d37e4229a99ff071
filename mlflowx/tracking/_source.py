"""System tags MLflow sets on every run: who, from which script, at which git commit."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (some containers)
        return os.environ.get("USER", "unknown")


def _git_commit(start: Path) -> str | None:
    """Read HEAD without running git (a subprocess would cost more than the whole run start)."""
    for folder in (start, *start.parents):
        git = folder / ".git"
        if git.is_file():  # worktree or submodule: "gitdir: <path>"
            text = git.read_text().strip()
            if text.startswith("gitdir:"):
                git = (folder / text.split(":", 1)[1].strip()).resolve()
        if git.is_dir():
            try:
                head = (git / "HEAD").read_text().strip()
                if not head.startswith("ref:"):
                    return head
                ref = head.split(":", 1)[1].strip()
                ref_file = git / ref
                if ref_file.is_file():
                    return ref_file.read_text().strip()
                packed = git / "packed-refs"
                if packed.is_file():
                    for line in packed.read_text().splitlines():
                        if line.endswith(" " + ref):
                            return line.split(" ", 1)[0]
            except OSError:
                return None
            return None
    return None


def source_tags() -> dict[str, str]:
    script = sys.argv[0] if sys.argv and sys.argv[0] else "<console>"
    tags = {
        "mlflow.user": _user(),
        "mlflow.source.name": script
        if script in ("-c", "<console>")
        else str(Path(script).resolve()),
        "mlflow.source.type": "LOCAL",
    }
    commit = _git_commit(
        Path(script).resolve().parent if script not in ("-c", "<console>") else Path.cwd()
    )
    if commit:
        tags["mlflow.source.git.commit"] = commit
    return tags
