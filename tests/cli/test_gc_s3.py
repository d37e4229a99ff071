"""``mlflowx gc`` on S3 (moto's server): the objects of deleted runs, experiments and logged
models are deleted for real, stored directly (``s3://`` locations) or through a tracking
server's proxy (``mlflow-artifacts:/`` URIs under an ``s3://`` destination); nothing else goes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

import mlflowx
from mlflowx.cli import main
from mlflowx.exceptions import NotFound
from tests.store.test_artifacts import BUCKET, moto_endpoint, s3_base

__all__ = ["moto_endpoint", "s3_base"]  # fixtures used by name

pytestmark = pytest.mark.s3


def _gc(*args: str) -> None:
    with pytest.raises(SystemExit, match=r"^0$"):
        main(["gc", *args])


def _keys(endpoint: str, prefix: str) -> list[str]:
    s3: Any = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def _populate(client: mlflowx.MlflowClient, eid: str, tmp_path: Path) -> tuple[str, str, str]:
    """Two runs with a file each, and a logged model with files; returns their ids."""
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "f.txt").write_text("x")
    (src / "sub").mkdir(exist_ok=True)
    (src / "sub" / "g.bin").write_bytes(b"y" * 1000)
    runs = []
    for _ in range(2):
        rid = client.create_run(eid).info.run_id
        client.log_artifact(rid, str(src))
        runs.append(rid)
    model = client.create_logged_model(eid, name="m", source_run_id=runs[1])
    client.log_model_artifacts(model.model_id, src)
    return runs[0], runs[1], model.model_id


def _prefix(s3_base: str, uri: str) -> str:
    return uri.removeprefix(f"s3://{BUCKET}/").rstrip("/") + "/"


def test_gc_deletes_s3_objects_of_deleted_runs_models_and_experiments(
    s3_base: str, moto_endpoint: str, tmp_path: Path
) -> None:
    uri = f"sqlite:///{tmp_path / 'gc.db'}"
    client = mlflowx.MlflowClient(uri)
    keep = client.create_experiment("keep", artifact_location=f"{s3_base}/keep")
    gone = client.create_experiment("gone", artifact_location=f"{s3_base}/gone")
    deleted, kept, model = _populate(client, keep, tmp_path)
    in_gone, _, gone_model = _populate(client, gone, tmp_path)
    run_prefix = {r: _prefix(s3_base, client.get_run(r).info.artifact_uri) for r in (deleted, kept)}
    model_prefix = _prefix(s3_base, client.get_logged_model(model).artifact_location)
    assert _keys(moto_endpoint, run_prefix[deleted])  # the files are there to begin with
    assert _keys(moto_endpoint, model_prefix)
    assert _keys(moto_endpoint, _prefix(s3_base, f"{s3_base}/gone"))
    client.delete_run(deleted)
    client.delete_logged_model(model)
    client.delete_experiment(gone)

    _gc("--backend-store-uri", uri)

    assert _keys(moto_endpoint, run_prefix[deleted]) == []
    assert _keys(moto_endpoint, model_prefix) == []
    assert _keys(moto_endpoint, _prefix(s3_base, f"{s3_base}/gone")) == []
    for what, fetch in (
        (deleted, client.get_run),
        (model, client.get_logged_model),
        (gone_model, client.get_logged_model),
        (in_gone, client.get_run),
    ):
        with pytest.raises(NotFound, match=what):
            fetch(what)
    # what was not deleted keeps every object
    assert _keys(moto_endpoint, run_prefix[kept]) == [
        f"{run_prefix[kept]}src/f.txt",
        f"{run_prefix[kept]}src/sub/g.bin",
    ]
    assert client.get_run(kept).info.lifecycle_stage == "active"


def test_gc_deletes_proxied_artifacts_under_an_s3_destination(
    s3_base: str, moto_endpoint: str, tmp_path: Path
) -> None:
    """Runs logged through a live server's proxy: gc is pointed at the server's destination."""
    from tests.fixtures.server import start_mlflowx_server

    destination = f"{s3_base}/served"
    server = start_mlflowx_server(
        tmp_path / "server",
        env={"MLFLOWX_ALLOWED_ARTIFACT_SCHEMES": "s3"},
        args=["--artifacts-destination", destination],
        timeout=60,
    )
    try:
        client = mlflowx.MlflowClient(server.url)
        eid = client.create_experiment("proxied")
        deleted, kept, model = _populate(client, eid, tmp_path)
    finally:
        server.stop()
    uri = server.backend_uri
    direct = mlflowx.MlflowClient(uri)
    assert direct.get_run(deleted).info.artifact_uri.startswith("mlflow-artifacts:/")
    served = _prefix(s3_base, destination)
    run_keys = {r: [k for k in _keys(moto_endpoint, served) if r in k] for r in (deleted, kept)}
    assert run_keys[deleted]
    assert [k for k in _keys(moto_endpoint, served) if model in k]
    direct.delete_run(deleted)
    direct.delete_logged_model(model)

    _gc("--backend-store-uri", uri, "--artifacts-destination", destination)

    left = _keys(moto_endpoint, served)
    assert not [k for k in left if deleted in k or model in k]
    assert [k for k in left if kept in k] == run_keys[kept]


def test_gc_through_the_server_deletes_objects_under_its_s3_destination(
    s3_base: str, moto_endpoint: str, tmp_path: Path
) -> None:
    """``mlflowx gc --tracking-uri http://...``: the server deletes with its own destination
    and credentials; the client passes neither."""
    from tests.fixtures.server import start_mlflowx_server

    destination = f"{s3_base}/served-gc"
    server = start_mlflowx_server(
        tmp_path / "server",
        env={"MLFLOWX_ALLOWED_ARTIFACT_SCHEMES": "s3"},
        args=["--artifacts-destination", destination],
        timeout=60,
    )
    try:
        client = mlflowx.MlflowClient(server.url)
        eid = client.create_experiment("proxied-gc")
        deleted, kept, model = _populate(client, eid, tmp_path)
        served = _prefix(s3_base, destination)
        before = _keys(moto_endpoint, served)
        assert [k for k in before if deleted in k]
        assert [k for k in before if model in k]
        client.delete_run(deleted)
        client.delete_logged_model(model)

        _gc("--tracking-uri", server.url)

        left = _keys(moto_endpoint, served)
        assert not [k for k in left if deleted in k or model in k]
        assert [k for k in left if kept in k] == [k for k in before if kept in k]
        with pytest.raises(NotFound, match=deleted):
            client.get_run(deleted)
    finally:
        server.stop()
