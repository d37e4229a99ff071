"""A file downloaded over HTTP that survives a broken transfer: the rest is asked for with a
``Range`` request and appended, instead of starting over.

The first response's strong validator (``ETag``, else ``Last-Modified``) goes with every resumed
request as ``If-Range``: if the file changed meanwhile, the server sends it whole (200) and the
copy starts again from the first byte. So does a server that ignores ranges (a 200 to a range
request). A 206 whose range does not start where the copy stopped, or whose total size differs
from the first response's, is not trusted either: the file is fetched whole.
"""

from __future__ import annotations

import re
import time
from typing import BinaryIO

import httpx

from mlflowx.exceptions import TemporarilyUnavailable
from mlflowx.store.http import RETRY_STATUSES, HttpSession, _as_error

__all__ = ["download_resumable"]

#: Errors that break a transfer on its way; the bytes already written are kept.
_BROKEN = (httpx.TransportError,)
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


class _Incomplete(Exception):
    """The body ended before the size it announced."""


def download_resumable(session: HttpSession, url: str, out: BinaryIO) -> int:
    """GET ``url`` into ``out`` (opened for writing, at its start); returns the size.

    Raises:
        TemporarilyUnavailable: the transfer broke more than the session's retry count allows.
        MlflowxError: the server answered with an error (its typed error).
    """
    written = 0
    total: int | None = None
    validator: str | None = None
    resumable = False
    failures = 0
    while True:
        headers: dict[str, str] = {}
        if written and resumable:
            headers["Range"] = f"bytes={written}-"
            if validator:
                headers["If-Range"] = validator
        try:
            with session.client.stream("GET", url, headers=headers) as response:
                if response.status_code in RETRY_STATUSES:
                    response.read()
                    raise _Incomplete(f"HTTP {response.status_code}")
                if response.is_error:
                    response.read()
                    raise _as_error(response)
                if not _continues(response, written, total):  # the whole file
                    out.seek(0)
                    out.truncate()
                    written = 0
                    total = _size(response)
                    validator = _validator(response)
                    # Offsets count encoded bytes, what was written decoded ones.
                    resumable = "content-encoding" not in response.headers
                    if response.status_code == 206:
                        # A range nobody asked for, or not where the copy stopped: start over.
                        resumable = False
                        raise _Incomplete(f"unexpected range {response.headers!r}")
                # As the bytes arrive: a chunking buffer would lose its tail when a cut comes.
                for chunk in response.iter_bytes():
                    out.write(chunk)
                    written += len(chunk)
            if total is not None and written < total:
                raise _Incomplete(f"{written} of {total} bytes")
            return written
        except (*_BROKEN, _Incomplete) as exc:
            failures += 1
            if failures > session.max_retries:
                raise TemporarilyUnavailable(
                    f"Downloading {session.base_url}{url} failed {failures} times (last: "
                    f"{exc!r}); {written} bytes were received"
                ) from exc
            time.sleep(session.retry_delay(failures))


def _continues(response: httpx.Response, written: int, total: int | None) -> bool:
    """A 206 whose body starts where the copy stopped, of the same file size."""
    if response.status_code != 206 or not written:
        return False
    match = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", ""))
    return match is not None and int(match.group(1)) == written and int(match.group(3)) == total


def _size(response: httpx.Response) -> int | None:
    length = response.headers.get("content-length", "")
    return int(length) if length.isdigit() and "content-encoding" not in response.headers else None


def _validator(response: httpx.Response) -> str | None:
    etag: str | None = response.headers.get("etag")
    if etag and not etag.startswith("W/"):
        return etag
    modified: str | None = response.headers.get("last-modified")
    return modified
