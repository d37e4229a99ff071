"""Every environment variable mlflowx reads or sets is declared once, in
:data:`mlflowx.settings.VARIABLES` (name, MLflow's name, type, default, what it does), and the
README's table is the one generated from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlflowx import settings

ROOT = Path(__file__).resolve().parents[1]
#: Prefixes, not variables: MLFLOWX_PARAM_<n> hands parameters to a project's command.
PREFIXES = {"MLFLOWX_", "MLFLOW_", "MLFLOWX_PARAM_"}
#: MLflow's names mlflowx sets for a project's command (for MLflow's own client in it).
SET_FOR_MLFLOW = {"MLFLOW_TRACKING_URI", "MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID"}


def _literals() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / "mlflowx").rglob("*.py"):
        for name in re.findall(r"[\"'](MLFLOWX?_[A-Z0-9_]*)[\"']", path.read_text()):
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_variable_in_the_code_is_declared() -> None:
    declared = {v.name for v in settings.VARIABLES} | {
        v.alias for v in settings.VARIABLES if v.alias
    }
    missing = {
        name: sorted(where)
        for name, where in _literals().items()
        if name not in declared | PREFIXES | SET_FOR_MLFLOW
    }
    assert missing == {}, "declare these in mlflowx.settings.VARIABLES"


def test_declared_once_and_each_documented() -> None:
    names = [v.name for v in settings.VARIABLES]
    assert len(names) == len(set(names))
    assert all(v.doc and v.group for v in settings.VARIABLES)
    used = _literals()
    unused = [v.name for v in settings.VARIABLES if v.name not in used]
    assert unused == [], "declared but never read or set: remove them"


def test_the_alias_is_read_when_ours_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOWX_TRACKING_URI", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///theirs.db")
    assert settings.env("MLFLOWX_TRACKING_URI") == "sqlite:///theirs.db"
    monkeypatch.setenv("MLFLOWX_TRACKING_URI", "sqlite:///ours.db")
    assert settings.env("MLFLOWX_TRACKING_URI") == "sqlite:///ours.db"
    with pytest.raises(KeyError, match="MLFLOWX_NOT_DECLARED"):
        settings.env("MLFLOWX_NOT_DECLARED")


def test_one_default_base_image(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflowx.docker import resolve_base_image

    monkeypatch.delenv("MLFLOWX_BASE_IMAGE", raising=False)
    assert resolve_base_image(None) == settings.DEFAULT_BASE_IMAGE == settings.base_image()
    monkeypatch.setenv("MLFLOWX_BASE_IMAGE", "mine:1")
    assert resolve_base_image(None) == "mine:1"


def test_readme_table_is_generated_from_the_declarations() -> None:
    readme = (ROOT / "README.md").read_text()
    start, end = "<!-- settings:start -->\n", "<!-- settings:end -->"
    assert start in readme, "the README needs its generated settings table"
    table = readme.split(start, 1)[1].split(end, 1)[0]
    assert table == settings.markdown_table(), (
        "regenerate the README's table: python -c 'import mlflowx.settings as s; "
        'print(s.markdown_table(), end="")\''
    )
