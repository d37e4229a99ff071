"""The proxy client survives broken transfers: a download cut in the middle goes on from where it
stopped (``Range``), and an upload retried after a cut sends the whole file again.

Transfers are cut for real: a transport between the client and the server's app raises a read
error after N bytes of a response body (or of a request body)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import fsspec
import httpx
import pytest
from fastapi.testclient import TestClient

from mlflowx.exceptions import NotFound, TemporarilyUnavailable
from mlflowx.server import create_app
from mlflowx.store.artifacts.fsspec_repo import default_storage_options
from mlflowx.store.artifacts.http import PROXY_PATH, HttpArtifactRepository
from mlflowx.store.http import HttpSession
from mlflowx.store.tracking.sql import SqlTrackingStore
from tests.store.test_artifacts import moto_endpoint, s3_base

__all__ = ["moto_endpoint", "s3_base"]  # fixtures used by name

#: Several streaming chunks (1 MiB), not a multiple of any of them.
DATA = bytes(range(256)) * (12 * 1024 + 5)


class _CutStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, after: int) -> None:
        self.inner, self.after = inner, after

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        for chunk in self.inner:
            if sent + len(chunk) > self.after:
                yield chunk[: self.after - sent]
                raise httpx.ReadError("connection cut by the test")
            sent += len(chunk)
            yield chunk


class Cutter(httpx.BaseTransport):
    """Passes requests to the app; cuts the next file downloads after the given byte counts."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.cuts: list[int] = []
        self.seen: list[tuple[str, dict[str, str], int]] = []
        self.strip_range = False
        self.before_response: Callable[[], None] = lambda: None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.strip_range:
            request.headers.pop("range", None)
        self.before_response()
        response = self.inner.handle_request(request)
        sent = {k: v for k, v in request.headers.items() if k in ("range", "if-range")}
        self.seen.append((request.method, sent, response.status_code))
        if request.method == "GET" and request.url.path != PROXY_PATH and self.cuts:
            after = self.cuts.pop(0)
            assert isinstance(response.stream, httpx.SyncByteStream)
            return httpx.Response(
                response.status_code,
                headers=response.headers,
                stream=_CutStream(response.stream, after),
                request=request,
            )
        return response


@pytest.fixture(params=["local", "memory", pytest.param("s3", marks=pytest.mark.s3)])
def destination(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A local directory (served in place by Starlette), fsspec's in-memory store and S3
    (moto's server): both streamed from the store's file object, with the store's entity tag
    (S3's ``ETag``; a modification time in memory)."""
    if request.param == "local":
        yield str(tmp_path / "proxied")
        return
    if request.param == "s3":
        monkeypatch.setenv("MLFLOWX_ALLOWED_ARTIFACT_SCHEMES", "s3")
        yield f"{request.getfixturevalue('s3_base')}/resume"
        return
    monkeypatch.setenv("MLFLOWX_ALLOWED_ARTIFACT_SCHEMES", "memory")
    root = f"memory://resume-{uuid.uuid4().hex}"
    yield root
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


@pytest.fixture
def cutter(tmp_path: Path, destination: str) -> Iterator[Cutter]:
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with TestClient(create_app(store, destination)) as app_client:
        yield Cutter(app_client._transport)
    store.close()


@pytest.fixture
def repo(cutter: Cutter) -> HttpArtifactRepository:
    client = httpx.Client(base_url="http://testserver", transport=cutter)
    session = HttpSession("http://testserver", client=client)
    session.backoff = 0.0
    return HttpArtifactRepository(f"http://testserver{PROXY_PATH}/exp", session=session)


def _download(repo: HttpArtifactRepository, tmp_path: Path) -> bytes:
    return Path(repo.download_artifacts("d/big.bin", tmp_path / "dst")).read_bytes()


def test_a_cut_download_resumes_where_it_stopped(
    repo: HttpArtifactRepository, cutter: Cutter, tmp_path: Path
) -> None:
    repo.write_bytes("d/big.bin", DATA)
    cutter.cuts = [1_000_003, 5]  # the first response, then the first resumed one
    cutter.seen.clear()

    assert _download(repo, tmp_path) == DATA

    gets = [(headers, status) for method, headers, status in cutter.seen if method == "GET"]
    # the listing, the first try, then two resumed requests: each continues the copy
    assert [status for _, status in gets[1:]] == [200, 206, 206]
    assert gets[1][0] == {}
    assert gets[2][0]["range"] == "bytes=1000003-"
    assert gets[3][0]["range"] == "bytes=1000008-"


def test_a_server_that_ignores_ranges_sends_the_whole_file_again(
    repo: HttpArtifactRepository, cutter: Cutter, tmp_path: Path
) -> None:
    """MLflow's servers may answer 200 to a range request: the copy starts over."""
    repo.write_bytes("d/big.bin", DATA)
    cutter.strip_range = True
    cutter.cuts = [700_000]
    cutter.seen.clear()

    assert _download(repo, tmp_path) == DATA
    assert [s for m, _, s in cutter.seen if m == "GET"][1:] == [200, 200]


def test_a_file_replaced_between_attempts_is_fetched_whole(
    repo: HttpArtifactRepository, cutter: Cutter, tmp_path: Path, destination: str
) -> None:
    repo.write_bytes("d/big.bin", DATA)
    newer = DATA[::-1] + b"longer"
    cutter.cuts = [2_000_000]
    calls = {"n": 0}

    def replace_after_the_first_get() -> None:
        calls["n"] += 1
        if calls["n"] == 3:  # listing, first GET, then the resumed one sees a new file
            _replace(destination, newer)

    cutter.before_response = replace_after_the_first_get
    assert _download(repo, tmp_path) == newer


def _replace(destination: str, data: bytes) -> None:
    fs, root = fsspec.core.url_to_fs(destination, **default_storage_options(destination))
    fs.pipe_file(f"{root.rstrip('/')}/exp/d/big.bin", data)


def test_a_file_replaced_by_one_of_the_same_size_is_fetched_whole(
    repo: HttpArtifactRepository, cutter: Cutter, tmp_path: Path, destination: str
) -> None:
    """Only the entity tag tells the two files apart: the resumed request carries the first
    response's as ``If-Range``, and the server, seeing another, sends the new file whole."""
    repo.write_bytes("d/big.bin", DATA)
    newer = DATA[::-1]
    assert len(newer) == len(DATA)
    assert newer != DATA
    cutter.cuts = [2_000_000]
    calls = {"n": 0}

    def replace_after_the_first_get() -> None:
        calls["n"] += 1
        if calls["n"] == 3:  # listing, first GET (cut), then the resumed one
            time.sleep(0.01)  # a modification time of its own, on coarse clocks too
            _replace(destination, newer)

    cutter.before_response = replace_after_the_first_get
    cutter.seen.clear()

    assert _download(repo, tmp_path) == newer
    gets = [(headers, status) for method, headers, status in cutter.seen if method == "GET"]
    assert gets[2][0]["range"] == "bytes=2000000-"
    assert gets[2][0]["if-range"].startswith('"')
    assert gets[2][1] == 200  # not 206: the old copy's first bytes are not kept


def test_a_resumed_download_of_an_unchanged_file_gets_only_the_rest(
    repo: HttpArtifactRepository, cutter: Cutter, tmp_path: Path
) -> None:
    """The entity tag matches: the range is honoured (206), on every store."""
    repo.write_bytes("d/big.bin", DATA)
    cutter.cuts = [1_500_000]
    cutter.seen.clear()

    assert _download(repo, tmp_path) == DATA
    gets = [(headers, status) for method, headers, status in cutter.seen if method == "GET"]
    assert [status for _, status in gets[1:]] == [200, 206]
    assert gets[2][0]["if-range"].startswith('"')


def test_a_download_cut_too_often_fails_and_leaves_no_file(
    repo: HttpArtifactRepository, cutter: Cutter, tmp_path: Path
) -> None:
    repo.write_bytes("d/big.bin", DATA)
    repo.session.max_retries = 2
    cutter.cuts = [10, 10, 10, 10]
    with pytest.raises(TemporarilyUnavailable, match=r"failed 3 times .* 30 bytes were received"):
        _download(repo, tmp_path)
    assert not (tmp_path / "dst" / "big.bin").exists()


def test_a_missing_file_is_not_found_and_leaves_no_file(
    repo: HttpArtifactRepository, tmp_path: Path
) -> None:
    repo.write_bytes("d/other.bin", b"x")
    local = tmp_path / "dst" / "big.bin"
    with pytest.raises(NotFound, match=r"big\.bin"):
        repo._download_file("d/big.bin", local)
    assert not local.exists()


class _CutUpload(httpx.BaseTransport):
    """Reads part of the first request body, then fails as a dropped connection would."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.cut = inner, True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and self.cut:
            self.cut = False
            next(iter(request.stream))  # type: ignore[call-overload]
            raise httpx.ReadError("connection cut by the test")
        return self.inner.handle_request(request)


def test_a_retried_upload_sends_the_whole_file_again(
    cutter: Cutter, tmp_path: Path, destination: str
) -> None:
    client = httpx.Client(base_url="http://testserver", transport=_CutUpload(cutter))
    session = HttpSession("http://testserver", client=client)
    session.backoff = 0.0
    repo = HttpArtifactRepository(f"http://testserver{PROXY_PATH}/exp", session=session)
    local = tmp_path / "big.bin"
    local.write_bytes(DATA)

    repo.log_artifact(local, "d")

    assert repo.read_bytes("d/big.bin") == DATA
