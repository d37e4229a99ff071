"""S3 objects streamed through the artifact proxy: read through one GET, written as a multipart
upload whose parts are sent while the next one fills.

Reading:

fsspec's S3 file reads in blocks, one ranged GET each (8 MiB here): many requests per file, and
on servers that assemble the answer from the whole object (moto) each costs as much as the
file. This reader asks once for everything from where it stands (``Range: bytes=<pos>-``) and
pulls the body as the proxy sends it on, so memory stays at one read's size. A seek elsewhere
drops the stream and the next read opens another. Every GET carries ``If-Match`` with the
entity tag the file was opened with: a replacement is an error, never a mix of two files.

Writing: s3fs's file sends each part when its buffer fills and waits for the answer, so the
proxy stops reading the client's body for every part. This writer hands each full part to
s3fs's event loop and goes on reading; at most ``in_flight`` parts are outstanding at a time,
so memory stays near ``(in_flight + 1) * part_size``. The object appears only when the upload
completes (at ``close``); any failure, or ``discard``, aborts it, leaving no object and no
stored parts. A file smaller than one part is sent in one PUT.
"""

from __future__ import annotations

import asyncio
import io
from collections import deque
from concurrent.futures import Future
from contextlib import suppress
from typing import Any

from fsspec.asyn import sync

try:  # s3fs's HTTP client (the reader is only used where s3fs is installed)
    from aiohttp import ClientError as _TransportError
except ImportError:  # pragma: no cover
    _TransportError = OSError  # type: ignore[assignment,misc]

__all__ = ["S3ObjectReader", "S3ObjectWriter"]

#: Times a broken body is reopened where it stopped before the read fails.
_REOPENS = 3


class S3ObjectReader(io.RawIOBase):
    """``size`` bytes of the object ``path`` of the s3fs filesystem ``fs`` (version ``etag``)."""

    def __init__(self, fs: Any, path: str, size: int, etag: str | None) -> None:
        super().__init__()
        self._fs = fs
        self._bucket, self._key, _ = fs.split_path(path)
        self._size = size
        self._etag = etag
        self._pos = 0
        self._body: Any = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        target = max(base + offset, 0)
        if target != self._pos:
            self._drop()
            self._pos = target
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (fewer when that is what the stream has at hand); everything
        left when ``size`` is negative or ``None``."""
        if size is None or size < 0:
            return self.readall()
        left = self._size - self._pos
        if left <= 0 or size == 0:
            return b""
        want = min(size, left)
        for attempt in range(_REOPENS + 1):
            if self._body is None:
                self._body = self._open()
            try:
                data: bytes = sync(self._fs.loop, self._body.read, want)
            except (OSError, TimeoutError, _TransportError):
                self._drop()
                if attempt == _REOPENS:
                    raise
                continue
            if not data:
                raise OSError(f"s3://{self._bucket}/{self._key} ended at byte {self._pos}")
            self._pos += len(data)
            return data
        raise AssertionError("unreachable")  # pragma: no cover

    def readall(self) -> bytes:
        chunks = []
        while chunk := self.read(self._size - self._pos):
            chunks.append(chunk)
        return b"".join(chunks)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._drop()
        super().close()

    def _open(self) -> Any:
        extra = {"IfMatch": self._etag} if self._etag else {}
        response = self._fs.call_s3(
            "get_object",
            Bucket=self._bucket,
            Key=self._key,
            Range=f"bytes={self._pos}-",
            **extra,
        )
        return response["Body"]

    def _drop(self) -> None:
        body, self._body = self._body, None
        if body is not None:
            body.close()


class S3ObjectWriter(io.RawIOBase):
    """The object ``path`` of the s3fs filesystem ``fs``, written in parts of ``part_size``
    bytes (S3's minimum, 5 MiB, for all but the last), up to ``in_flight`` of them sent at once.
    """

    def __init__(self, fs: Any, path: str, part_size: int, in_flight: int = 4) -> None:
        super().__init__()
        if part_size < 5 * 2**20:
            raise ValueError(f"S3 parts are at least 5 MiB, got {part_size} bytes")
        self._fs = fs
        self._bucket, self._key, _ = fs.split_path(path)
        self._part_size = part_size
        self._in_flight = max(1, in_flight)
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._sent: deque[Future[dict[str, Any]]] = deque()
        self._parts: list[dict[str, Any]] = []
        self._written = 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._written

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("write to a closed S3 object writer")
        view = memoryview(data).cast("B")
        taken = 0
        while taken < len(view):
            # Each part is filled in its own buffer and handed over as it is (no copy).
            room = self._part_size - len(self._buffer)
            self._buffer += view[taken : taken + room]
            taken += min(room, len(view) - taken)
            if len(self._buffer) == self._part_size:
                part, self._buffer = self._buffer, bytearray()
                self._send(part)
        self._written += taken
        return taken

    def close(self) -> None:
        """Send what is left and complete the upload (the object appears now)."""
        if self.closed:
            return
        try:
            if self._upload_id is None:
                self._call("put_object", Body=io.BytesIO(self._buffer))
            else:
                if self._buffer:
                    part, self._buffer = self._buffer, bytearray()
                    self._send(part)
                while self._sent:
                    self._parts.append(self._sent.popleft().result())
                self._call(
                    "complete_multipart_upload",
                    UploadId=self._upload_id,
                    MultipartUpload={"Parts": self._parts},
                )
        except BaseException:
            self._abort()
            raise
        finally:
            self._buffer = bytearray()
            super().close()
        self._fs.invalidate_cache(f"{self._bucket}/{self._key}")

    def discard(self) -> None:
        """Give the object up: the upload is aborted and nothing appears."""
        if not self.closed:
            self._abort()
            self._buffer = bytearray()
            super().close()

    def _send(self, part: bytearray) -> None:
        if self._upload_id is None:
            self._upload_id = self._call("create_multipart_upload")["UploadId"]
        while len(self._sent) >= self._in_flight:
            try:
                self._parts.append(self._sent.popleft().result())
            except BaseException:
                self._abort()
                super().close()
                raise
        number = len(self._parts) + len(self._sent) + 1
        self._sent.append(
            asyncio.run_coroutine_threadsafe(self._upload_part(number, part), self._fs.loop)
        )

    async def _upload_part(self, number: int, body: bytearray) -> dict[str, Any]:
        answer = await self._fs._call_s3(
            "upload_part",
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=io.BytesIO(body),
        )
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def _call(self, method: str, **kwargs: Any) -> Any:
        return self._fs.call_s3(method, Bucket=self._bucket, Key=self._key, **kwargs)

    def _abort(self) -> None:
        """Stop the parts still being sent and abort the upload (best effort: the error that
        led here is the one worth raising)."""
        for future in self._sent:
            future.cancel()
        for future in self._sent:
            with suppress(BaseException):
                future.result()
        self._sent.clear()
        upload_id, self._upload_id = self._upload_id, None
        if upload_id is not None:
            with suppress(Exception):
                self._call("abort_multipart_upload", UploadId=upload_id)
