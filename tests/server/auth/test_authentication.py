"""Who is calling: Basic passwords, API tokens (Bearer or as the Basic password), and what is
open without credentials."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from mlflowx.entities import now_ms
from mlflowx.store.auth import SqlAuthStore
from tests.server.auth.conftest import ADMIN, ALICE, API, AuthServer, basic


def _auth_store(server: AuthServer) -> SqlAuthStore:
    return SqlAuthStore(server.store.db)


def test_health_version_and_static_code_are_open_everything_else_needs_credentials(
    auth_server: AuthServer,
) -> None:
    http = auth_server.http
    assert http.get("/health").status_code == 200
    assert http.get("/version").status_code == 200
    assert http.get("/static/js/app.js").status_code == 200
    for method, path in [
        ("GET", "/"),
        ("GET", "/docs"),
        ("GET", "/openapi.json"),
        ("GET", f"{API}/experiments/get?experiment_id=0"),
        ("POST", f"{API}/experiments/search"),
        ("GET", "/ajax-api/2.0/mlflow/experiments/get?experiment_id=0"),
        ("GET", "/api/2.0/mlflow-artifacts/artifacts/0/x"),
        ("GET", "/get-artifact?run_id=x&path=y"),
        ("GET", f"{API}/no-such-endpoint"),
    ]:
        response = http.request(method, path)
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error_code"] == "UNAUTHENTICATED"
        assert response.headers["www-authenticate"] == 'Basic realm="mlflowx"'


@pytest.mark.parametrize(
    "header",
    [
        basic("alice", "wrong-password"),
        basic("nobody", "alice-password"),
        {"Authorization": "Basic not-base64!"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Bearer mlx_not-a-token"},
        {"Authorization": "Digest abc"},
    ],
)
def test_wrong_credentials_are_refused(auth_server: AuthServer, header: dict[str, str]) -> None:
    response = auth_server.call("GET", "/experiments/get?experiment_id=0", header)
    assert response.status_code == 401
    assert response.json() == {
        "error_code": "UNAUTHENTICATED",
        "message": "Incorrect username, password or token",
    }


def test_tokens_work_as_bearer_and_as_basic_password_until_revoked_or_expired(
    auth_server: AuthServer,
) -> None:
    store = _auth_store(auth_server)
    record, secret = store.create_token("alice", "ci")
    assert secret.startswith("mlx_")
    assert record.name == "ci"
    bearer = {"Authorization": f"Bearer {secret}"}
    body = auth_server.ok("GET", "/users/current", bearer)
    assert body["user"]["username"] == "alice"
    assert auth_server.ok("GET", "/users/current", basic("alice", secret))["user"]["id"] == 2
    # A token is its owner's only: another name with it is refused.
    assert auth_server.call("GET", "/users/current", basic("bob", secret)).status_code == 401
    # Stored hashed: the secret is nowhere in the database.
    with auth_server.store.db.read() as conn:
        hashes = [r[0] for r in conn.execute("SELECT token_hash FROM auth_tokens")]
    assert secret not in hashes
    assert len(hashes[0]) == 64
    store.delete_token("alice", record.id)
    auth_server.forget()
    assert auth_server.call("GET", "/users/current", bearer).status_code == 401

    _, expired = store.create_token("alice", expiry_time=now_ms() - 1)
    response = auth_server.call("GET", "/users/current", {"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401


def test_passwords_are_stored_as_argon2id_hashes(auth_server: AuthServer) -> None:
    with auth_server.store.db.read() as conn:
        rows = conn.execute("SELECT username, password_hash FROM auth_users ORDER BY id")
    assert [r[0] for r in rows] == ["admin", "alice", "bob"]
    assert all(r[1].startswith("$argon2id$") and "password" not in r[1] for r in rows)


def test_checked_credentials_are_remembered_and_forgotten_on_change(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from mlflowx.server import create_app
    from mlflowx.server.auth import AuthConfig
    from mlflowx.store.tracking.sql import SqlTrackingStore

    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'db.db'}")
    config = AuthConfig(admin_password="admin-password", cache_seconds=300)
    with TestClient(create_app(store, None, auth_config=config)) as http:
        url = f"{API}/users/current"
        assert http.get(url, headers=ADMIN).status_code == 200
        guard = http.app.state.auth_guard  # type: ignore[attr-defined]
        assert guard.remembered(ADMIN["Authorization"]) is not None
        body = {"username": "admin", "password": "a-new-password"}
        assert (
            http.patch(f"{API}/users/update-password", json=body, headers=ADMIN).status_code == 200
        )
        assert http.get(url, headers=ADMIN).status_code == 401  # the old password is gone
        assert http.get(url, headers=basic("admin", "a-new-password")).status_code == 200
    store.close()


def test_a_server_without_users_needs_an_admin_password(tmp_path: Path) -> None:
    from mlflowx.exceptions import InvalidParameter
    from mlflowx.server import create_app
    from mlflowx.server.auth import AuthConfig
    from mlflowx.store.tracking.sql import SqlTrackingStore

    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'db.db'}")
    with pytest.raises(InvalidParameter, match="MLFLOWX_AUTH_ADMIN_PASSWORD"):
        create_app(store, None, auth_config=AuthConfig())
    store.close()


def test_alice_may_not_spoof_a_user_through_the_body(auth_server: AuthServer) -> None:
    # users/get and update-password act on the named user: only on oneself unless admin.
    assert auth_server.ok("GET", "/users/get?username=alice", ALICE)["user"]["username"] == "alice"
    response = auth_server.call("GET", "/users/get?username=bob", ALICE)
    assert response.status_code == 403
    body = {"username": "bob", "password": "stolen-password", "current_password": "x"}
    assert auth_server.call("PATCH", "/users/update-password", ALICE, json=body).status_code == 403
