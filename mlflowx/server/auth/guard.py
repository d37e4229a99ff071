"""Authentication (who is calling) and authorization (may they do this), for one request.

Sync code: the middleware runs it inline on SQLite (sub-millisecond lookups) and in the
threadpool elsewhere. Checked credentials are remembered for ``cache_seconds`` by a digest of
the ``Authorization`` header, because a password hash takes ~0.1 s to verify by design.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import posixpath
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from mlflowx.entities.auth import MANAGE, PERMISSIONS, Permission, User
from mlflowx.exceptions import PermissionDenied, Unauthenticated
from mlflowx.server.auth.config import AuthConfig
from mlflowx.server.auth.rules import Need, Rule
from mlflowx.store.auth import SqlAuthStore
from mlflowx.store.locations import decode_until_stable

__all__ = ["Guard"]

_CACHE_LIMIT = 10_000


class Guard:
    def __init__(self, store: SqlAuthStore, config: AuthConfig) -> None:
        self.store = store
        self.config = config
        self._cache: dict[bytes, tuple[float, User]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ authentication
    def authenticate(self, header: str | None) -> User:
        """The user an ``Authorization`` header (Basic password or token, or Bearer token)
        names; Unauthenticated otherwise."""
        if not header:
            raise Unauthenticated(
                "You are not authenticated: send a username and password (HTTP Basic) "
                "or a token (Authorization: Bearer ...)"
            )
        cached = self.remembered(header)
        if cached is not None:
            return cached
        user = self._check(header)
        if user is None:
            raise Unauthenticated("Incorrect username, password or token")
        with self._lock:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[_digest(header)] = (time.monotonic() + self.config.cache_seconds, user)
        return user

    def remembered(self, header: str | None) -> User | None:
        """The user of a header checked less than ``cache_seconds`` ago (no I/O)."""
        if not header or not self._cache:
            return None
        cached = self._cache.get(_digest(header))
        return cached[1] if cached is not None and cached[0] > time.monotonic() else None

    def _check(self, header: str) -> User | None:
        scheme, _, credentials = header.strip().partition(" ")
        credentials = credentials.strip()
        if scheme.lower() == "bearer" and credentials:
            return self.store.user_for_token(credentials)
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, sep, secret = decoded.partition(":")
        if not sep:
            return None
        user = self.store.authenticate(username, secret)
        if user is None:  # a token given as the password (for clients that only do Basic)
            owner = self.store.user_for_token(secret)
            user = owner if owner is not None and owner.username == username else None
        return user

    def forget(self) -> None:
        """Drop remembered credentials (after a password, admin flag, user or token change)."""
        with self._lock:
            self._cache.clear()

    # ------------------------------------------------------------------- authorization
    def check(self, user: User, rule: Rule, find: Callable[[str], Any]) -> None:
        """Raise PermissionDenied unless ``user`` may do what ``rule`` needs; ``find(key)``
        reads a request field (query, body or path)."""
        if user.is_admin:
            return
        for field in rule.admin_fields:
            if find(field):
                raise PermissionDenied(f"Only admins may set '{field}'")
        if rule.kind in ("public", "user"):
            return
        if rule.kind == "admin":
            raise PermissionDenied("This needs an admin user")
        if rule.kind == "self":
            if find(rule.key) != user.username:
                raise PermissionDenied("Only admins may act on other users")
            return
        self._check_resource(user, rule, find)
        if rule.also is not None and find(rule.also.key) not in (None, ""):
            self._check_resource(user, rule.also, find)

    def _check_resource(self, user: User, rule: Rule, find: Callable[[str], Any]) -> None:
        kind, value = rule.kind, find(rule.key)
        if kind in ("run", "runs") and value in (None, "", []):
            value = find("run_uuid")
        if kind == "artifact_path" and not value:
            value = "."  # the root of the proxied store: outside every experiment
        values = value if isinstance(value, list) else [value]
        for one in values:
            if one is None or one == "":
                continue  # the route answers the missing field with its own 400
            if kind in ("registered_model",):
                level = self.permission(user, "registered_model", str(one))
                what = f"registered model '{one}'"
            else:
                experiment_id = self._experiment_of(kind, str(one))
                if experiment_id is None:
                    continue  # no such resource: the route answers 404
                level = self.permission(user, "experiment", experiment_id)
                what = f"experiment {experiment_id}"
            if not _allows(level, rule.need):
                raise PermissionDenied(
                    f"Permission denied: user '{user.username}' has {level.name} on {what}, "
                    f"and this request needs {rule.need.upper()} access"
                )

    def _experiment_of(self, kind: str, value: str) -> str | None:
        if kind in ("experiment", "experiments"):
            return value
        if kind == "artifact_path":
            first = _first_segment(value)
            if not first.isdigit():
                raise PermissionDenied(
                    f"Only admins may reach proxied artifacts outside an experiment ({value!r})"
                )
            return first
        lookup = {"runs": "run"}.get(kind, kind)
        return self.store.experiment_of(lookup, value)

    def permission(self, user: User, kind: str, key: str) -> Permission:
        """A user's level on one experiment (``kind="experiment"``, ``key`` its id) or
        registered model (``"registered_model"``, its name): their grant, else the default."""
        if user.is_admin:
            return MANAGE
        granted = self.store.grant_of(kind, user.id, key)
        return PERMISSIONS[granted] if granted else self.config.default_permission

    def readable(self, user: User, kind: str) -> Callable[[str], bool] | None:
        """A predicate telling which experiments (``experiment``) or registered models
        (``registered_model``) a user may read; ``None`` when they may read all."""
        if user.is_admin:
            return None
        grants: Mapping[str, str] = self.store.grants_of(kind, user.id)
        default = self.config.default_permission.can_read
        if default and all(PERMISSIONS[g].can_read for g in grants.values()):
            return None
        return lambda key: PERMISSIONS[grants[key]].can_read if key in grants else default


def _digest(header: str) -> bytes:
    return hashlib.sha256(header.encode("utf-8", "surrogatepass")).digest()


def _allows(level: Permission, need: Need) -> bool:
    return {
        "read": level.can_read,
        "update": level.can_update,
        "delete": level.can_delete,
        "manage": level.can_manage,
    }[need]


def _first_segment(path: str) -> str:
    """The first segment of a proxied artifact path, decoded until stable and normalised."""
    text = decode_until_stable(path, "artifact path")
    normal = posixpath.normpath("/" + text.replace("\\", "/")).lstrip("/")
    return normal.split("/", 1)[0]
