"""The proxy reads an S3 object through one streaming GET (not one ranged GET per block), from
where it is positioned, pinned to the version it was opened at; it writes one as a multipart
upload with several parts on their way at once, published only when complete (moto's server)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from mlflowx.store.artifacts import get_artifact_repository
from mlflowx.store.artifacts.s3_stream import S3ObjectReader, S3ObjectWriter
from tests.store.test_artifacts import moto_endpoint, s3_base

__all__ = ["moto_endpoint", "s3_base"]  # fixtures used by name

pytestmark = pytest.mark.s3
MiB = 1 << 20


@pytest.fixture
def gets(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The position each GET the reader sends starts at."""
    starts: list[int] = []
    real = S3ObjectReader._open

    def spy(self: S3ObjectReader) -> Any:
        starts.append(self.tell())
        return real(self)

    monkeypatch.setattr(S3ObjectReader, "_open", spy)
    return starts


def test_a_whole_file_is_one_get(s3_base: str, gets: list[int]) -> None:
    repo = get_artifact_repository(f"{s3_base}/stream")
    data = os.urandom(MiB) * 20
    repo.write_bytes("big.bin", data)
    handle, etag = repo.open_versioned("big.bin")
    with handle:
        assert handle.seek(0, 2) == len(data)
        handle.seek(0)
        received = bytearray()
        while chunk := handle.read(MiB):
            received += chunk
    assert bytes(received) == data
    assert gets == [0]
    assert etag is not None
    assert etag.startswith('"')


def test_a_seek_reopens_at_the_new_position(s3_base: str, gets: list[int]) -> None:
    repo = get_artifact_repository(f"{s3_base}/stream")
    data = os.urandom(3 * MiB + 7)
    repo.write_bytes("f.bin", data)
    with repo.open_artifact("f.bin") as handle:
        handle.seek(2 * MiB)
        assert handle.read() == data[2 * MiB :]
        handle.seek(5)
        assert handle.read(10) == data[5:15]
    assert gets == [2 * MiB, 5]


def test_a_replaced_object_fails_the_read_instead_of_mixing_files(s3_base: str) -> None:
    repo = get_artifact_repository(f"{s3_base}/stream")
    data = os.urandom(2 * MiB)
    repo.write_bytes("f.bin", data)
    with repo.open_artifact("f.bin") as handle:
        assert handle.read(100) == data[:100]
        repo.write_bytes("f.bin", data[::-1])  # same size, other content
        handle.seek(MiB)  # the next read sends another GET, with If-Match
        with pytest.raises(OSError, match="pre-conditions"):
            handle.read(10)


# -- writing: a multipart upload whose parts are sent while the next one fills ------------------


def _s3(repo: Any) -> tuple[Any, str]:
    """The repository's s3fs filesystem and the bucket/prefix it writes under."""
    return repo.fs, repo._root


def _object(fs: Any, path: str) -> dict[str, Any]:
    bucket, key, _ = fs.split_path(path)
    answer: dict[str, Any] = fs.call_s3("head_object", Bucket=bucket, Key=key)
    return answer


def _open_uploads(fs: Any, path: str) -> list[Any]:
    bucket, key, _ = fs.split_path(path)
    answer = fs.call_s3("list_multipart_uploads", Bucket=bucket, Prefix=key)
    return list(answer.get("Uploads", []))


def test_a_large_file_goes_up_in_parts_several_at_once(
    s3_base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = get_artifact_repository(f"{s3_base}/up")
    fs, root = _s3(repo)
    outstanding, most = 0, 0
    real = S3ObjectWriter._upload_part

    async def slow_part(self: S3ObjectWriter, number: int, body: bytes) -> dict[str, Any]:
        nonlocal outstanding, most
        outstanding += 1
        most = max(most, outstanding)
        try:
            await asyncio.sleep(0.05)
            return await real(self, number, body)
        finally:
            outstanding -= 1

    monkeypatch.setattr(S3ObjectWriter, "_upload_part", slow_part)
    data = os.urandom(24 * MiB)  # 5 MiB parts: four of 5 MiB and one of 4 MiB
    writer = S3ObjectWriter(fs, f"{root}/big.bin", part_size=5 * MiB, in_flight=2)
    for start in range(0, len(data), 300_000):  # the proxy writes what the client sends
        writer.write(data[start : start + 300_000])
    assert _open_uploads(fs, f"{root}/big.bin")  # not published before it completes
    assert not fs.exists(f"{root}/big.bin")
    writer.close()
    assert writer.tell() == len(data)
    assert most == 2  # sent two at a time, never more
    assert _object(fs, f"{root}/big.bin")["ETag"].endswith('-5"')
    assert fs.cat_file(f"{root}/big.bin") == data
    assert not _open_uploads(fs, f"{root}/big.bin")


@pytest.mark.parametrize("size", [11, 3 * MiB])
def test_a_file_smaller_than_a_part_is_one_put(s3_base: str, size: int) -> None:
    repo = get_artifact_repository(f"{s3_base}/up")
    data = os.urandom(size)
    with repo.artifact_writer("small.bin", size_hint=size) as out:
        assert isinstance(out, S3ObjectWriter)
        out.write(data)
    fs, root = _s3(repo)
    assert "-" not in _object(fs, f"{root}/small.bin")["ETag"]
    assert repo.read_bytes("small.bin") == data


def test_an_upload_that_fails_midway_leaves_nothing(s3_base: str) -> None:
    repo = get_artifact_repository(f"{s3_base}/up")
    fs, root = _s3(repo)

    def cut_upload() -> None:
        with repo.artifact_writer("cut.bin", size_hint=40 * MiB) as out:
            out.write(os.urandom(20 * MiB))  # two 8 MiB parts on their way
            raise RuntimeError("client went away")

    with pytest.raises(RuntimeError, match="client went away"):
        cut_upload()
    assert not fs.exists(f"{root}/cut.bin")
    assert not _open_uploads(fs, f"{root}/cut.bin")


def test_a_refused_part_fails_the_write_and_aborts_the_upload(
    s3_base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = get_artifact_repository(f"{s3_base}/up")
    fs, root = _s3(repo)
    real = S3ObjectWriter._upload_part

    async def refuse_second(self: S3ObjectWriter, number: int, body: bytes) -> dict[str, Any]:
        if number == 2:
            raise OSError("part 2 refused")
        return await real(self, number, body)

    monkeypatch.setattr(S3ObjectWriter, "_upload_part", refuse_second)
    writer = S3ObjectWriter(fs, f"{root}/bad.bin", part_size=5 * MiB, in_flight=1)

    def write_all() -> None:
        for _ in range(4):
            writer.write(os.urandom(5 * MiB))
        writer.close()

    with pytest.raises(OSError, match="part 2 refused"):
        write_all()
    assert writer.closed
    assert not fs.exists(f"{root}/bad.bin")
    assert not _open_uploads(fs, f"{root}/bad.bin")


def test_parts_are_at_least_s3s_minimum(s3_base: str) -> None:
    fs, root = _s3(get_artifact_repository(f"{s3_base}/up"))
    with pytest.raises(ValueError, match="at least 5 MiB"):
        S3ObjectWriter(fs, f"{root}/x", part_size=MiB)
