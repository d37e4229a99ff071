"""An auth-enabled server in process: an admin, and two users (alice, bob)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mlflowx.entities.auth import READ, Permission
from mlflowx.server import create_app
from mlflowx.server.auth import AuthConfig
from mlflowx.store.tracking.sql import SqlTrackingStore

API = "/api/2.0/mlflow"
ADMIN_PASSWORD = "admin-password"


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


#: Paths used as they are; others are relative to the REST API's /api/2.0/mlflow.
_RAW_PATHS = ("/api/", "/ajax-api/", "/get-artifact", "/health", "/version", "/static", "/docs")
ADMIN = basic("admin", ADMIN_PASSWORD)
ALICE = basic("alice", "alice-password")
BOB = basic("bob", "bob-password")


@dataclass
class AuthServer:
    http: TestClient
    store: SqlTrackingStore

    def call(self, method: str, path: str, who: dict[str, str], **kw: Any) -> Any:
        raw = path == "/" or path.startswith(_RAW_PATHS)
        url = path if raw else API + path
        return self.http.request(method, url, headers=who, **kw)

    def ok(self, method: str, path: str, who: dict[str, str], **kw: Any) -> Any:
        response = self.call(method, path, who, **kw)
        assert response.status_code == 200, response.text
        return response.json()

    def forget(self) -> None:
        """Drop remembered credentials (after a change made to the database directly)."""
        self.http.app.state.auth_guard.forget()  # type: ignore[attr-defined]

    def experiment(self, who: dict[str, str], name: str) -> str:
        return str(
            self.ok("POST", "/experiments/create", who, json={"name": name})["experiment_id"]
        )

    def run(self, who: dict[str, str], experiment_id: str) -> str:
        body = self.ok("POST", "/runs/create", who, json={"experiment_id": experiment_id})
        return str(body["run"]["info"]["run_id"])


def make_server(tmp_path: Path, default: Permission = READ) -> Iterator[AuthServer]:
    store = SqlTrackingStore(
        f"sqlite:///{tmp_path / 'auth.db'}", default_artifact_root="mlflow-artifacts:/"
    )
    config = AuthConfig(
        default_permission=default, admin_password=ADMIN_PASSWORD, cache_seconds=300
    )
    app = create_app(store, str(tmp_path / "artifacts"), auth_config=config)
    with TestClient(app, base_url="http://testserver") as http:
        server = AuthServer(http, store)
        for name in ("alice", "bob"):
            server.ok("POST", "/users/create", ADMIN,
                      json={"username": name, "password": f"{name}-password"})  # fmt: skip
        yield server
    store.close()


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with the smallest cost: the same code path, a fraction of a millisecond a hash
    (the real cost, ~0.1 s a hash, is the point in production and the waste in tests)."""
    from argon2 import PasswordHasher

    from mlflowx.store.auth import passwords

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", lambda: cheap)


@pytest.fixture
def auth_server(tmp_path: Path) -> Iterator[AuthServer]:
    yield from make_server(tmp_path)
