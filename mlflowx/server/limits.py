"""Request-body limits for the JSON API, enforced before and while a body is read.

A pure ASGI middleware: ``Content-Length`` above the limit is refused before any byte is read,
and a body sent without one (``Transfer-Encoding: chunked``) is counted as it arrives and refused
as soon as it passes the limit, so no request can make the server buffer more than the limit.
"""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mlflowx.exceptions import InvalidParameter

__all__ = ["BodyLimit", "parse_size"]

_SIZE = re.compile(r"(\d{1,15})\s*(?:([kmgt])(?:i?b)?|b)?", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int:
    """A size in bytes from ``5368709120``, ``500M``, ``5G``, ``5GB`` or ``5GiB`` (units are
    powers of 1024)."""
    match = _SIZE.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise InvalidParameter(
            f"Invalid size {text!r}: expected a positive number of bytes, optionally with a "
            "unit K, M, G or T (e.g. 500M, 5G)"
        )
    return int(match.group(1)) * _UNITS[(match.group(2) or "").lower()]


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with a 413 (paths under ``exempt_prefix`` are
    left alone: artifact uploads stream to disk with their own limit)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, exempt_prefix: str) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt_prefix = exempt_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt_prefix):
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        received = 0

        async def limited_receive() -> Message:
            # Raised from inside the app's body read, an HTTPException reaches the app's
            # exception handlers (errors.py), which answer it in MLflow's error format.
            nonlocal received
            if declared is not None and (not declared.isdigit() or int(declared) > limit):
                size = declared.decode("latin-1")
                raise HTTPException(
                    413, f"Request body of {size} bytes exceeds the limit of {limit} bytes"
                )
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"Request body exceeds the limit of {limit} bytes")
            return message

        await self.app(scope, limited_receive, send)
