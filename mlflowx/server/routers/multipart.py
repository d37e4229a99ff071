"""MLflow's multipart uploads through the artifact proxy (``/api/2.0/mlflow-artifacts/mpu``),
and its presigned downloads (``/api/2.0/mlflow-artifacts/presigned``).

MLflow's client uses them, when ``/api/3.0/mlflow/server-info`` advertises them (S3
destinations) or with ``MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true``, for files of at least
``MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE`` (500 MiB): it sends the parts straight to the store
at presigned URLs, so the bytes never pass through this server. Where the destination cannot
presign (anything but S3), ``create`` answers 501 with MLflow's message and the client sends
the file through the proxy instead. The route's path is the directory; the body's ``path`` is
the client's local file, of which only the name is used (as MLflow does).

Downloads: MLflow's client (3.17), when ``/api/3.0/mlflow/server-info`` says the destination
allows it (or ``MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD=true``), asks ``presigned/<path>`` for a
URL and GETs the file from the store in parallel byte ranges (100 MiB each by default).
"""

from __future__ import annotations

import posixpath

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import Field

from mlflowx.exceptions import InvalidParameter, PayloadTooLarge
from mlflowx.protocol.models import WireModel
from mlflowx.server.deps import WireRouter
from mlflowx.server.routers.artifacts import destination_repo, request_path
from mlflowx.store.artifacts.base import ArtifactRepository
from mlflowx.store.artifacts.multipart import MAX_PARTS, UploadedPart

router = WireRouter(tags=["artifacts"])
MPU = "/api/2.0/mlflow-artifacts/mpu"
PRESIGNED = "/api/2.0/mlflow-artifacts/presigned"
#: How long a presigned download URL is valid (MLflow's MLFLOW_PRESIGNED_DOWNLOAD_URL_TTL_SECONDS).
PRESIGNED_TTL_S = 300


class CreateMultipartUpload(WireModel):
    path: str = Field(min_length=1, max_length=4096)
    num_parts: int = Field(default=1, ge=1, le=MAX_PARTS)


class Credential(WireModel):
    url: str
    part_number: int
    headers: dict[str, str] = Field(default_factory=dict)


class CreateMultipartUploadResponse(WireModel):
    upload_id: str
    credentials: list[Credential]


class PresignedDownloadResponse(WireModel):
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    file_size: int


class Part(WireModel):
    part_number: int = Field(ge=1, le=MAX_PARTS)
    etag: str | None = Field(default=None, max_length=1024)
    url: str | None = None


class CompleteMultipartUpload(WireModel):
    path: str = Field(min_length=1, max_length=4096)
    upload_id: str = Field(min_length=1, max_length=4096)
    parts: list[Part] = Field(min_length=1, max_length=MAX_PARTS)


class AbortMultipartUpload(WireModel):
    path: str = Field(min_length=1, max_length=4096)
    upload_id: str = Field(min_length=1, max_length=4096)


def _target(artifact_path: str, local_file: str) -> str:
    """``<artifact_path>/<name of the client's file>``, checked as any proxied path."""
    name = posixpath.basename(local_file.replace("\\", "/"))
    if not name:
        raise InvalidParameter(f"No file name in path {local_file!r}")
    return request_path(posixpath.join(request_path(artifact_path), request_path(name)))


@router.post(f"{MPU}/create/{{artifact_path:path}}")
def create_multipart_upload(
    request: Request, artifact_path: str, body: CreateMultipartUpload
) -> CreateMultipartUploadResponse:
    upload = destination_repo(request).create_multipart_upload(
        _target(artifact_path, body.path), body.num_parts
    )
    return CreateMultipartUploadResponse(
        upload_id=upload.upload_id,
        credentials=[
            Credential(url=p.url, part_number=p.part_number, headers=p.headers)
            for p in upload.parts
        ],
    )


@router.post(f"{MPU}/complete/{{artifact_path:path}}")
def complete_multipart_upload(
    request: Request, artifact_path: str, body: CompleteMultipartUpload
) -> JSONResponse:
    """Publish the parts; a file over the server's upload limit is deleted again (413), as
    one sent through the proxy would have been refused."""
    repo = destination_repo(request)
    target = _target(artifact_path, body.path)
    parts = [UploadedPart(p.part_number, p.etag or "") for p in body.parts]
    repo.complete_multipart_upload(target, body.upload_id, parts)
    limit: int = request.app.state.max_artifact_bytes
    size = _size(repo, target)
    if size > limit:
        repo.delete_artifacts(target)
        raise PayloadTooLarge(
            f"Artifact {target!r} of {size} bytes exceeds the server's upload limit of {limit} "
            "bytes (mlflowx server --max-artifact-size); it was deleted"
        )
    return JSONResponse({})


@router.post(f"{MPU}/abort/{{artifact_path:path}}")
def abort_multipart_upload(
    request: Request, artifact_path: str, body: AbortMultipartUpload
) -> JSONResponse:
    destination_repo(request).abort_multipart_upload(
        _target(artifact_path, body.path), body.upload_id
    )
    return JSONResponse({})


@router.get(f"{PRESIGNED}/{{artifact_path:path}}")
def presigned_download(request: Request, artifact_path: str) -> PresignedDownloadResponse:
    """A URL to GET the file from the store directly; 501 with MLflow's message where the
    destination cannot presign (the client then downloads through the proxy)."""
    path = request_path(artifact_path)
    if not path:
        raise InvalidParameter("An artifact path is required to download a file")
    link = destination_repo(request).presigned_download(path, PRESIGNED_TTL_S)
    return PresignedDownloadResponse(url=link.url, headers=link.headers, file_size=link.file_size)


def _size(repo: ArtifactRepository, path: str) -> int:
    parent = posixpath.dirname(path)
    for info in repo.list_artifacts(parent or None):
        if info.path == path:
            return info.file_size or 0
    return 0
