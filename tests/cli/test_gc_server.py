"""``mlflowx gc --tracking-uri http://...``: the tracking server purges deleted runs, experiments
and logged models, deleting their artifacts under its own ``--artifacts-destination``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import mlflowx
from mlflowx.cli import main
from mlflowx.exceptions import NotFound
from tests.fixtures.server import LiveServer, start_mlflowx_server


def _gc(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit, match=r"^0$"):
        main(["gc", *args])
    return capsys.readouterr().out


def _files(root: Path, ident: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and ident in str(p)]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = start_mlflowx_server(tmp_path / "server", timeout=60)
    yield live
    live.stop()


def test_gc_through_a_server_deletes_proxied_files_for_real(
    server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = mlflowx.MlflowClient(server.url)
    eid = client.create_experiment("gc-through-server")
    gone_eid = client.create_experiment("gc-gone")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "f.txt").write_text("x")
    (src / "sub" / "g.bin").write_bytes(b"y" * 1000)
    deleted, kept, in_gone = (client.create_run(e).info.run_id for e in (eid, eid, gone_eid))
    for rid in (deleted, kept, in_gone):
        client.log_artifact(rid, str(src))
    model = client.create_logged_model(eid, name="m", source_run_id=kept).model_id
    client.log_model_artifacts(model, src)
    served = server.home / "artifacts"
    assert all(_files(served, i) for i in (deleted, kept, in_gone, model))
    client.delete_run(deleted)
    client.delete_logged_model(model)
    client.delete_experiment(gone_eid)

    out = _gc(capsys, "--tracking-uri", server.url)

    assert "Purged 2 run(s), 1 experiment(s) and 1 logged model(s)" in out
    for ident in (deleted, in_gone, model):
        assert _files(served, ident) == []
    for ident, fetch in (
        (deleted, client.get_run),
        (in_gone, client.get_run),
        (model, client.get_logged_model),
    ):
        with pytest.raises(NotFound, match=ident):
            fetch(ident)
    with pytest.raises(NotFound, match=gone_eid):
        client.get_experiment(gone_eid)
    assert sorted(p.name for p in _files(served, kept)) == ["f.txt", "g.bin"]
    assert client.get_run(kept).info.lifecycle_stage == "active"
    # by id, through --backend-store-uri too; an active run is refused with MLflow's message
    with pytest.raises(SystemExit, match=r"^2$"):
        main(["gc", "--backend-store-uri", server.url, "--run-ids", kept])
    assert "not in `deleted` lifecycle stage" in capsys.readouterr().err
    assert _files(served, kept)
    client.delete_run(kept)
    out = _gc(capsys, "--backend-store-uri", server.url, "--run-ids", kept)
    assert "Purged 1 run(s), 0 experiment(s) and 0 logged model(s)" in out
    assert _files(served, kept) == []
