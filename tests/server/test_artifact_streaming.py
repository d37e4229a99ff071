"""The artifact proxy streams: downloads read the store's file in place (no temporary copy),
uploads are written to the store as they arrive, and the upload limit is enforced while reading
(413, nothing left behind). Local directories and an fsspec store (``memory://``) alike."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fsspec
import httpx
import pytest
from fastapi.testclient import TestClient

from mlflowx.server import create_app
from mlflowx.server.app import DEFAULT_MAX_ARTIFACT_BYTES
from mlflowx.store.tracking.sql import SqlTrackingStore
from tests.fixtures.server import start_mlflowx_server

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
A = "/api/2.0/mlflow"
LIMIT = 64 * 1024
#: Larger than the streaming chunk (1 MiB), so downloads take several reads.
BIG = bytes(range(256)) * (10 * 1024 + 7)


@pytest.fixture(params=["local", "memory"])
def destination(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    if request.param == "local":
        yield str(tmp_path / "proxied")
        return
    # fsspec's in-memory store stands for an object store; operators allow such schemes.
    monkeypatch.setenv("MLFLOWX_ALLOWED_ARTIFACT_SCHEMES", "memory")
    root = f"memory://streams-{uuid.uuid4().hex}"
    yield root
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


def make_client(tmp_path: Path, destination: str, limit: int) -> Iterator[TestClient]:
    store = SqlTrackingStore(
        f"sqlite:///{tmp_path / 'db.sqlite'}", default_artifact_root="mlflow-artifacts:/"
    )
    app = create_app(store, destination, max_artifact_bytes=limit)
    with TestClient(app) as client:
        yield client
    store.close()


@pytest.fixture
def client(tmp_path: Path, destination: str) -> Iterator[TestClient]:
    """A big upload limit: for the download tests."""
    yield from make_client(tmp_path, destination, DEFAULT_MAX_ARTIFACT_BYTES)


@pytest.fixture
def limited(tmp_path: Path, destination: str) -> Iterator[TestClient]:
    yield from make_client(tmp_path, destination, LIMIT)


@pytest.fixture
def no_temp_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every way of making a temporary file or directory is recorded (and still works)."""
    made: list[str] = []

    def spy(name: str) -> Callable[..., Any]:
        real = getattr(tempfile, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            made.append(name)
            return real(*args, **kwargs)

        return wrapper

    for name in (
        "mkdtemp",
        "mkstemp",
        "NamedTemporaryFile",
        "TemporaryFile",
        "SpooledTemporaryFile",
        "TemporaryDirectory",
    ):
        monkeypatch.setattr(tempfile, name, spy(name))
    return made


def stored(destination: str, name: str) -> bytes | None:
    fs, root = fsspec.core.url_to_fs(destination)
    path = f"{root.rstrip('/')}/{name}"
    return bytes(fs.cat_file(path)) if fs.exists(path) else None


def leftovers(destination: str) -> list[str]:
    """Every file under the destination (a partial or temporary file would show here)."""
    fs, root = fsspec.core.url_to_fs(destination)
    return sorted(str(p) for p in fs.find(root)) if fs.exists(root) else []


def refused(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"}
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    return str(body["message"])


# ------------------------------------------------------------------------------ downloads
def test_download_streams_without_a_temporary_copy(
    client: TestClient, destination: str, no_temp_files: list[str]
) -> None:
    assert client.put(f"{PROXY}/d/big.bin", content=BIG).status_code == 200
    assert stored(destination, "d/big.bin") == BIG  # written in place, not via a temp copy
    response = client.get(f"{PROXY}/d/big.bin")
    assert response.status_code == 200
    assert response.content == BIG
    assert response.headers["content-length"] == str(len(BIG))
    assert response.headers["accept-ranges"] == "bytes"
    assert no_temp_files == []


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 10),
        ("bytes=1048570-1048589", 1048570, 1048590),  # across a chunk boundary
        ("bytes=100-", 100, len(BIG)),
        ("bytes=-25", len(BIG) - 25, len(BIG)),
        ("bytes=5-99999999999", 5, len(BIG)),
    ],
)
def test_byte_ranges(
    client: TestClient, no_temp_files: list[str], header: str, start: int, end: int
) -> None:
    assert client.put(f"{PROXY}/big.bin", content=BIG).status_code == 200
    response = client.get(f"{PROXY}/big.bin", headers={"Range": header})
    assert response.status_code == 206, response.text
    assert response.content == BIG[start:end]
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{len(BIG)}"
    assert response.headers["content-length"] == str(end - start)
    assert no_temp_files == []


def test_a_range_past_the_end_is_not_satisfiable(client: TestClient) -> None:
    assert client.put(f"{PROXY}/small.txt", content=b"0123456789").status_code == 200
    response = client.get(f"{PROXY}/small.txt", headers={"Range": "bytes=10-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */10"


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=5-2", "items=0-1", f"bytes={'9' * 5000}-"])
def test_a_range_that_cannot_be_honoured_sends_the_whole_file(
    client: TestClient, destination: str, header: str
) -> None:
    assert client.put(f"{PROXY}/small.txt", content=b"0123456789").status_code == 200
    response = client.get(f"{PROXY}/small.txt", headers={"Range": header})
    if destination.startswith("memory://"):
        assert response.status_code == 200, response.text
    else:  # Starlette's FileResponse answers some of these 400 itself; never a 5xx
        assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        assert response.content == b"0123456789"


def test_get_artifact_previews_stream_with_the_sandbox_headers(
    client: TestClient, no_temp_files: list[str]
) -> None:
    run = client.post(f"{A}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]
    root = run["artifact_uri"].removeprefix("mlflow-artifacts:")
    page = b"<script>alert(1)</script>" + b"x" * 2_000_000
    assert client.put(f"{PROXY}{root}/report.html", content=page).status_code == 200
    params = {"run_uuid": run["run_id"], "path": "report.html"}
    response = client.get("/get-artifact", params=params)
    assert response.status_code == 200
    assert response.content == page
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-security-policy"] == "sandbox"
    assert response.headers["x-content-type-options"] == "nosniff"
    ranged = client.get("/get-artifact", params=params, headers={"Range": "bytes=0-7"})
    assert ranged.status_code == 206
    assert ranged.content == b"<script>"
    assert ranged.headers["content-security-policy"] == "sandbox"
    missing = client.get("/get-artifact", params={**params, "path": "nope.txt"})
    assert missing.status_code == 404
    assert "nope.txt" in missing.json()["message"]
    assert no_temp_files == []


# ------------------------------------------------------------------------------ uploads
def test_an_upload_within_the_limit_is_written_without_a_temporary_copy(
    limited: TestClient, destination: str, no_temp_files: list[str]
) -> None:
    body = b"a" * LIMIT
    assert limited.put(f"{PROXY}/ok/exact.bin", content=body).status_code == 200
    assert stored(destination, "ok/exact.bin") == body
    assert leftovers(destination) == [p for p in leftovers(destination) if p.endswith("exact.bin")]
    assert no_temp_files == []


def test_an_upload_announcing_more_than_the_limit_is_refused_before_reading(
    limited: TestClient, destination: str
) -> None:
    message = refused(limited.put(f"{PROXY}/too/big.bin", content=b"b" * (LIMIT + 1)), 413)
    assert f"upload limit of {LIMIT} bytes" in message
    assert "--max-artifact-size" in message
    assert leftovers(destination) == []


def test_a_chunked_upload_is_counted_as_it_arrives(
    limited: TestClient, destination: str, no_temp_files: list[str]
) -> None:
    def body() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding: chunked
        for _ in range(8):
            yield b"c" * (LIMIT // 4)

    message = refused(limited.put(f"{PROXY}/too/chunked.bin", content=body()), 413)
    assert f"upload limit of {LIMIT} bytes" in message
    assert leftovers(destination) == []  # the partial file was discarded
    assert no_temp_files == []


def test_a_refused_upload_keeps_the_file_it_would_have_replaced(
    limited: TestClient, destination: str
) -> None:
    assert limited.put(f"{PROXY}/keep.txt", content=b"original").status_code == 200

    def body() -> Iterator[bytes]:
        for _ in range(8):
            yield b"x" * (LIMIT // 4)

    refused(limited.put(f"{PROXY}/keep.txt", content=body()), 413)
    assert stored(destination, "keep.txt") == b"original"
    assert [Path(p).name for p in leftovers(destination)] == ["keep.txt"]


def test_the_server_command_sets_the_upload_limit(tmp_path: Path) -> None:
    server = start_mlflowx_server(tmp_path / "srv", env={"MLFLOWX_MAX_ARTIFACT_SIZE": "1K"})
    try:
        url = f"{server.url}{PROXY}/limit"
        assert httpx.put(f"{url}/fits.bin", content=b"f" * 1024).status_code == 200
        response = httpx.put(f"{url}/over.bin", content=b"o" * 1025)
        assert "upload limit of 1024 bytes" in refused(response, 413)
        assert not (tmp_path / "srv" / "artifacts" / "limit" / "over.bin").exists()
    finally:
        server.stop()


def test_the_server_command_refuses_a_bad_size(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mlflowx.cli import app

    result = CliRunner().invoke(app, ["server", "--max-artifact-size", "lots"])
    assert result.exit_code == 2
    assert "Invalid size 'lots'" in result.output
