"""The proxy reads an S3 object through one streaming GET (not one ranged GET per block), from
where it is positioned, pinned to the version it was opened at (moto's server)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from mlflowx.store.artifacts import get_artifact_repository
from mlflowx.store.artifacts.s3_stream import S3ObjectReader
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
