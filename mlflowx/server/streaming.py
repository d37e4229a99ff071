"""Artifact bytes in and out of the server without a whole-file copy.

Downloads: a file of this machine is served in place (Starlette's ``FileResponse``: ranges,
``ETag``); any other store's file is read in chunks from the store's own file object (fsspec's
``open``), one byte range honoured, with the store's entity tag as ``ETag`` (``If-Range``
is compared with it). Uploads: the request body is written chunk by chunk to the
store's writer, counted as it arrives; over the limit the upload stops with a 413 and the
writer discards what it had.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any, BinaryIO

import anyio
from fastapi import Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from mlflowx.exceptions import PayloadTooLarge
from mlflowx.store.artifacts.base import ArtifactRepository

__all__ = ["ArtifactStreamResponse", "artifact_response", "receive_artifact"]

CHUNK = 1 << 20
#: One range; positions beyond 18 digits (an exabyte) are not ranges this server can hold.
_SINGLE_RANGE = re.compile(r"bytes=(\d{0,18})-(\d{0,18})")


def artifact_response(
    request: Request,
    repo: ArtifactRepository,
    path: str,
    media_type: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """The file ``path`` of ``repo`` as a response (``path`` already checked)."""
    local = repo.local_file(path)
    if local is not None:
        return FileResponse(local, media_type=media_type, headers=headers)
    handle, etag = repo.open_versioned(path)
    try:
        size = handle.seek(0, 2)
        window = _range(request, size, etag)
    except BaseException:
        handle.close()
        raise
    if etag is not None:
        headers = {**(headers or {}), "ETag": etag}
    if window is None:
        handle.close()
        return Response(
            status_code=416,
            headers={**(headers or {}), "Content-Range": f"bytes */{size}"},
        )
    return ArtifactStreamResponse(handle, window, size, media_type, headers)


def _range(request: Request, size: int, etag: str | None) -> tuple[int, int, bool] | None:
    """``(start, end, partial)`` to send; ``None`` when the one range asked for is not in
    the file. A range this cannot honour (several, malformed, or under an ``If-Range`` that
    is not the file's current entity tag: the file changed, or has none) is ignored: the whole
    file is sent, as RFC 9110 requires for ``If-Range``."""
    header = request.headers.get("range")
    if header is None:
        return 0, size, False
    if_range = request.headers.get("if-range")
    if if_range is not None and (etag is None or if_range.strip() != etag):
        return 0, size, False
    match = _SINGLE_RANGE.fullmatch(header.replace(" ", "").lower())
    if match is None or match.group(1) == match.group(2) == "":
        return 0, size, False
    first, last = match.group(1), match.group(2)
    if first == "":  # the last N bytes
        start, end = max(size - int(last), 0), size
    else:
        start = int(first)
        end = min(int(last) + 1, size) if last else size
        if last and int(last) < start:
            return 0, size, False
    if start >= size:
        return None
    return start, end, True


class ArtifactStreamResponse(StreamingResponse):
    """A store's file object sent in chunks (read in the threadpool), closed however the
    response ends."""

    def __init__(
        self,
        handle: BinaryIO,
        window: tuple[int, int, bool],
        size: int,
        media_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        start, end, partial = window
        self._handle = handle
        out = {**(headers or {}), "Accept-Ranges": "bytes", "Content-Length": str(end - start)}
        if partial:
            out["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        super().__init__(
            self._chunks(start, end),
            status_code=206 if partial else 200,
            headers=out,
            media_type=media_type,
        )

    async def _chunks(self, start: int, end: int) -> AsyncIterator[bytes]:
        await run_in_threadpool(self._handle.seek, start)
        left = end - start
        while left > 0:
            chunk: bytes = await run_in_threadpool(self._handle.read, min(CHUNK, left))
            if not chunk:
                raise OSError(f"The artifact ended {left} bytes before its announced size")
            left -= len(chunk)
            yield chunk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(self._handle.close)


async def receive_artifact(
    request: Request, repo: ArtifactRepository, path: str, limit: int
) -> int:
    """Write the request body as the file ``path`` of ``repo``; returns its size.

    Raises:
        PayloadTooLarge: the body is (or announces itself) larger than ``limit`` bytes; nothing
            is written.
    """
    declared = request.headers.get("content-length", "")
    size_hint = int(declared) if declared.isdigit() else None
    if size_hint is not None and size_hint > limit:
        raise _too_large(path, limit, size_hint)
    writer = repo.artifact_writer(path, size_hint)
    out: BinaryIO = await run_in_threadpool(writer.__enter__)
    size = 0
    pending = bytearray()
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(path, limit)
            pending += chunk
            if len(pending) >= CHUNK:
                await run_in_threadpool(out.write, bytes(pending))
                pending.clear()
        if pending:
            await run_in_threadpool(out.write, bytes(pending))
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(writer.__exit__, type(exc), exc, exc.__traceback__)
        raise
    await run_in_threadpool(writer.__exit__, None, None, None)
    return size


def _too_large(path: str, limit: int, declared: Any = None) -> PayloadTooLarge:
    size = f" of {declared} bytes" if declared is not None else ""
    return PayloadTooLarge(
        f"Artifact {path!r}{size} exceeds the server's upload limit of {limit} bytes "
        "(mlflowx server --max-artifact-size)"
    )
