"""Helpers for the projects tests: writing small projects, one virtualenv cache per session."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

ProjectFactory = Callable[..., Path]


@pytest.fixture
def make_project(tmp_path: Path) -> ProjectFactory:
    """Write a project folder: ``make_project(MLproject=..., **{"file.py": text})``."""
    counter = iter(range(1000))

    def make(name: str | None = None, **files: str) -> Path:
        root = tmp_path / (name or f"project{next(counter)}")
        root.mkdir()
        for filename, text in files.items():
            path = root / filename
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"))
        return root

    return make


@pytest.fixture(scope="session")
def envs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Virtualenvs are cached here for the whole session (creating one costs seconds)."""
    return tmp_path_factory.mktemp("envs")


@pytest.fixture(autouse=True)
def _shared_envs(envs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOWX_ENVS_DIR", str(envs_dir))
