"""Multipart uploads straight to the artifact store (MLflow's ``mlflow-artifacts/mpu``).

The server starts an upload in the store and hands the client one presigned URL per part; the
client sends the parts to the store itself and asks the server to complete (or abort) the
upload. Stores that cannot presign refuse with MLflow's message, on which MLflow's client falls
back to sending the file through the proxy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlflowx.exceptions import NotImplementedByBackend

__all__ = [
    "UNSUPPORTED",
    "UNSUPPORTED_DOWNLOAD",
    "MultipartUpload",
    "PartUrl",
    "PresignedDownload",
    "UploadedPart",
    "unsupported",
    "unsupported_download",
]

#: MLflow's client recognises a store without multipart uploads by this opening.
UNSUPPORTED = "Multipart upload is not supported for the current artifact repository"
#: The same for presigned (multipart) downloads, MLflow's ``mlflow-artifacts/presigned``.
UNSUPPORTED_DOWNLOAD = "Multipart download is not supported for the current artifact repository"
#: S3's limits: at most 10,000 parts, an upload id as long as it is.
MAX_PARTS = 10_000


@dataclass(frozen=True, slots=True)
class PartUrl:
    """Where the client PUTs part ``part_number`` (1-based), with these headers."""

    part_number: int
    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MultipartUpload:
    upload_id: str
    parts: list[PartUrl]


@dataclass(frozen=True, slots=True)
class UploadedPart:
    """A part the client sent, with the ``ETag`` the store answered."""

    part_number: int
    etag: str


def unsupported(what: str) -> NotImplementedByBackend:
    return NotImplementedByBackend(
        f"{UNSUPPORTED} ({what}): send the file through the artifact proxy instead "
        "(PUT /api/2.0/mlflow-artifacts/artifacts/...)"
    )


@dataclass(frozen=True, slots=True)
class PresignedDownload:
    """Where a client GETs a file straight from the store (byte ranges allowed), with these
    headers, and the file's size (MLflow's ``PresignedDownloadUrlResponse``)."""

    url: str
    file_size: int
    headers: dict[str, str] = field(default_factory=dict)


def unsupported_download(what: str) -> NotImplementedByBackend:
    return NotImplementedByBackend(
        f"{UNSUPPORTED_DOWNLOAD} ({what}): download the file through the artifact proxy "
        "instead (GET /api/2.0/mlflow-artifacts/artifacts/...)"
    )
