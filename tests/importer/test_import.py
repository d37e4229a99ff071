"""``mlflowx import`` from MLflow stores written by the real ``mlflow`` package."""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from mlflowx.cli import main
from mlflowx.entities import ViewType
from mlflowx.migration import copy as copy_module
from mlflowx.migration import import_store, open_source
from mlflowx.tracking import MlflowxClient
from tests.fixtures.env import need
from tests.fixtures.server import start_mlflow_server, start_mlflowx_server
from tests.fixtures.stores import PG_ENV
from tests.importer.mlflow_data import populate


class Interrupted(Exception):
    """Not an error the importer counts and goes on from: it stops the import."""


@pytest.fixture(
    scope="module",
    params=["sql", "file", "server", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def mlflow_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, Any]]]:
    """An MLflow store (its database, its mlruns folder, or a live ``mlflow server`` of its
    own) filled by mlflow itself."""
    root = tmp_path_factory.mktemp(f"mlflow-{request.param}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        mp.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # 3.17 refuses to write mlruns otherwise
        mp.chdir(root)  # MLflow's default artifact root (./mlruns) lands here
        (root / "work").mkdir()
        if request.param == "postgres":
            uri = _postgres_source(request.getfixturevalue("worker_id"))
            yield uri, populate(uri, root / "work")
            return
        if request.param == "server":
            server = start_mlflow_server(root / "server")
            try:
                yield server.url, populate(server.url, root / "work")
            finally:
                server.stop()
            return
        uri = f"sqlite:///{root / 'mlflow.db'}" if request.param == "sql" else str(root / "mlruns")
        written = populate(uri if request.param == "sql" else Path(uri).as_uri(), root / "work")
        yield uri, written


def _postgres_source(worker_id: str) -> str:
    """A fresh PostgreSQL database for MLflow to fill (next to the test databases)."""
    base = os.environ.get(PG_ENV)
    need(bool(base), f"PostgreSQL tests need {PG_ENV}=postgresql://user:pw@host:port/db")
    assert base is not None
    import psycopg

    parts = urlsplit(base)
    dbname = f"{parts.path.lstrip('/') or 'mlflowx_test'}_mlflowsrc_{worker_id}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
        admin.execute(f'CREATE DATABASE "{dbname}"')
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def _mlflow_client(uri: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import mlflow

    mlflow_uri = uri if uri.startswith(("sqlite", "http", "postgresql")) else Path(uri).as_uri()
    return mlflow.MlflowClient(mlflow_uri, registry_uri=mlflow_uri)


def _dest_runs(client: MlflowxClient) -> dict[str, Any]:
    runs: dict[str, Any] = {}
    for exp in client.search_experiments(ViewType.ALL):
        for run in client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL):
            source = run.data.tags.get("mlflowx.import.source_run_id")
            if source:
                assert source not in runs, f"run {source} copied twice"
                runs[source] = run
    return runs


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _same_history(theirs: list[Any], ours: list[Any]) -> None:
    key = lambda m: (m.step, m.timestamp, m.value)  # noqa: E731
    assert [(m.key, m.value, m.timestamp, m.step) for m in sorted(theirs, key=key)] == [
        (m.key, m.value, m.timestamp, m.step) for m in sorted(ours, key=key)
    ]


def _check(
    source_uri: str,
    written: dict[str, Any],
    dest: MlflowxClient,
    tmp: Path,
    same_ids: bool = True,
) -> None:
    theirs = _mlflow_client(source_uri)
    runs = _dest_runs(dest)
    every = [*written["runs"], written["deleted_run"], written["run_b"]]
    assert sorted(runs) == sorted(every)
    for exp_name in ("exp-a", "exp-b"):
        ours = dest.get_experiment_by_name(exp_name)
        assert ours is not None
        source_exp = theirs.get_experiment_by_name(exp_name)
        assert {k: v for k, v in source_exp.tags.items()}.items() <= ours.tags.items()
    for source_id in every:
        src, run = theirs.get_run(source_id), runs[source_id]
        assert (run.info.run_id == source_id) is same_ids  # a SQL destination keeps them
        assert "mlflowx.import.pending" not in run.data.tags
        assert run.info.run_name == src.info.run_name
        assert run.info.status == src.info.status
        assert (run.info.start_time, run.info.end_time) == (src.info.start_time, src.info.end_time)
        assert run.info.lifecycle_stage == src.info.lifecycle_stage
        assert run.info.user_id == src.info.user_id
        assert run.data.params == src.data.params
        assert {k: v for k, v in run.data.tags.items() if not k.startswith("mlflowx.")} == {
            k: v for k, v in src.data.tags.items()
        }
        for key in src.data.metrics:
            if key == "val_loss" and not source_uri.startswith(("sqlite", "http", "postgresql")):
                # MLflow's file store reads back its own line of a point logged with a dataset
                # ("ts value step dataset digest") as step 0; the import reads the line's step.
                (point,) = dest.get_metric_history(run.info.run_id, key)
                assert (point.value, point.timestamp, point.step) == (0.25, 1_700_000_300_000, 3)
                continue
            _same_history(
                theirs.get_metric_history(source_id, key),
                dest.get_metric_history(run.info.run_id, key),
            )
        local = Path(theirs.download_artifacts(source_id, "", str(tmp / "theirs" / source_id)))
        if _files(local):
            ours_dir = Path(dest.download_artifacts(run.info.run_id, "", tmp / "ours" / source_id))
            assert _files(ours_dir) == _files(local)
    first = runs[written["runs"][0]]
    (dataset,) = first.inputs.dataset_inputs
    assert dataset.dataset.name == "train-ds"
    assert [(t.key, t.value) for t in dataset.tags] == [("mlflow.data.context", "train")]
    # the logged model
    exp_a = dest.get_experiment_by_name("exp-a")
    (model,) = dest.search_logged_models([exp_a.experiment_id])
    assert model.tags["mlflowx.import.source_model_id"] == written["model_id"]
    assert model.params == {"alpha": "1"}
    assert model.tags["t"] == "x"
    assert model.status.value == "LOGGED_MODEL_READY"
    assert model.source_run_id == first.info.run_id
    # its metrics, on the copied runs, and the run that consumed it
    second, third = runs[written["runs"][1]], runs[written["runs"][2]]
    assert sorted(
        (m.key, m.value, m.timestamp, m.step, m.run_id, m.dataset_name, m.dataset_digest)
        for m in dest.get_logged_model(model.model_id).metrics
    ) == [
        ("val_acc", 0.9, 1_700_000_200_000, 2, first.info.run_id, None, None),
        ("val_loss", 0.25, 1_700_000_300_000, 3, second.info.run_id, "train-ds",
         written["dataset_digest"]),
    ]  # fmt: skip
    assert [m.model_id for m in third.inputs.model_inputs] == [model.model_id]
    assert first.inputs.model_inputs == []
    from mlflowx.store.artifacts import get_artifact_repository

    location = model.artifact_location
    if location.startswith("mlflow-artifacts:"):
        from mlflowx.store.artifacts.http import proxy_uri

        location = proxy_uri(dest.tracking_uri, location)
    repo = get_artifact_repository(location)
    assert repo.read_bytes("weights.bin") == b"\x00\x01weights"
    # the registry
    reg = dest.get_registered_model("reg")
    assert reg.description == "a model"
    assert reg.tags["owner"] == "me"
    v1, v2 = dest.get_model_version("reg", "1"), dest.get_model_version("reg", "2")
    assert v1.source == f"runs:/{first.info.run_id}/sub" or v1.source.startswith(
        first.info.artifact_uri
    )
    assert v1.current_stage == "Staging"
    assert v1.description == "first"
    assert v1.tags["v"] == "1"
    assert v1.run_id == first.info.run_id
    assert v2.source == f"models:/{model.model_id}"
    assert dest.get_model_version_by_alias("reg", "champion").version == v2.version


def test_import_copies_everything_and_twice_duplicates_nothing(
    mlflow_store: tuple[str, dict[str, Any]], tmp_path: Path
) -> None:
    source_uri, written = mlflow_store
    dest = MlflowxClient(f"sqlite:///{tmp_path / 'mlflowx.db'}")
    with open_source(source_uri) as source:
        first = import_store(source, dest)
        assert (first.copied["runs"], first.copied["logged models"]) == (5, 1)
        assert (first.copied["registered models"], first.copied["model versions"]) == (1, 2)
        assert not first.errors
        assert not any(first.failed.values())
        _check(source_uri, written, dest, tmp_path / "a")
        again = import_store(source, dest)
    assert sum(again.copied.values()) == 0
    assert (again.skipped["runs"], again.skipped["model versions"]) == (5, 2)
    _check(source_uri, written, dest, tmp_path / "b")
    assert len(dest.search_model_versions("name = 'reg'")) == 2


def test_import_into_an_mlflowx_server(
    mlflow_store: tuple[str, dict[str, Any]], tmp_path: Path
) -> None:
    """Through the REST API: new run ids, artifacts proxied by the destination server."""
    source_uri, written = mlflow_store
    server = start_mlflowx_server(tmp_path / "destination")
    try:
        dest = MlflowxClient(server.url)
        with open_source(source_uri) as source:
            first = import_store(source, dest)
            assert first.errors == []
            _check(source_uri, written, dest, tmp_path, same_ids=False)
            again = import_store(source, dest)
        assert sum(again.copied.values()) == 0
        _check(source_uri, written, dest, tmp_path / "again", same_ids=False)
    finally:
        server.stop()


def test_interrupted_import_resumes(
    mlflow_store: tuple[str, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source_uri, written = mlflow_store
    dest = MlflowxClient(f"sqlite:///{tmp_path / 'mlflowx.db'}")
    real = copy_module._Importer._copy_artifacts
    calls = {"n": 0}

    def crash_on_the_second_run(self: Any, source: str, target: str) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise Interrupted("stopped in the second run")  # as a Ctrl-C or a crash would
        real(self, source, target)

    monkeypatch.setattr(copy_module._Importer, "_copy_artifacts", crash_on_the_second_run)
    with pytest.raises(Interrupted, match="second run"), open_source(source_uri) as source:
        import_store(source, dest)
    assert len(_dest_runs(dest)) == 2  # one finished, one pending
    assert sum("mlflowx.import.pending" in r.data.tags for r in _dest_runs(dest).values()) == 1
    monkeypatch.setattr(copy_module._Importer, "_copy_artifacts", real)
    with open_source(source_uri) as source:
        summary = import_store(source, dest)
    assert (summary.skipped["runs"], summary.copied["runs"]) == (1, 4)
    _check(source_uri, written, dest, tmp_path)


def test_cli_import_prints_a_summary_and_refuses_other_uris(
    mlflow_store: tuple[str, dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source_uri, _ = mlflow_store
    target = f"sqlite:///{tmp_path / 'x.db'}"
    for expected in ("│      5 │       0 │", "│      0 │       5 │"):
        monkeypatch.setattr(sys, "argv", ["mlflowx", "import", source_uri, "--to", target])
        with pytest.raises(SystemExit, match=r"^0$"):
            main()
        out = capsys.readouterr().out
        runs_row = next(line for line in out.splitlines() if line.startswith("│ runs "))
        assert expected in runs_row
    monkeypatch.setattr(sys, "argv", ["mlflowx", "import", "s3://bucket/x", "--to", target])
    with pytest.raises(SystemExit, match=r"^2$"):  # InvalidParameter
        main()
    assert "Cannot import from 's3://bucket/x'" in capsys.readouterr().err


def test_nan_metric_values_survive(tmp_path: Path) -> None:
    """MLflow's SQL schema stores NaN as is_nan=1; the file store writes 'nan'."""
    from mlflowx.migration.file_source import _metric

    assert math.isnan(_metric("m", "1700000000000 nan 3").value)
    assert _metric("m", "1700000000000 1.5 3").step == 3


def test_a_run_id_taken_in_the_destination_gets_a_new_one(
    mlflow_store: tuple[str, dict[str, Any]], tmp_path: Path
) -> None:
    source_uri, written = mlflow_store
    dest = MlflowxClient(f"sqlite:///{tmp_path / 'mlflowx.db'}")
    taken = written["runs"][0]
    dest.store.create_run("0", None, None, [], "unrelated", run_id=taken)  # type: ignore[call-arg]
    with open_source(source_uri) as source:
        summary = import_store(source, dest)
    assert summary.copied["runs"] == 5
    copied = _dest_runs(dest)[taken]
    assert copied.info.run_id != taken
    assert dest.get_run(taken).info.run_name == "unrelated"
    # the registry follows the copy, not the unrelated run
    assert dest.get_model_version("reg", "1").run_id == copied.info.run_id


def test_sql_store_keeps_a_given_run_id_and_refuses_a_malformed_one(tmp_path: Path) -> None:
    from mlflowx.exceptions import AlreadyExists, InvalidParameter

    store = MlflowxClient(f"sqlite:///{tmp_path / 'x.db'}").store
    run = store.create_run("0", "me", 5, [], "r", run_id="ab" * 16)  # type: ignore[call-arg]
    assert run.info.run_id == "ab" * 16
    assert store.get_run("ab" * 16).info.user_id == "me"
    with pytest.raises(InvalidParameter, match="32 lowercase hex"):
        store.create_run("0", None, None, [], "r", run_id="../x")  # type: ignore[call-arg]
    with pytest.raises(AlreadyExists, match="already exists"):
        store.create_run("0", None, None, [], "r", run_id="ab" * 16)  # type: ignore[call-arg]
