"""The ASGI middleware that puts every request of the server through the auth guard."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mlflowx.entities.auth import MANAGE, User
from mlflowx.exceptions import MlflowxError, Unauthenticated
from mlflowx.server.auth.guard import Guard
from mlflowx.server.auth.rules import Rule, rule_for

__all__ = ["AuthMiddleware"]

_ADMIN_ONLY = Rule("admin")
_LIST_KINDS = ("runs", "experiments")
_NO_BODY_KINDS = ("public", "user", "admin", "artifact_path")


class AuthMiddleware:
    """Authenticate, then authorize by the request's rule; the user goes in
    ``request.state.user`` for routes that filter what they return."""

    def __init__(self, app: ASGIApp, *, guard: Guard, inline: bool) -> None:
        self.app = app
        self.guard = guard
        self.inline = inline  # SQLite: lookups take microseconds, no threadpool hop

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self.inline:
            return fn(*args)
        return await run_in_threadpool(fn, *args)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        found = rule_for(scope["method"], scope["path"])
        rule, path_params = found if found is not None else (_ADMIN_ONLY, {})
        if rule.kind == "public":
            await self.app(scope, receive, send)
            return
        header = _header(scope, b"authorization")
        try:
            # A password check is slow (Argon2): never on the event loop.
            user = self.guard.remembered(header)
            if user is None:
                user = await run_in_threadpool(self.guard.authenticate, header)
            body: dict[str, Any] = {}
            reads_body = rule.kind not in _NO_BODY_KINDS or rule.grant_created or rule.admin_fields
            if reads_body and not rule.query_only:
                raw, receive = await _buffer(receive)
                body = _json_object(raw)
            query = parse_qs(scope["query_string"].decode("latin-1"))
            find = _finder(path_params, query, body, rule)
            await self._run(self.guard.check, user, rule, find)
        except MlflowxError as exc:
            await _error(send, exc, self.guard.config.realm)
            return
        scope.setdefault("state", {})["user"] = user
        if rule.grant_created:
            send = self._granting(send, user, rule, body)
        await self.app(scope, receive, send)

    def _granting(self, send: Send, user: User, rule: Rule, body: dict[str, Any]) -> Send:
        """A ``send`` that, once a create succeeded, gives its creator MANAGE on it."""
        status = 0
        chunks: list[bytes] = []

        async def granting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and status == 200:
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    key = _created_key(rule.grant_created, b"".join(chunks), body)
                    if key:
                        kind = "experiment" if rule.grant_created == "experiment_id" else "model"
                        await self._run(self._grant, kind, key, user)
            await send(message)

        return granting_send

    def _grant(self, kind: str, key: str, user: User) -> None:
        resource = "experiment" if kind == "experiment" else "registered_model"
        self.guard.store.grant(resource, key, user.username, MANAGE.name)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _buffer(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body (the JSON API's bodies are size-limited before this) and a
    ``receive`` that hands it to the app again."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    raw = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    return raw, replay


def _json_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {}  # not JSON: the route answers it with its own 400
    return parsed if isinstance(parsed, dict) else {}


def _finder(
    path_params: dict[str, str], query: dict[str, list[str]], body: dict[str, Any], rule: Rule
) -> Callable[[str], Any]:
    def find(key: str) -> Any:
        if key in path_params:
            return path_params[key]
        many = rule.kind in _LIST_KINDS and key != "run_uuid"
        if key in body:
            value = body[key]
            if many:
                return [str(v) for v in value] if isinstance(value, list) else [str(value)]
            return value if isinstance(value, str) else str(value)
        values = query.get(key)
        if not values:
            return [] if many else None
        return values if many else values[0]

    return find


def _created_key(field: str, response: bytes, request: dict[str, Any]) -> str | None:
    """The id of what a create made: a top-level response field, else the request's."""
    try:
        parsed = json.loads(response)
    except ValueError:
        parsed = {}
    value = parsed.get(field) if isinstance(parsed, dict) else None
    if value is None:
        value = request.get(field)
    return str(value) if value not in (None, "") else None


async def _error(send: Send, exc: MlflowxError, realm: str) -> None:
    headers = [(b"content-type", b"application/json")]
    if isinstance(exc, Unauthenticated):
        headers.append((b"www-authenticate", f'Basic realm="{realm}"'.encode()))
    body = json.dumps(exc.to_payload()).encode()
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": exc.http_status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
