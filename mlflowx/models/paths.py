"""File paths read from an MLmodel: always inside the model directory.

An MLmodel names the files a flavor reads (``pickled_model``, ``model_path``, ``python_model``,
``artifacts.<name>.path``, ``code``, the input example ...). The file comes with the model, so
a crafted one could name ``../../home/me/.ssh/id_rsa``, ``/etc/passwd``, or a symlink out of
the directory. Every flavor resolves those names through :func:`model_file`.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath

from mlflowx.exceptions import InvalidParameter

__all__ = ["check_links", "model_file"]


def model_file(root: str | Path, value: object, field: str) -> Path:
    """``root / value``, where ``value`` is the relative path the MLmodel field ``field``
    holds; it must stay inside the model directory ``root``.

    Refused: anything but a non-empty string, absolute paths (POSIX or Windows), ``..``
    components, and paths that resolve outside ``root`` through a symlink (the file's own, or
    a directory's on the way).

    Raises:
        InvalidParameter: naming the field, the value and the model directory.
    """
    root = Path(root)

    def refuse(why: str) -> InvalidParameter:
        return InvalidParameter(
            f"The MLmodel of the model at {root} sets {field} to {value!r}, which {why}; a "
            "model's files must be named by relative paths inside its directory"
        )

    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise refuse("is not a file name")
    posix, windows = PurePosixPath(value), PureWindowsPath(value)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or windows.root:
        raise refuse("is an absolute path")
    if ".." in posix.parts or ".." in windows.parts:
        raise refuse("climbs out of the model directory with '..'")
    path = root / posix
    base = root.resolve()
    if not path.resolve().is_relative_to(base):
        raise refuse(f"resolves (through a symlink) to {path.resolve()}, outside {base}")
    return path


def check_links(root: str | Path) -> None:
    """Refuse a model directory holding a symlink that resolves outside it (copying the
    directory, into an image say, would copy the file it points at).

    Raises:
        InvalidParameter: naming the link and where it points.
    """
    root = Path(root)
    base = root.resolve()
    for folder, dirs, files in os.walk(root):  # symlinked directories are listed, not entered
        for name in [*dirs, *files]:
            path = Path(folder) / name
            if path.is_symlink() and not path.resolve().is_relative_to(base):
                raise InvalidParameter(
                    f"The model at {root} holds {path.relative_to(root)}, a symlink to "
                    f"{path.resolve()}, outside the model directory; a model's files must be "
                    "inside it"
                )
