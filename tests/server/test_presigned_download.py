"""MLflow's presigned downloads (``/api/2.0/mlflow-artifacts/presigned/<path>``) and
``/api/3.0/mlflow/server-info``, which tells MLflow's client (3.17) to use them: a file is
fetched straight from S3 (moto's server) in parallel ranges; a destination that cannot presign
answers 501 with MLflow's message and is not advertised."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from mlflowx.server import create_app
from mlflowx.store.tracking.sql import SqlTrackingStore
from tests.fixtures.server import start_mlflowx_server
from tests.store.test_artifacts import moto_endpoint, s3_base

__all__ = ["moto_endpoint", "s3_base"]  # fixtures used by name

MiB = 2**20
PROXY = "/api/2.0/mlflow-artifacts/artifacts"
PRESIGNED = "/api/2.0/mlflow-artifacts/presigned"
INFO = "/api/3.0/mlflow/server-info"


def _app(tmp_path: Path, destination: str) -> Iterator[TestClient]:
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with TestClient(create_app(store, destination)) as client:
        yield client
    store.close()


@pytest.fixture
def s3_app(s3_base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("MLFLOWX_ALLOWED_ARTIFACT_SCHEMES", "s3")
    yield from _app(tmp_path, s3_base)


@pytest.fixture
def local_app(tmp_path: Path) -> Iterator[TestClient]:
    yield from _app(tmp_path, str(tmp_path / "artifacts"))


@pytest.mark.s3
def test_a_presigned_url_serves_the_file_and_its_ranges(s3_app: TestClient) -> None:
    data = os.urandom(3 * MiB + 5)
    assert s3_app.put(f"{PROXY}/1/run/artifacts/model.bin", content=data).status_code == 200

    response = s3_app.get(f"{PRESIGNED}/1/run/artifacts/model.bin")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["file_size"] == len(data)
    assert body["headers"] == {}
    whole = httpx.get(body["url"], headers=body["headers"])
    assert whole.content == data
    assert whole.headers["content-disposition"] == 'attachment; filename="model.bin"'
    part = httpx.get(body["url"], headers={"Range": f"bytes={MiB}-{2 * MiB - 1}"})
    assert part.status_code == 206
    assert part.content == data[MiB : 2 * MiB]


@pytest.mark.s3
def test_presigned_refuses_missing_files_directories_and_bad_paths(s3_app: TestClient) -> None:
    assert s3_app.put(f"{PROXY}/1/dir/f.bin", content=b"x").status_code == 200
    missing = s3_app.get(f"{PRESIGNED}/1/nothing.bin")
    assert missing.status_code == 404, missing.text
    assert s3_app.get(f"{PRESIGNED}/1/dir").status_code == 400
    assert s3_app.get(f"{PRESIGNED}/1/%2e%2e/%2e%2e/etc/passwd").status_code == 400


@pytest.mark.s3
def test_server_info_advertises_multipart_transfers_for_s3(s3_app: TestClient) -> None:
    info = s3_app.get(INFO).json()
    assert info["multipart_downloads_enabled"] is True
    assert info["multipart_uploads_enabled"] is True
    assert info["presigned_upload_run_id_supported"] is False  # that API is not served
    assert s3_app.get("/ajax-api/3.0/mlflow/server-info").json() == info


def test_a_local_destination_refuses_with_mlflows_message_and_is_not_advertised(
    local_app: TestClient,
) -> None:
    assert local_app.put(f"{PROXY}/1/f.bin", content=b"x").status_code == 200
    response = local_app.get(f"{PRESIGNED}/1/f.bin")
    assert response.status_code == 501
    assert response.json()["message"].startswith(
        "Multipart download is not supported for the current artifact repository"
    )
    info = local_app.get(INFO).json()
    assert info["multipart_downloads_enabled"] is False
    assert info["multipart_uploads_enabled"] is False


def _sha(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@pytest.mark.s3
def test_mlflows_client_downloads_straight_from_s3_when_the_server_says_so(
    s3_base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No MLflow setting: the client learns it from server-info, as against MLflow's server."""
    import mlflow
    from mlflow.store.artifact.http_artifact_repo import HttpArtifactRepository

    for name in ("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD", "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_MULTIPART_DOWNLOAD_CHUNK_SIZE", str(4 * MiB))
    ranged: list[tuple[int, int]] = []
    real = HttpArtifactRepository._multipart_download

    def spy(self: Any, presigned_response: Any, *args: Any, **kwargs: Any) -> Any:
        ranged.append((kwargs["file_size"], kwargs["chunk_size"]))
        return real(self, presigned_response, *args, **kwargs)

    monkeypatch.setattr(HttpArtifactRepository, "_multipart_download", spy)
    env = {"MLFLOWX_ALLOWED_ARTIFACT_SCHEMES": "s3"}
    args = ["--artifacts-destination", s3_base]
    server = start_mlflowx_server(tmp_path / "server", env=env, args=args, timeout=60)
    try:
        local = tmp_path / "weights.bin"
        local.write_bytes(os.urandom(11 * MiB))
        client = mlflow.MlflowClient(server.url)
        run = client.create_run(client.create_experiment(f"mpd-{uuid.uuid4().hex}"))
        client.log_artifact(run.info.run_id, str(local), "model")
        back = client.download_artifacts(run.info.run_id, "model/weights.bin", str(tmp_path))
    finally:
        server.stop()
    assert ranged == [(11 * MiB, 4 * MiB)]  # three ranges from S3, not the proxy
    assert _sha(Path(back)) == _sha(local)
