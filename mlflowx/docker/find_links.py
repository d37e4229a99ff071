"""The host's local wheel directories (pip's ``find-links``), for the image's wheelhouse.

Some wheels exist only on the host's disk: the CPU build of torch (``torch==2.13.0+cpu``) is not
on PyPI, and a model saved with it pins that version. The wheelhouse is made by ``pip wheel``
inside the base image, so it sees those wheels only if the directories the host's pip finds
them in are mounted there (read-only) and named in ``PIP_FIND_LINKS``.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

__all__ = ["host_find_links"]


def _pip_config_values() -> list[str]:
    try:
        listing = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    values = []
    for line in listing.splitlines():
        key, _, value = line.partition("=")
        if key.strip().endswith(".find-links"):
            values.append(value.strip().strip("'\""))
    return values


def host_find_links() -> list[Path]:
    """Local directories named by ``PIP_FIND_LINKS`` or the host's pip configuration, in order,
    without duplicates (URLs and missing paths are left out)."""
    found: list[Path] = []
    for value in [os.environ.get("PIP_FIND_LINKS", ""), *_pip_config_values()]:
        for item in shlex.split(value):
            path = Path(item.removeprefix("file://"))
            if path.is_dir() and path.resolve() not in found:
                found.append(path.resolve())
    return found
