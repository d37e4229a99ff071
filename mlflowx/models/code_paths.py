"""MLflow's ``code_paths``: files and directories copied into the model's ``code`` directory.

Loading puts that directory first on ``sys.path`` (only with ``allow_code``; see
:mod:`mlflowx.models.policy`), so a pickled model finds the modules its classes come from. The
layout is MLflow's: each path is copied under its own base name (a directory as a tree, without
``__pycache__``), and the flavor's and ``python_function``'s MLmodel sections name the
directory under ``code``.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from mlflowx.exceptions import InvalidParameter

__all__ = ["CODE_DIR", "copy_code_paths"]

CODE_DIR = "code"


def copy_code_paths(code_paths: Sequence[str | Path] | None, root: Path) -> str | None:
    """Copy ``code_paths`` into ``root/code``; the directory's name in the model, or None when
    there are none."""
    if code_paths is None:
        return None
    if isinstance(code_paths, str | Path) or not isinstance(code_paths, list | tuple):
        raise InvalidParameter(
            f"code_paths must be a list of file or directory paths, got {code_paths!r}"
        )
    sources = [Path(p) for p in code_paths]
    names: dict[str, Path] = {}
    for src in sources:
        if not src.exists():
            raise InvalidParameter(f"code_paths names {str(src)!r}, which does not exist")
        name = src.resolve().name
        if name in names:
            raise InvalidParameter(
                f"code_paths names {str(names[name])!r} and {str(src)!r}, which would both be "
                f"copied to {CODE_DIR}/{name}; rename one"
            )
        names[name] = src
    target = root / CODE_DIR
    target.mkdir(parents=True, exist_ok=True)
    for name, src in names.items():
        if src.is_dir():
            shutil.copytree(src, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, target / name)
    return CODE_DIR
