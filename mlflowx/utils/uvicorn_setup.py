"""Running the app under uvicorn: HTTP protocols that always set TCP_NODELAY.

asyncio sets TCP_NODELAY on connections it accepts itself, but not every path through uvicorn
does (with ``--workers`` > 1 the listening socket is made by uvicorn; see uvicorn issue 3149),
and then every kept-alive request waits ~40 ms for Nagle + delayed ACK. These subclasses set it
on every connection, whichever parser is in use.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any


def _nodelay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # already closed
            pass


def http_protocol() -> type[asyncio.Protocol]:
    """httptools' protocol when installed (faster), else h11's, with TCP_NODELAY."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as Base
    except ImportError:
        from uvicorn.protocols.http.h11_impl import H11Protocol as Base  # type: ignore[assignment]

    return _with_nodelay(Base)


def _with_nodelay(base: Any) -> type[asyncio.Protocol]:
    class NoDelayProtocol(base):  # type: ignore[misc]
        def connection_made(self, transport: asyncio.Transport) -> None:
            _nodelay(transport)
            super().connection_made(transport)

    # uvicorn pickles the class by reference for --workers > 1: its name must be the
    # module-level one below, or spawning the workers fails.
    NoDelayProtocol.__name__ = NoDelayProtocol.__qualname__ = "NoDelayHttpProtocol"
    return NoDelayProtocol


NoDelayHttpProtocol = http_protocol()
