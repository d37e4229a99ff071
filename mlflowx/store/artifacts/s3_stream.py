"""An S3 object read front to back through one streaming GET, for the artifact proxy.

fsspec's S3 file reads in blocks, one ranged GET each (8 MiB here): many requests per file, and
on servers that assemble the answer from the whole object (moto) each costs as much as the
file. This reader asks once for everything from where it stands (``Range: bytes=<pos>-``) and
pulls the body as the proxy sends it on, so memory stays at one read's size. A seek elsewhere
drops the stream and the next read opens another. Every GET carries ``If-Match`` with the
entity tag the file was opened with: a replacement is an error, never a mix of two files.
"""

from __future__ import annotations

import io
from typing import Any

from fsspec.asyn import sync

try:  # s3fs's HTTP client (the reader is only used where s3fs is installed)
    from aiohttp import ClientError as _TransportError
except ImportError:  # pragma: no cover
    _TransportError = OSError  # type: ignore[assignment,misc]

__all__ = ["S3ObjectReader"]

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
