"""The artifact proxy (``/api/2.0/mlflow-artifacts/artifacts``) and ``/artifacts/list``.

Clients read and write run artifacts through the server, so they need no credentials for the
artifact store. Every path is checked by :func:`request_path` before it reaches a backend.
"""

from __future__ import annotations

import posixpath
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from mlflowx.exceptions import InvalidParameter
from mlflowx.protocol.models import WireModel
from mlflowx.server.deps import Store, WireRouter, require, tracking_store
from mlflowx.server.streaming import artifact_response, receive_artifact
from mlflowx.store.artifacts import get_artifact_repository
from mlflowx.store.artifacts.base import ArtifactRepository, safe_artifact_path
from mlflowx.store.locations import LocationPolicy

router = WireRouter(tags=["artifacts"])
PROXY_SCHEME = "mlflow-artifacts:"
#: A path segment becomes a file name: longer ones fail in the file system (NAME_MAX).
MAX_SEGMENT_BYTES = 255


class FileInfoJ(WireModel):
    path: str
    is_dir: bool
    file_size: int | None = None


class ListArtifactsResponse(WireModel):
    files: list[FileInfoJ] = Field(default_factory=list)


class ListRunArtifactsResponse(WireModel):
    root_uri: str | None = None
    files: list[FileInfoJ] = Field(default_factory=list)
    next_page_token: str | None = None


def request_path(path: str | None) -> str:
    """An artifact path from a request: :func:`safe_artifact_path`, with names a file system
    can hold."""
    safe = safe_artifact_path(path)
    for segment in safe.split("/"):
        if len(segment.encode()) > MAX_SEGMENT_BYTES:
            raise InvalidParameter(
                f"Invalid artifact path: the name {segment[:40]!r}... is longer than "
                f"{MAX_SEGMENT_BYTES} bytes"
            )
    return safe


def destination_repo(request: Request) -> ArtifactRepository:
    destination: str | None = request.app.state.artifacts_destination
    if destination is None:
        raise InvalidParameter("This server does not proxy artifacts (--no-serve-artifacts)")
    return get_artifact_repository(destination)


def repo_for_uri(request: Request, uri: str) -> ArtifactRepository:
    """The repository behind a run's artifact URI (``mlflow-artifacts:/...`` or a direct one).

    A direct URI read back from the database is checked again, as a new experiment's location
    would be: a row written before these checks (``file:///etc#``, ``http://elsewhere/``)
    must not make the server list its own files or connect out.
    """
    if uri.startswith(PROXY_SCHEME):
        rest = urlsplit(uri).path.lstrip("/")  # mlflow-artifacts:/p and mlflow-artifacts://h/p
        destination = request.app.state.artifacts_destination
        if destination is None:
            raise InvalidParameter("This server does not proxy artifacts (--no-serve-artifacts)")
        sub = safe_artifact_path(rest)
        return get_artifact_repository(posixpath.join(destination.rstrip("/"), sub))
    policy: LocationPolicy = request.app.state.location_policy
    return get_artifact_repository(policy.check(uri, "stored artifact location"))


@router.get("/api/2.0/mlflow-artifacts/artifacts")
def list_proxied(
    request: Request, path: Annotated[str | None, Query(max_length=4096)] = None
) -> ListArtifactsResponse:
    repo = destination_repo(request)
    files = [
        FileInfoJ(path=posixpath.basename(f.path), is_dir=f.is_dir, file_size=f.file_size)
        for f in repo.list_artifacts(request_path(path))
    ]
    return ListArtifactsResponse(files=files)


@router.get("/api/2.0/mlflow-artifacts/artifacts/{artifact_path:path}")
def download_proxied(request: Request, artifact_path: str) -> Response:
    return _file_response(
        request, destination_repo(request), artifact_path, "application/octet-stream"
    )


#: What ``/get-artifact`` lets a browser show inline; every other file is served as text
#: (previews) or bytes, never as HTML or script of this origin.
_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
}
_TEXT_SUFFIXES = frozenset(
    ".txt .log .json .yaml .yml .csv .tsv .md .py .html .htm .svg .xml .ini .toml .cfg .sh "
    ".r .sql .ipynb".split()
)
_TEXT_NAMES = frozenset({"MLmodel", "MLproject", "requirements.txt", "conda.yaml"})
#: The file can neither run script nor be framed into this origin's pages.
_SANDBOX = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}


@router.get("/get-artifact")
def get_artifact(
    request: Request,
    store: Store,
    path: Annotated[str | None, Query(max_length=4096)] = None,
    run_uuid: Annotated[str | None, Query(max_length=256)] = None,
    run_id: Annotated[str | None, Query(max_length=256)] = None,
) -> Response:
    """One run artifact for the web UI (MLflow's ``/get-artifact``): images typed as images,
    known text types as ``text/plain``, the rest as bytes; byte ranges are honoured."""
    run = store.get_run(require(run_uuid or run_id, "run_uuid"))
    repo = repo_for_uri(request, run.info.artifact_uri or "")
    return preview_response(request, repo, path or "")


def preview_response(request: Request, repo: ArtifactRepository, artifact_path: str) -> Response:
    """A file for a browser to show: typed by its name, sandboxed whatever it holds."""
    name = posixpath.basename(request_path(artifact_path))
    suffix = posixpath.splitext(name)[1].lower()
    if suffix in _IMAGE_TYPES:
        media_type = _IMAGE_TYPES[suffix]
    elif suffix in _TEXT_SUFFIXES or name in _TEXT_NAMES:
        media_type = "text/plain; charset=utf-8"
    else:
        media_type = "application/octet-stream"
    return _file_response(request, repo, artifact_path, media_type, headers=_SANDBOX)


def _file_response(
    request: Request,
    repo: ArtifactRepository,
    artifact_path: str,
    media_type: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """One file of ``repo`` as a response, streamed from the store (no local copy)."""
    path = request_path(artifact_path)
    if not path:
        raise InvalidParameter("An artifact path is required to download a file")
    return artifact_response(request, repo, path, media_type, headers)


_RAW_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.put("/api/2.0/mlflow-artifacts/artifacts/{artifact_path:path}", openapi_extra=_RAW_BODY)
async def upload_proxied(request: Request, artifact_path: str) -> JSONResponse:
    """Stream the body into the store; over the upload limit, 413 and nothing written."""
    repo = destination_repo(request)
    path = request_path(artifact_path)
    if not path:
        raise InvalidParameter("An artifact path is required to upload a file")
    await receive_artifact(request, repo, path, request.app.state.max_artifact_bytes)
    return JSONResponse({})


#: MLflow's limit for ``upload-artifact`` (the UI's small uploads; clients use the proxy).
UPLOAD_ARTIFACT_MAX_BYTES = 10 * 1024 * 1024


@router.post("/api/2.0/mlflow/upload-artifact", openapi_extra=_RAW_BODY)
async def upload_run_artifact(
    request: Request,
    run_uuid: Annotated[str | None, Query(max_length=256)] = None,
    path: Annotated[str | None, Query(max_length=4096)] = None,
) -> JSONResponse:
    """One file (the body) into a run's artifacts at ``path`` (MLflow's
    ``/ajax-api/2.0/mlflow/upload-artifact``, with its limits and messages)."""
    if not run_uuid:
        raise InvalidParameter("Request must specify run_uuid.")
    if not path:
        raise InvalidParameter("Request must specify path.")
    target = request_path(path)
    if not target:
        raise InvalidParameter("Request must specify path.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > UPLOAD_ARTIFACT_MAX_BYTES:
        raise InvalidParameter("Artifact size is too large. Max size is 10MB.")
    data = await request.body()
    if not data:
        raise InvalidParameter("Request must specify data.")
    if len(data) > UPLOAD_ARTIFACT_MAX_BYTES:
        raise InvalidParameter("Artifact size is too large. Max size is 10MB.")
    store = tracking_store(request)
    run = await run_in_threadpool(store.get_run, run_uuid)
    repo = repo_for_uri(request, run.info.artifact_uri or "")
    await run_in_threadpool(_write_file, repo, target, data)
    return JSONResponse({})


def _write_file(repo: ArtifactRepository, path: str, data: bytes) -> None:
    with repo.artifact_writer(path) as out:
        out.write(data)


@router.delete("/api/2.0/mlflow-artifacts/artifacts/{artifact_path:path}")
def delete_proxied(request: Request, artifact_path: str) -> JSONResponse:
    path = request_path(artifact_path)
    if not path:
        raise InvalidParameter("Refusing to delete the whole artifact store")
    destination_repo(request).delete_artifacts(path)
    return JSONResponse({})


@router.get("/api/2.0/mlflow/artifacts/list")
def list_run_artifacts(
    request: Request,
    store: Store,
    run_id: Annotated[str | None, Query(max_length=256)] = None,
    run_uuid: Annotated[str | None, Query(max_length=256)] = None,
    path: Annotated[str | None, Query(max_length=4096)] = None,
    page_token: Annotated[str | None, Query(max_length=4096)] = None,
) -> ListRunArtifactsResponse:
    del page_token  # listings are returned whole
    run = store.get_run(require(run_id or run_uuid, "run_id"))
    root = run.info.artifact_uri or ""
    files = repo_for_uri(request, root).list_artifacts(request_path(path))
    return ListRunArtifactsResponse(
        root_uri=root,
        files=[FileInfoJ(path=f.path, is_dir=f.is_dir, file_size=f.file_size) for f in files],
    )
