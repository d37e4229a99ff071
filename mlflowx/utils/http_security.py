"""HTTP hardening shared by the tracking server and the scoring server.

One pure ASGI middleware, ahead of everything else:

- **Host allowlist** against DNS rebinding (a page of ``evil.example`` whose name later points
  at 127.0.0.1 sends ``Host: evil.example``). Names must be listed; IP literals always pass
  (a page served from an IP address is that address's own origin, not a rebinding).
- **Cross-origin writes refused**: a state-changing request whose ``Origin`` is neither the
  server's own nor an allowed CORS origin gets 403 (browsers send ``Origin`` on every
  cross-origin POST/PUT/PATCH/DELETE; this stops CSRF with cached Basic credentials too).
- **CORS** for the listed origins only (Starlette's ``CORSMiddleware``; none by default).
- **Security headers** on every response: ``X-Content-Type-Options: nosniff``,
  ``X-Frame-Options: SAMEORIGIN`` (the UI frames its own artifact previews) and
  ``Referrer-Policy: same-origin``; a route's own value wins.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HttpPolicy", "HttpSecurity", "default_allowed_hosts", "is_loopback", "secure"]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"referrer-policy", b"same-origin"),
)
_LOOPBACK_NAMES = ("localhost",)


@dataclass(frozen=True)
class HttpPolicy:
    """``allowed_hosts``: host names (``name``, ``name:port``, ``*.domain`` or ``*`` for
    any); ``None`` turns the check off (in-process test clients). ``cors_origins``: origins
    (``https://app.example``, or ``*``) whose pages may call the API from a browser."""

    allowed_hosts: tuple[str, ...] | None = ("localhost",)
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, allowed_hosts: Iterable[str] | None, cors_origins: Iterable[str] = ()
    ) -> HttpPolicy:
        hosts = None if allowed_hosts is None else tuple(_split(allowed_hosts))
        return cls(hosts, tuple(o.rstrip("/") for o in _split(cors_origins)))


def _split(values: Iterable[str]) -> list[str]:
    """Values given repeated or comma-separated (``--allowed-hosts a,b``)."""
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


def is_loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def default_allowed_hosts(bind_host: str) -> list[str]:
    """The names a server bound to ``bind_host`` answers to by default: ``localhost``, plus the
    bound name itself, plus this machine's names when it listens on every interface."""
    hosts = list(_LOOPBACK_NAMES)
    name = bind_host.strip("[]")
    if not _is_ip(name) and name not in hosts:
        hosts.append(name)
    if name in ("0.0.0.0", "::"):
        for alias in (socket.gethostname(), socket.getfqdn()):
            if alias and alias not in hosts:
                hosts.append(alias)
    return hosts


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def _host_allowed(host: str, allowed: Sequence[str]) -> bool:
    host = host.strip().lower()
    if not host:
        return False
    if host.startswith("[") and "]" in host:  # [v6]:port
        name = host[1 : host.index("]")]
    elif host.count(":") == 1:  # name:port
        name = host.rsplit(":", 1)[0]
    else:
        name = host
    if _is_ip(name):
        return True
    for entry in allowed:
        entry = entry.lower()
        if entry == "*" or entry in (host, name):
            return True
        if entry.startswith("*.") and name.endswith(entry[1:]):
            return True
    return False


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class HttpSecurity:
    """The middleware (see the module's docstring)."""

    def __init__(self, app: ASGIApp, policy: HttpPolicy) -> None:
        self.policy = policy
        self.app: ASGIApp = app
        if policy.cors_origins:
            self.app = CORSMiddleware(
                app,
                allow_origins=list(policy.cors_origins),
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=600,
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = _header(scope, b"host") or ""
        allowed = self.policy.allowed_hosts
        if allowed is not None and not _host_allowed(host, allowed):
            shown = host[:100]
            await _refuse(
                send,
                f"Host {shown!r} is not allowed (possible DNS rebinding): start the server "
                f"with --allowed-hosts {shown.rsplit(':', 1)[0] or 'NAME'} to accept it",
            )
            return
        origin = _header(scope, b"origin")
        if origin and scope["method"] not in _SAFE_METHODS and not self._origin_ok(origin, host):
            await _refuse(
                send,
                f"Cross-origin request from {origin[:100]!r} refused: list the origin in "
                "--cors-allowed-origins to allow it",
            )
            return
        await self.app(scope, receive, _with_headers(send))

    def _origin_ok(self, origin: str, host: str) -> bool:
        origin = origin.rstrip("/")
        if origin in self.policy.cors_origins or "*" in self.policy.cors_origins:
            return True
        return urlsplit(origin).netloc.lower() == host.strip().lower()


def _with_headers(send: Send) -> Send:
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {k.lower() for k, _ in headers}
            headers.extend((k, v) for k, v in _HEADERS if k not in present)
            message = {**message, "headers": headers}
        await send(message)

    return send_with_headers


async def _refuse(send: Send, message: str) -> None:
    body = json.dumps({"error_code": "PERMISSION_DENIED", "message": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *_HEADERS,
    ]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def secure(app: ASGIApp, policy: HttpPolicy | None) -> ASGIApp:
    """``app`` behind :class:`HttpSecurity` (headers only when ``policy`` is ``None``)."""
    return HttpSecurity(app, policy or HttpPolicy(allowed_hosts=None))
