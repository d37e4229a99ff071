"""MLflow's stores are refused where mlflowx would open them, with the way to import them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import mlflowx
from mlflowx.cli import main
from mlflowx.exceptions import InvalidParameter, InvalidState
from mlflowx.store.tracking import tracking_stores
from mlflowx.tracking import MlflowxClient
from tests.importer.conftest import copy_db


@pytest.mark.parametrize("uri", ["./mlruns", "mlruns", "file:./mlruns", "file:///tmp/mlruns"])
def test_file_store_uris_are_refused_and_point_to_import(
    uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path / "home")
    with pytest.raises(InvalidParameter, match=r"names a folder .*mlflowx import .*mlruns --to"):
        mlflowx.set_tracking_uri(uri)
    with pytest.raises(InvalidParameter, match="mlflowx import"):
        MlflowxClient(uri)
    with pytest.raises(InvalidParameter, match="mlflowx import"):
        tracking_stores.resolve(uri)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    with pytest.raises(InvalidParameter, match="mlflowx import"):
        mlflowx.log_metric("m", 1.0)
    assert list((tmp_path / "home").iterdir()) == []  # no "file:." folder, no database


def _main(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> int:
    monkeypatch.setattr(sys, "argv", ["mlflowx", *argv])
    with pytest.raises(SystemExit, match=r"^\d+$") as info:
        main()
    return int(info.value.code or 0)


def test_cli_refuses_a_file_store_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path / "home")
    assert _main(monkeypatch, ["runs", "list", "--tracking-uri", "file:./mlruns"]) != 0
    err = capsys.readouterr().err
    assert "Error: The tracking URI 'file:./mlruns' names a folder" in err
    assert "mlflowx import ./mlruns" in err
    assert "Traceback" not in err
    assert list((tmp_path / "home").iterdir()) == []


def test_mlflow_database_is_refused_by_the_stores_and_db_upgrade(
    empty_mlflow_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    uri = f"sqlite:///{copy_db(empty_mlflow_db, tmp_path / 'mlflow.db')}"
    with pytest.raises(InvalidState, match=r"is an MLflow database .*mlflowx import sqlite:///"):
        MlflowxClient(uri).search_experiments()
    with pytest.raises(InvalidState, match="is an MLflow database"):
        MlflowxClient(uri).search_registered_models()
    assert _main(monkeypatch, ["db", "upgrade", uri]) != 0
    err = capsys.readouterr().err
    assert f"Error: The database {uri} is an MLflow database" in err
    assert f"mlflowx import {uri} --to" in err
    assert "Traceback" not in err
    assert "alembic" not in err.lower()


def test_db_current_names_an_mlflow_database_and_the_way_to_import_it(
    empty_mlflow_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = f"sqlite:///{empty_mlflow_db}"
    assert _main(monkeypatch, ["db", "current", uri]) == 0
    out = capsys.readouterr().out
    assert "mlflowx needs: " in out
    assert f"Note: The database {uri} is an MLflow database" in out
    assert f"mlflowx import {uri} --to" in out
