"""``mlflowx gc``: deleted runs, experiments and logged models go, with their rows and artifacts."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

import mlflowx
from mlflowx.cli import main
from mlflowx.entities import Dataset, DatasetInput, ModelOutput
from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.tracking.gc import parse_older_than


def _gc(*args: str) -> None:
    with pytest.raises(SystemExit, match=r"^0$"):
        main(["gc", *args])


def _artifact_dir(client: mlflowx.MlflowClient, run_id: str) -> Path:
    uri = client.get_run(run_id).info.artifact_uri
    return Path(urlsplit(uri).path if uri.startswith("file:") else uri)


def _run_with_everything(client: mlflowx.MlflowClient, eid: str, tmp_path: Path) -> str:
    run = client.create_run(eid)
    rid = run.info.run_id
    client.log_metric(rid, "loss", 0.5)
    client.log_param(rid, "lr", "0.1")
    client.set_tag(rid, "team", "a")
    dataset = Dataset(name="d", digest="abc", source_type="local", source="/data")
    client.log_inputs(rid, [DatasetInput(dataset=dataset)])
    (tmp_path / "f.txt").write_text("x")
    client.log_artifact(rid, str(tmp_path / "f.txt"))
    return rid


def _child_rows(client: mlflowx.MlflowClient, run_id: str) -> int:
    store = client.store
    with store.db.read() as conn:  # type: ignore[attr-defined]
        return sum(
            conn.execute(f"SELECT COUNT(*) FROM {t} WHERE run_uuid = :id", {"id": run_id})[0][0]
            for t in ("metrics", "latest_metrics", "params", "tags", "inputs", "model_outputs")
        )


def test_gc_purges_deleted_runs_experiments_models_and_artifacts(
    tracking_uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = mlflowx.MlflowClient(tracking_uri)
    keep_eid = client.create_experiment("keep", artifact_location=str(tmp_path / "keep"))
    gone_eid = client.create_experiment("gone", artifact_location=str(tmp_path / "gone"))
    deleted = _run_with_everything(client, keep_eid, tmp_path)
    kept = _run_with_everything(client, keep_eid, tmp_path)
    in_gone = _run_with_everything(client, gone_eid, tmp_path)
    model = client.create_logged_model(keep_eid, name="m", source_run_id=deleted)
    client.log_outputs(deleted, [ModelOutput(model_id=model.model_id, step=0)])
    client.log_model_artifacts(model.model_id, str(tmp_path / "f.txt").rsplit("/", 1)[0])
    dirs = {r: _artifact_dir(client, r) for r in (deleted, kept, in_gone)}
    assert all(d.is_dir() for d in dirs.values())
    model_dir = tmp_path / "keep" / "models" / model.model_id
    assert (model_dir / "artifacts" / "f.txt").is_file()
    client.delete_run(deleted)
    client.delete_experiment(gone_eid)

    _gc("--backend-store-uri", tracking_uri)

    assert "Purged 2 run(s), 1 experiment(s)" in capsys.readouterr().out
    for gone in (deleted, in_gone):
        with pytest.raises(NotFound, match=gone):
            client.get_run(gone)
        assert not dirs[gone].exists()
        assert _child_rows(client, gone) == 0
    with pytest.raises(NotFound, match=gone_eid):
        client.get_experiment(gone_eid)
    with pytest.raises(NotFound, match=model.model_id):
        client.get_logged_model(model.model_id)
    assert not (model_dir / "artifacts").exists()
    assert client.get_run(kept).data.metrics == {"loss": 0.5}
    assert dirs[kept].is_dir()
    # Nothing left to collect: a second gc is a no-op.
    _gc("--backend-store-uri", tracking_uri)
    assert "Purged 0 run(s), 0 experiment(s) and 0 logged model(s)" in capsys.readouterr().out


def test_gc_by_ids_and_age(tracking_uri: str, tmp_path: Path) -> None:
    client = mlflowx.MlflowClient(tracking_uri)
    eid = client.create_experiment("ids", artifact_location=str(tmp_path / "ids"))
    first, second = (_run_with_everything(client, eid, tmp_path) for _ in range(2))
    client.delete_run(first)
    client.delete_run(second)
    _gc("--tracking-uri", tracking_uri, "--older-than", "1d")  # deleted just now: too young
    assert client.get_run(first).info.lifecycle_stage == "deleted"
    _gc("--tracking-uri", tracking_uri, "--run-ids", first)
    with pytest.raises(NotFound, match=first):
        client.get_run(first)
    assert client.get_run(second).info.lifecycle_stage == "deleted"
    other = client.create_experiment("other", artifact_location=str(tmp_path / "other"))
    client.delete_experiment(other)
    _gc("--tracking-uri", tracking_uri, "--experiment-ids", other)
    with pytest.raises(NotFound, match=other):
        client.get_experiment(other)
    assert client.get_run(second).info.lifecycle_stage == "deleted"


def test_gc_refuses_active_runs_and_experiments(
    tracking_uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = mlflowx.MlflowClient(tracking_uri)
    eid = client.create_experiment("active", artifact_location=str(tmp_path / "a"))
    rid = client.create_run(eid).info.run_id
    for args, what in ((["--run-ids", rid], f"Run {rid}"), (["--experiment-ids", eid], eid)):
        with pytest.raises(SystemExit, match=r"^2$"):
            main(["gc", "--backend-store-uri", tracking_uri, *args])
        err = capsys.readouterr().err
        assert what in err
        assert "not in `deleted` lifecycle stage" in err
    assert client.get_run(rid).info.lifecycle_stage == "active"


def test_gc_through_a_server_refuses_an_artifacts_destination(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The server deletes under its own destination: another one given here would be ignored,
    so it is refused before anything is sent (nothing listens on port 1)."""
    with pytest.raises(SystemExit, match=r"^2$"):
        main(["gc", "--tracking-uri", "http://127.0.0.1:1", "--artifacts-destination", "/x"])
    err = capsys.readouterr().err
    assert "--artifacts-destination is not used when gc runs through a tracking server" in err


@pytest.mark.parametrize(
    ("text", "ms"), [("30d", 30 * 86_400_000), ("1d2h3m4s", 93_784_000), ("45s", 45_000)]
)
def test_parse_older_than(text: str, ms: int) -> None:
    assert parse_older_than(text) == ms


@pytest.mark.parametrize("text", ["", "3 days", "1x", "d"])
def test_parse_older_than_rejects(text: str) -> None:
    with pytest.raises(InvalidParameter, match="Could not parse --older-than"):
        parse_older_than(text)


def test_gc_deletes_proxied_artifacts_under_the_destination(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = f"sqlite:///{tmp_path / 'p.db'}"
    client = mlflowx.MlflowClient(uri)
    eid = client.create_experiment("proxied", artifact_location="mlflow-artifacts:/proxied")
    run = client.create_run(eid)
    rid = run.info.run_id
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/proxied/")
    served = tmp_path / "served" / run.info.artifact_uri.removeprefix("mlflow-artifacts:/")
    served.mkdir(parents=True)
    (served / "model.pkl").write_bytes(b"x")
    client.delete_run(rid)
    with pytest.raises(SystemExit, match=r"^2$"):
        main(["gc", "--backend-store-uri", uri])
    assert "pass --artifacts-destination" in capsys.readouterr().err
    assert client.get_run(rid).info.lifecycle_stage == "deleted"  # nothing half-done
    _gc("--backend-store-uri", uri, "--artifacts-destination", str(tmp_path / "served"))
    assert not served.exists()
    assert (tmp_path / "served" / "proxied").is_dir()  # only the run's own folder went
