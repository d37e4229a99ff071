"""``mlflowx doctor``: versions, URIs (passwords masked) and the store's state."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mlflowx
from mlflowx.cli import app
from mlflowx.store.sql.schema import HEAD_REVISION

runner = CliRunner()


def _doctor(*args: str) -> str:
    result = runner.invoke(app, ["doctor", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_doctor_reports_versions_and_the_schema_revision(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'd.db'}"
    assert "(no database yet" in _doctor("--tracking-uri", uri)
    assert not (tmp_path / "d.db").exists()  # doctor never creates the store
    mlflowx.MlflowClient(uri).create_experiment("x")
    out = _doctor("--tracking-uri", uri)
    assert re.search(rf"^mlflowx: +{re.escape(mlflowx.__version__)}$", out, re.M)
    assert re.search(r"^prefect: +\d", out, re.M)
    assert re.search(rf"^tracking URI: +{re.escape(uri)}$", out, re.M)
    assert re.search(rf"^schema revision: +{HEAD_REVISION} \(up to date\)$", out, re.M)


def test_doctor_masks_passwords_and_reports_an_unreachable_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOWX_TRACKING_URI", "http://user:s3cret@127.0.0.1:1")
    out = _doctor()
    assert "s3cret" not in out
    assert "http://user:***@127.0.0.1:1" in out
    assert re.search(r"^tracking server: +unreachable", out, re.M)
    assert re.search(r"^MLFLOWX_TRACKING_URI: +\*\*\*$", _doctor("--mask-envs"), re.M)
