"""Running the app under uvicorn: HTTP protocols that always set TCP_NODELAY.

asyncio sets TCP_NODELAY on connections it accepts itself, but not every path through uvicorn
does (with ``--workers`` > 1 the listening socket is made by uvicorn; see uvicorn issue 3149),
and then every kept-alive request waits ~40 ms for Nagle + delayed ACK. These subclasses set it
on every connection, whichever parser is in use.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Sequence
from typing import Any

logger = logging.getLogger("uvicorn.error")


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


# ------------------------------------------------------------------------------ serving
def serve(app: str, *, workers: int = 1, preload: Sequence[str] = (), **options: Any) -> None:
    """Run the app factory ``app`` ("module:function") under uvicorn with ``workers`` processes.

    Several workers are forked from one parent that has imported the ``preload`` modules first
    (gunicorn's ``--preload``): each worker then only builds the app. uvicorn's own workers are
    fresh interpreters (multiprocessing "spawn") that import FastAPI, pydantic and the routers
    again, each: measured here, a 2-worker server answered after 1.9 s that way and after 1.0 s
    forked. The app itself (stores, connections, a loaded model) is made in each worker, after
    the fork.
    The parent restarts a worker that dies, forwards SIGTERM/SIGINT, and exits 3 (uvicorn's
    startup failure) when a worker cannot start.
    """
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE

    config = uvicorn.Config(app, factory=True, workers=workers, **options)
    if workers <= 1:
        server = uvicorn.Server(config)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: uvicorn re-raises it when done
            server.run()
        if not server.started:
            sys.exit(STARTUP_FAILURE)
        return
    sock = config.bind_socket()
    for module in preload:
        importlib.import_module(module)
    code = _Prefork(config, sock, workers).run()
    if code:
        sys.exit(code)


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGTERM this process when its parent dies (no orphaned workers)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the parent's signal handling must do
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)


class _Prefork:
    """The parent of forked uvicorn workers sharing one listening socket."""

    def __init__(self, config: Any, sock: socket.socket, workers: int) -> None:
        self.config = config
        self.sock = sock
        self.workers = workers
        self.children: dict[int, float] = {}  # pid -> when it was started
        self.stopping = False

    def _spawn(self) -> None:
        import uvicorn
        from uvicorn.config import STARTUP_FAILURE

        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            server = None
            try:
                for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                    signal.signal(sig, signal.SIG_DFL)
                _die_with_parent(parent)
                server = uvicorn.Server(self.config)
                server.run(sockets=[self.sock])
                code = 0
            except SystemExit as exc:  # uvicorn's own exits, e.g. an app that failed to load
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                traceback.print_exc()
            finally:
                if server is None or not server.started:
                    code = STARTUP_FAILURE
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.children[pid] = time.monotonic()

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.stopping = True

    def run(self) -> int:
        from uvicorn.config import STARTUP_FAILURE

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        for _ in range(self.workers):
            self._spawn()
        logger.info("Started %d forked workers: %s", self.workers, sorted(self.children))
        while self.children and not self.stopping:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.2)
                continue
            started = self.children.pop(pid, None)
            if started is None or self.stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            if code == STARTUP_FAILURE:
                logger.error("Worker %d could not start; stopping the server", pid)
                self._stop()
                return STARTUP_FAILURE
            logger.warning("Worker %d exited (%s); starting another", pid, code)
            if time.monotonic() - started < 1:  # dying at once: do not spin
                time.sleep(1)
            self._spawn()
        self._stop()
        return 0

    def _stop(self) -> None:
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        grace = (self.config.timeout_graceful_shutdown or 10) + 5
        deadline = time.monotonic() + grace
        while self.children and time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                break
            if pid:
                self.children.pop(pid, None)
            else:
                time.sleep(0.05)
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        self.children.clear()
