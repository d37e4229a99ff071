"""The auth store: users, tokens and permissions in the tracking database (plain SQL).

It shares the SQL tracking store's database, so permissions follow their experiment or
registered model (foreign keys with cascades) and one backup holds everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mlflowx.entities import now_ms
from mlflowx.entities.auth import (
    ApiToken,
    ExperimentPermission,
    Permission,
    RegisteredModelPermission,
    User,
    permission_named,
)
from mlflowx.exceptions import AlreadyExists, InvalidParameter, NotFound
from mlflowx.store.auth.passwords import (
    hash_password,
    hash_token,
    new_token,
    verify_password,
)
from mlflowx.store.sql.db import Connection, Database

__all__ = ["SqlAuthStore"]

_USERNAME = re.compile(r"^[^:\s\x00-\x1f\x7f]{1,255}$")
_USER_COLUMNS = "id, username, is_admin"


def _user(row: Sequence[Any]) -> User:
    return User(id=int(row[0]), username=str(row[1]), is_admin=bool(row[2]))


def _experiment_id(value: str | int) -> int:
    text = str(value).strip()
    if not text.isdigit() or len(text) > 18:
        raise InvalidParameter(f"Invalid experiment_id {value!r}: expected a number")
    return int(text)


class SqlAuthStore:
    """Users, tokens and per-resource grants in ``db`` (a SQL tracking store's database)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------------------ users
    def create_user(self, username: str, password: str, *, is_admin: bool = False) -> User:
        if not _USERNAME.match(username or ""):
            raise InvalidParameter(
                f"Invalid username {username!r}: use 1 to 255 characters without spaces, "
                "colons or control characters"
            )
        hashed = hash_password(password)
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM auth_users WHERE username = :u", {"u": username}):
                raise AlreadyExists(f"User '{username}' already exists")
            conn.execute(
                "INSERT INTO auth_users (username, password_hash, is_admin, creation_time) "
                "VALUES (:u, :h, :a, :t)",
                {"u": username, "h": hashed, "a": bool(is_admin), "t": now_ms()},
            )
            return self._user(conn, username)

    def _user(self, conn: Connection, username: str) -> User:
        rows = conn.execute(
            f"SELECT {_USER_COLUMNS} FROM auth_users WHERE username = :u", {"u": username}
        )
        if not rows:
            raise NotFound(f"User with username={username} not found")
        return _user(rows[0])

    def get_user(self, username: str) -> User:
        with self.db.read() as conn:
            return self._user(conn, username)

    def list_users(self) -> list[User]:
        with self.db.read() as conn:
            rows = conn.execute(f"SELECT {_USER_COLUMNS} FROM auth_users ORDER BY username")
        return [_user(r) for r in rows]

    def has_users(self) -> bool:
        with self.db.read() as conn:
            return bool(conn.execute("SELECT 1 FROM auth_users LIMIT 1"))

    def authenticate(self, username: str, password: str) -> User | None:
        """The user whose password this is, else ``None`` (same cost for unknown users)."""
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {_USER_COLUMNS}, password_hash FROM auth_users WHERE username = :u",
                {"u": username},
            )
        if not rows:
            verify_password(_dummy_hash(), password)  # no timing hint that the name is unknown
            return None
        return _user(rows[0]) if verify_password(str(rows[0][3]), password) else None

    def update_password(self, username: str, password: str) -> None:
        hashed = hash_password(password)
        with self.db.write() as conn:
            self._user(conn, username)
            conn.execute(
                "UPDATE auth_users SET password_hash = :h WHERE username = :u",
                {"h": hashed, "u": username},
            )

    def set_admin(self, username: str, is_admin: bool) -> None:
        with self.db.write() as conn:
            self._user(conn, username)
            conn.execute(
                "UPDATE auth_users SET is_admin = :a WHERE username = :u",
                {"a": bool(is_admin), "u": username},
            )

    def delete_user(self, username: str) -> None:
        with self.db.write() as conn:
            user = self._user(conn, username)
            # Children first: SQLite enforces the cascades too, but only with foreign keys on.
            for table in _USER_CHILDREN:
                conn.execute(f"DELETE FROM {table} WHERE user_id = :id", {"id": user.id})
            conn.execute("DELETE FROM auth_users WHERE id = :id", {"id": user.id})

    # ----------------------------------------------------------------------------- tokens
    def create_token(
        self, username: str, name: str = "", *, expiry_time: int | None = None
    ) -> tuple[ApiToken, str]:
        """A new API token for ``username``: its record and the secret (shown only now)."""
        secret = new_token()
        created = now_ms()
        label = (name or f"token-{created}")[:255]
        with self.db.write() as conn:
            user = self._user(conn, username)
            conn.execute(
                "INSERT INTO auth_tokens (user_id, name, token_hash, creation_time, "
                "expiry_time) VALUES (:u, :n, :h, :t, :e)",
                {"u": user.id, "n": label, "h": hash_token(secret), "t": created, "e": expiry_time},
            )
            row = conn.execute(
                "SELECT id FROM auth_tokens WHERE token_hash = :h", {"h": hash_token(secret)}
            )[0]
        return ApiToken(int(row[0]), user.id, label, created, expiry_time), secret

    def list_tokens(self, username: str) -> list[ApiToken]:
        with self.db.read() as conn:
            user = self._user(conn, username)
            rows = conn.execute(
                "SELECT id, user_id, name, creation_time, expiry_time FROM auth_tokens "
                "WHERE user_id = :u ORDER BY id",
                {"u": user.id},
            )
        return [ApiToken(int(r[0]), int(r[1]), str(r[2]), int(r[3]), r[4]) for r in rows]

    def delete_token(self, username: str, token_id: int) -> None:
        with self.db.write() as conn:
            user = self._user(conn, username)
            changed = conn.execute_rowcount(
                "DELETE FROM auth_tokens WHERE id = :id AND user_id = :u",
                {"id": int(token_id), "u": user.id},
            )
        if not changed:
            raise NotFound(f"User '{username}' has no token with id {token_id}")

    def user_for_token(self, secret: str) -> User | None:
        """The owner of an unexpired token, else ``None``."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT u.id, u.username, u.is_admin, t.expiry_time FROM auth_tokens t "
                "JOIN auth_users u ON u.id = t.user_id WHERE t.token_hash = :h",
                {"h": hash_token(secret)},
            )
        if not rows or (rows[0][3] is not None and int(rows[0][3]) <= now_ms()):
            return None
        return _user(rows[0])

    # ------------------------------------------------------------------------ permissions
    # MLflow's names, over one implementation per operation (``_GRANTS`` tells the kinds apart).
    def create_experiment_permission(
        self, experiment_id: str, username: str, permission: str
    ) -> ExperimentPermission:
        key, user_id, level = self._create(_EXPERIMENTS, experiment_id, username, permission)
        return ExperimentPermission(str(key), user_id, level)

    def get_experiment_permission(self, experiment_id: str, username: str) -> ExperimentPermission:
        key, user_id, level = self._get(_EXPERIMENTS, experiment_id, username)
        return ExperimentPermission(str(key), user_id, level)

    def update_experiment_permission(
        self, experiment_id: str, username: str, permission: str
    ) -> None:
        self._change(_EXPERIMENTS, experiment_id, username, permission_named(permission))

    def delete_experiment_permission(self, experiment_id: str, username: str) -> None:
        self._change(_EXPERIMENTS, experiment_id, username, None)

    def create_registered_model_permission(
        self, name: str, username: str, permission: str
    ) -> RegisteredModelPermission:
        key, user_id, level = self._create(_MODELS, name, username, permission)
        return RegisteredModelPermission(str(key), user_id, level)

    def get_registered_model_permission(
        self, name: str, username: str
    ) -> RegisteredModelPermission:
        key, user_id, level = self._get(_MODELS, name, username)
        return RegisteredModelPermission(str(key), user_id, level)

    def update_registered_model_permission(self, name: str, username: str, permission: str) -> None:
        self._change(_MODELS, name, username, permission_named(permission))

    def delete_registered_model_permission(self, name: str, username: str) -> None:
        self._change(_MODELS, name, username, None)

    def grant(self, kind: str, key: str, username: str, permission: str) -> None:
        """Create or replace a grant (``kind``: ``experiment`` or ``registered_model``)."""
        grants = _GRANTS[kind]
        try:
            self._create(grants, key, username, permission)
        except AlreadyExists:
            self._change(grants, key, username, permission_named(permission))

    def grants_of(self, kind: str, user_id: int) -> dict[str, str]:
        """Every explicit grant of a user on one kind of resource: id or name -> level."""
        grants = _GRANTS[kind]
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {grants.column}, permission FROM {grants.table} WHERE user_id = :u",
                {"u": user_id},
            )
        return {str(r[0]): str(r[1]) for r in rows}

    def grant_of(self, kind: str, user_id: int, key: str) -> str | None:
        """A user's explicit level on one experiment or registered model, if any."""
        grants = _GRANTS[kind]
        try:
            parsed = grants.key(key)
        except InvalidParameter:
            return None  # not an experiment id: nothing can be granted on it
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT permission FROM {grants.table} "
                f"WHERE {grants.column} = :k AND user_id = :u",
                {"k": parsed, "u": user_id},
            )
        return str(rows[0][0]) if rows else None

    def _create(
        self, grants: _Grants, key: str, username: str, permission: str
    ) -> tuple[object, int, str]:
        level = permission_named(permission)
        parsed = grants.key(key)
        with self.db.write() as conn:
            user = self._user(conn, username)
            if not conn.execute(grants.exists, {"k": parsed}):
                raise NotFound(grants.missing(key))
            where = f"WHERE {grants.column} = :k AND user_id = :u"
            if conn.execute(f"SELECT 1 FROM {grants.table} {where}", {"k": parsed, "u": user.id}):
                raise AlreadyExists(
                    f"{grants.label} permission ({grants.column}={key}, username={username}) "
                    "already exists"
                )
            conn.execute(
                f"INSERT INTO {grants.table} ({grants.column}, user_id, permission) "
                "VALUES (:k, :u, :p)",
                {"k": parsed, "u": user.id, "p": level.name},
            )
        return parsed, user.id, level.name

    def _get(self, grants: _Grants, key: str, username: str) -> tuple[object, int, str]:
        parsed = grants.key(key)
        with self.db.read() as conn:
            user = self._user(conn, username)
            rows = conn.execute(
                f"SELECT permission FROM {grants.table} "
                f"WHERE {grants.column} = :k AND user_id = :u",
                {"k": parsed, "u": user.id},
            )
        if not rows:
            raise NotFound(_not_granted(grants, key, username))
        return parsed, user.id, str(rows[0][0])

    def _change(self, grants: _Grants, key: str, username: str, level: Permission | None) -> None:
        """Update (``level``) or delete (``None``) an existing grant; NotFound when absent."""
        parsed = grants.key(key)
        with self.db.write() as conn:
            user = self._user(conn, username)
            where = f"WHERE {grants.column} = :k AND user_id = :u"
            params = {"k": parsed, "u": user.id}
            if level is None:
                changed = conn.execute_rowcount(f"DELETE FROM {grants.table} {where}", params)
            else:
                changed = conn.execute_rowcount(
                    f"UPDATE {grants.table} SET permission = :p {where}",
                    {**params, "p": level.name},
                )
        if not changed:
            raise NotFound(_not_granted(grants, key, username))

    # ------------------------------------------------------------ lookups for authorization
    def experiment_of(self, kind: str, key: str) -> str | None:
        """The experiment a run (``run``), a logged model (``logged_model``) or a name
        (``experiment_name``) belongs to; ``None`` when there is no such thing."""
        sql = _EXPERIMENT_OF[kind]
        with self.db.read() as conn:
            rows = conn.execute(sql, {"k": key})
        return str(rows[0][0]) if rows else None


@dataclass(frozen=True)
class _Grants:
    """Where one kind of resource keeps its grants, and how its keys are read and named."""

    label: str
    table: str
    column: str
    key: Callable[[str], object]
    exists: str  # SQL: does the resource (:k) exist?
    missing: Callable[[str], str]


def _not_granted(grants: _Grants, key: str, username: str) -> str:
    return f"{grants.label} permission with {grants.column}={key} and username={username} not found"


_EXPERIMENTS = _Grants(
    label="Experiment",
    table="auth_experiment_permissions",
    column="experiment_id",
    key=_experiment_id,
    exists="SELECT 1 FROM experiments WHERE experiment_id = :k",
    missing=lambda key: f"No Experiment with id={key} exists",
)
_MODELS = _Grants(
    label="Registered model",
    table="auth_registered_model_permissions",
    column="name",
    key=str,
    exists="SELECT 1 FROM registered_models WHERE name = :k",
    missing=lambda key: f"Registered Model with name={key} not found",
)
_GRANTS = {"experiment": _EXPERIMENTS, "registered_model": _MODELS}

_EXPERIMENT_OF = {
    "run": "SELECT experiment_id FROM runs WHERE run_uuid = :k",
    "logged_model": "SELECT experiment_id FROM logged_models WHERE model_id = :k",
    "experiment_name": "SELECT experiment_id FROM experiments WHERE name = :k",
}
_USER_CHILDREN = ("auth_tokens", _EXPERIMENTS.table, _MODELS.table)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")
