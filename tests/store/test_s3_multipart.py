"""Multipart uploads to S3 from the proxy: parts sized by the announced size, and a completion
that is slow is not sent twice.

A multipart upload whose completion takes longer than s3fs's default read timeout (15 s) is
published once. With that timeout botocore sent CompleteMultipartUpload again while the server
was still assembling the file, and the two completions raced (moto: a 500, the 2 GiB bench's
failure). Timed for real against moto's server in this process, its completion slowed."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from moto.s3.models import FakeMultipart

from mlflowx.store.artifacts import get_artifact_repository
from tests.store.test_artifacts import moto_endpoint, s3_base

__all__ = ["moto_endpoint", "s3_base"]  # fixtures used by name

pytestmark = pytest.mark.s3
MiB = 1 << 20
#: Just past s3fs's own read timeout.
SLOW_S = 16


def test_a_completion_slower_than_s3fs_read_timeout_publishes_the_file_once(
    s3_base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[float] = []
    real = FakeMultipart.complete

    def slow_complete(self: FakeMultipart, body: Any) -> Any:
        calls.append(time.monotonic())
        time.sleep(SLOW_S)
        return real(self, body)

    monkeypatch.setattr(FakeMultipart, "complete", slow_complete)
    repo = get_artifact_repository(f"{s3_base}/slow")
    data = os.urandom(MiB) * 20  # more than one part (16 MiB): a multipart upload
    with repo.artifact_writer("big.bin") as out:
        out.write(data)
    assert len(calls) == 1  # one completion, not a retried one racing the first
    assert repo.read_bytes("big.bin") == data


@pytest.mark.parametrize(
    ("size_hint", "part_mib"),
    [(None, 16), (0, 8), (2 * 2**30, 8), (100 * 2**30, 12), (1000 * 2**30, 114)],
)
def test_part_size_follows_the_announced_size(size_hint: int | None, part_mib: int) -> None:
    """As small as S3's 10,000 parts allow (8 MiB at least); 16 MiB when the size is unknown."""
    from mlflowx.store.artifacts.fsspec_repo import _part_size

    assert _part_size(size_hint) == part_mib * MiB
    if size_hint:
        assert size_hint / _part_size(size_hint) <= 9_000
