"""Large artifacts into S3 (moto's server): the proxy streams an upload into a multipart upload,
and MLflow's client uploads parts straight to S3 through ``mlflow-artifacts/mpu`` (or falls
back to the proxy where the destination cannot presign)."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from fastapi.testclient import TestClient

from mlflowx.server import create_app
from mlflowx.store.tracking.sql import SqlTrackingStore
from tests.fixtures.server import start_mlflowx_server
from tests.store.test_artifacts import BUCKET, moto_endpoint, s3_base

__all__ = ["moto_endpoint", "s3_base"]  # fixtures used by name

pytestmark = pytest.mark.s3
MiB = 2**20
PROXY = "/api/2.0/mlflow-artifacts/artifacts"
MPU = "/api/2.0/mlflow-artifacts/mpu"


def _s3(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _key(s3_base: str, path: str) -> str:
    return f"{s3_base.removeprefix(f's3://{BUCKET}/')}/{path}"


@pytest.fixture
def app(s3_base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("MLFLOWX_ALLOWED_ARTIFACT_SCHEMES", "s3")
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with TestClient(create_app(store, s3_base, max_artifact_bytes=30 * MiB)) as client:
        yield client
    store.close()


def _upload_parts(credentials: list[dict[str, Any]], data: bytes, size: int) -> list[Any]:
    parts = []
    for cred in credentials:
        n = cred["part_number"]
        chunk = data[(n - 1) * size : n * size]
        response = httpx.put(cred["url"], content=chunk, headers=cred.get("headers") or {})
        assert response.status_code == 200, response.text
        parts.append({"part_number": n, "etag": response.headers["ETag"]})
    return parts


def test_create_complete_publishes_the_parts(
    app: TestClient, s3_base: str, moto_endpoint: str
) -> None:
    data = os.urandom(11 * MiB)
    created = app.post(
        f"{MPU}/create/1/run/artifacts", json={"path": "/home/me/../me/model.bin", "num_parts": 3}
    )
    assert created.status_code == 200, created.text
    body = created.json()
    assert [c["part_number"] for c in body["credentials"]] == [1, 2, 3]
    parts = _upload_parts(body["credentials"], data, 5 * MiB)

    done = app.post(
        f"{MPU}/complete/1/run/artifacts",
        json={"path": "model.bin", "upload_id": body["upload_id"], "parts": parts[::-1]},
    )

    assert done.status_code == 200, done.text
    assert app.get(f"{PROXY}/1/run/artifacts/model.bin").content == data


def test_abort_throws_the_upload_away(app: TestClient, s3_base: str, moto_endpoint: str) -> None:
    body = app.post(f"{MPU}/create/1/a", json={"path": "f.bin", "num_parts": 1}).json()
    aborted = app.post(f"{MPU}/abort/1/a", json={"path": "f.bin", "upload_id": body["upload_id"]})
    assert aborted.status_code == 200, aborted.text
    uploads = _s3(moto_endpoint).list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    assert body["upload_id"] not in [u["UploadId"] for u in uploads]
    again = app.post(f"{MPU}/abort/1/a", json={"path": "f.bin", "upload_id": "no-such-upload"})
    assert again.status_code == 404, again.text
    assert "No multipart upload 'no-such-upload' of '1/a/f.bin'" in again.json()["message"]


def test_a_completed_upload_over_the_limit_is_deleted(
    app: TestClient, s3_base: str, moto_endpoint: str
) -> None:
    size = 16 * MiB
    data = os.urandom(MiB) * 32  # the server's limit is 30 MiB
    body = app.post(f"{MPU}/create/1/b", json={"path": "huge.bin", "num_parts": 2}).json()
    parts = _upload_parts(body["credentials"], data, size)
    done = app.post(
        f"{MPU}/complete/1/b",
        json={"path": "huge.bin", "upload_id": body["upload_id"], "parts": parts},
    )
    assert done.status_code == 413, done.text
    assert "upload limit of 31457280 bytes" in done.json()["message"]
    assert app.get(f"{PROXY}/1/b/huge.bin").status_code == 404


@pytest.mark.parametrize(
    ("url", "body", "status"),
    [
        (f"{MPU}/create/1/a", {"path": "f", "num_parts": 0}, 400),
        (f"{MPU}/create/1/a", {"path": "f", "num_parts": 10_001}, 400),
        (f"{MPU}/create/1/a", {"path": "dir/", "num_parts": 1}, 400),
        (f"{MPU}/create/1/%2e%2e/x", {"path": "f", "num_parts": 1}, 400),
        (f"{MPU}/complete/1/a", {"path": "f", "upload_id": "u", "parts": []}, 400),
    ],
)
def test_bad_requests_are_refused(
    app: TestClient, url: str, body: dict[str, Any], status: int
) -> None:
    response = app.post(url, json=body)
    assert response.status_code == status, response.text


def test_a_local_destination_refuses_with_mlflows_message(tmp_path: Path) -> None:
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with TestClient(create_app(store, str(tmp_path / "artifacts"))) as client:
        response = client.post(f"{MPU}/create/1/a", json={"path": "f.bin", "num_parts": 2})
    store.close()
    assert response.status_code == 501
    assert response.json()["message"].startswith(
        "Multipart upload is not supported for the current artifact repository"
    )


# ---------------------------------------------------------------- MLflow's own client
def _sha(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@pytest.fixture
def mlflow_multipart(monkeypatch: pytest.MonkeyPatch) -> None:
    """MLflow's client sends files of 1 byte or more in 5 MiB parts (S3's smallest)."""
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", "1")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 * MiB))


@pytest.mark.parametrize("destination", ["s3", "local"])
def test_mlflows_client_with_proxy_multipart_upload(
    destination: str,
    s3_base: str,
    moto_endpoint: str,
    tmp_path: Path,
    mlflow_multipart: None,
) -> None:
    import mlflow

    args = []
    env = {"MLFLOWX_ALLOWED_ARTIFACT_SCHEMES": "s3"}
    if destination == "s3":
        args = ["--artifacts-destination", s3_base]
    server = start_mlflowx_server(tmp_path / "server", env=env, args=args, timeout=60)
    try:
        local = tmp_path / "weights.bin"
        local.write_bytes(os.urandom(11 * MiB))
        client = mlflow.MlflowClient(server.url)
        eid = client.create_experiment(f"mpu-{uuid.uuid4().hex}")
        run = client.create_run(eid)
        client.log_artifact(run.info.run_id, str(local), "model")
        back = client.download_artifacts(run.info.run_id, "model/weights.bin", str(tmp_path))
        # (local: the store cannot presign, the client fell back to the proxy on the 501)
        assert _sha(Path(back)) == _sha(local)
    finally:
        server.stop()
    if destination == "s3":
        # three 5 MiB parts straight to S3: the proxy would have sent one 16 MiB part
        key = _key(s3_base, f"{eid}/{run.info.run_id}/artifacts/model/weights.bin")
        head = _s3(moto_endpoint).head_object(Bucket=BUCKET, Key=key)
        assert head["ETag"].strip('"').endswith("-3")


def test_the_proxy_streams_a_large_upload_into_a_multipart_upload(
    s3_base: str, moto_endpoint: str, tmp_path: Path
) -> None:
    """mlflowx's client through a live server (a real socket hands the body over in pieces)."""
    from mlflowx.store.artifacts.http import HttpArtifactRepository

    env = {"MLFLOWX_ALLOWED_ARTIFACT_SCHEMES": "s3"}
    args = ["--artifacts-destination", s3_base]
    server = start_mlflowx_server(tmp_path / "server", env=env, args=args, timeout=60)
    try:
        local = tmp_path / "big.bin"
        local.write_bytes(os.urandom(MiB) * 20)  # announced: 8 MiB parts (memory ~2.5x that)
        repo = HttpArtifactRepository(f"{server.url}{PROXY}/1")
        repo.log_artifact(local)
        back = Path(repo.download_artifacts("big.bin", tmp_path / "back"))
    finally:
        server.stop()
    head = _s3(moto_endpoint).head_object(Bucket=BUCKET, Key=_key(s3_base, "1/big.bin"))
    assert head["ETag"].strip('"').endswith("-3")  # S3's mark of a 3-part upload
    assert head["ContentLength"] == local.stat().st_size
    assert _sha(back) == _sha(local)
