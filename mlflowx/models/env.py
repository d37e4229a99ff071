"""What a saved model needs to run: requirements.txt, python_env.yaml and conda.yaml.

Requirements are inferred from the modules the model's objects come from, pinned to the installed
versions. They describe the model, not a serving runtime (images add mlflowx themselves).
"""

from __future__ import annotations

import functools
import importlib.metadata as md
import platform
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "REQUIREMENTS_FILE",
    "distributions_for_modules",
    "pinned",
    "write_environment",
]

REQUIREMENTS_FILE = "requirements.txt"
PYTHON_ENV_FILE = "python_env.yaml"
CONDA_ENV_FILE = "conda.yaml"
# Modules of the standard library and of mlflowx itself never become requirements.
_SKIP = {"builtins", "__main__", "mlflowx", "mlflow"}


def pinned(distribution: str) -> str:
    """``name==installed-version`` (the name as given when not installed)."""
    try:
        return f"{distribution}=={md.version(distribution)}"
    except md.PackageNotFoundError:
        return distribution


@functools.lru_cache(maxsize=1)
def _packages_distributions() -> dict[str, list[str]]:
    # Scans every installed distribution's files (seconds on a big venv): once per process.
    return dict(md.packages_distributions())


def distributions_for_modules(modules: Iterable[str]) -> set[str]:
    """Top-level modules -> the installed distributions that provide them (stdlib skipped)."""
    mapping = _packages_distributions()
    stdlib = set(sys.stdlib_module_names)
    found: set[str] = set()
    for module in modules:
        top = module.split(".", 1)[0]
        if top in _SKIP or top in stdlib or top.startswith("_"):
            continue
        for dist in mapping.get(top, []):
            found.add(dist)
    return found


def _normalise(requirement: str) -> str:
    return requirement.split("==", 1)[0].split(">", 1)[0].split("<", 1)[0].strip().lower()


def write_environment(
    path: Path,
    requirements: Iterable[str],
    extra_requirements: Iterable[str] = (),
) -> list[str]:
    """Write the three environment files into the model directory; returns the requirements."""
    import yaml

    reqs: dict[str, str] = {}
    for req in [*requirements, *extra_requirements]:
        reqs[_normalise(req)] = req  # later entries (extras) override inferred pins
    lines = sorted(reqs.values(), key=str.lower)
    (path / REQUIREMENTS_FILE).write_text("\n".join(lines) + ("\n" if lines else ""))
    python = platform.python_version()
    build = [pinned("pip"), pinned("setuptools"), pinned("wheel")]
    python_env: dict[str, Any] = {
        "python": python,
        "build_dependencies": build,
        "dependencies": [f"-r {REQUIREMENTS_FILE}"],
    }
    (path / PYTHON_ENV_FILE).write_text(yaml.safe_dump(python_env, sort_keys=False))
    conda: dict[str, Any] = {
        "name": "mlflow-env",
        "channels": ["conda-forge"],
        "dependencies": [f"python={python}", build[0].replace("==", "<="), {"pip": lines}],
    }
    (path / CONDA_ENV_FILE).write_text(yaml.safe_dump(conda, sort_keys=False))
    return lines
