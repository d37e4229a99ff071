"""``mlflowx server --auth`` as people run it: the admin CLI first, then MLflow's own clients
(tracking with MLFLOW_TRACKING_USERNAME/PASSWORD or TOKEN, and its basic-auth admin client)
and mlflowx's client against the live server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.server import LiveServer, free_port, start_mlflowx_server

BIN = Path(sys.executable).parent
# Importing MLflow's auth client imports its server, whose SQLAlchemy models use a loader
# strategy SQLAlchemy 2.1 deprecates and a Starlette module Starlette 1.x deprecates; MLflow's,
# checked, not ours to fix.
pytestmark = [
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated"),
    pytest.mark.filterwarnings("ignore:starlette.middleware.wsgi is deprecated"),
]
ADMIN_PASSWORD = "admin-password-1"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "mlflowx"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    """An auth server whose users were made with the CLI before it started; yields the server
    and alice's API token."""
    home = tmp_path_factory.mktemp("auth-live")
    db = f"sqlite:///{home / 'mlflowx.db'}"
    made = _cli("auth", "create-user", "admin", "--admin", "--backend-store-uri", db,
                env={"MLFLOWX_AUTH_PASSWORD": ADMIN_PASSWORD})  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "Created admin user 'admin'" in made.stdout
    made = _cli("auth", "create-user", "alice", "--backend-store-uri", db,
                env={"MLFLOWX_AUTH_PASSWORD": "alice-password"})  # fmt: skip
    assert made.returncode == 0, made.stderr
    token = _cli("auth", "token", "alice", "--name", "ci", "--backend-store-uri", db)
    assert token.returncode == 0, token.stderr
    server = start_mlflowx_server(home, backend_uri=db, args=["--auth"])
    try:
        yield server, token.stdout.strip()
    finally:
        server.stop()


@pytest.fixture
def official_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_official_client_with_a_password_and_with_a_token(
    live: tuple[LiveServer, str], official_env: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    server, token = live
    with pytest.raises(MlflowException, match=r"UNAUTHENTICATED|401|not authenticated"):
        MlflowClient(server.url).search_experiments()
    official_env.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    official_env.setenv("MLFLOW_TRACKING_PASSWORD", "alice-password")
    client = MlflowClient(server.url)
    eid = client.create_experiment("alice-live")
    run = client.create_run(eid)
    client.log_metric(run.info.run_id, "m", 1.5)
    official_env.delenv("MLFLOW_TRACKING_USERNAME")
    official_env.delenv("MLFLOW_TRACKING_PASSWORD")
    official_env.setenv("MLFLOW_TRACKING_TOKEN", token)
    again = MlflowClient(server.url).get_run(run.info.run_id)
    assert again.data.metrics == {"m": 1.5}


def test_mlflows_auth_client_manages_users_and_grants(
    live: tuple[LiveServer, str], official_env: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException, RestException
    from mlflow.server.auth.client import AuthServiceClient

    server, _ = live
    official_env.setenv("MLFLOW_TRACKING_USERNAME", "admin")
    official_env.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN_PASSWORD)
    auth = AuthServiceClient(server.url)
    user = auth.create_user("bob", "bob-password")
    assert (user.username, user.is_admin) == ("bob", False)
    assert auth.get_user("bob").id == user.id
    eid = MlflowClient(server.url).create_experiment("admin-owned")
    auth.grant_user_permission("bob", "experiment", eid, "EDIT")
    assert auth.get_user_permission("bob", "experiment", eid).permission == "EDIT"
    auth.update_user_password("bob", "bob-password-2")
    auth.update_user_admin("bob", False)

    official_env.setenv("MLFLOW_TRACKING_USERNAME", "bob")
    official_env.setenv("MLFLOW_TRACKING_PASSWORD", "bob-password-2")
    bob = MlflowClient(server.url)
    run = bob.create_run(eid)  # EDIT: may write
    with pytest.raises(MlflowException, match=r"PERMISSION_DENIED|403"):
        bob.delete_experiment(eid)  # not MANAGE
    with pytest.raises((MlflowException, RestException)):
        AuthServiceClient(server.url).create_user("mallory", "mallory-password")
    official_env.setenv("MLFLOW_TRACKING_USERNAME", "admin")
    official_env.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN_PASSWORD)
    auth.revoke_user_permission("bob", "experiment", eid)
    auth.delete_user("bob")
    assert MlflowClient(server.url).get_run(run.info.run_id).info.experiment_id == eid


def test_mlflowx_client_sends_the_token(
    live: tuple[LiveServer, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflowx import MlflowClient

    server, token = live
    monkeypatch.setenv("MLFLOWX_TRACKING_TOKEN", token)
    client = MlflowClient(server.url)
    eid = client.create_experiment("via-mlflowx")
    assert client.get_experiment(eid).name == "via-mlflowx"


def test_cli_grants_and_lists(live: tuple[LiveServer, str]) -> None:
    server, token = live
    db = server.backend_uri
    eid = httpx.post(
        f"{server.url}/api/2.0/mlflow/experiments/create",
        json={"name": "granted"},
        auth=("admin", ADMIN_PASSWORD),
    ).json()["experiment_id"]
    done = _cli("auth", "grant", "alice", "--experiment-name", "granted", "-p", "read",
                "--backend-store-uri", db)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"'alice' has READ on experiment {eid}."
    listed = _cli("auth", "list-users", "--backend-store-uri", db).stdout
    alice = next(line for line in listed.splitlines() if line.startswith("alice "))
    assert f"experiment {eid}: READ" in alice
    assert "admin (admin)" in listed
    bad = _cli("auth", "grant", "alice", "--experiment", eid, "-p", "OWNER",
               "--backend-store-uri", db)  # fmt: skip
    assert bad.returncode == 2
    assert "Invalid permission 'OWNER'" in bad.stderr
    assert "Traceback" not in bad.stderr
    tokens = _cli("auth", "tokens", "alice", "--backend-store-uri", db).stdout
    assert "\tci\t" in tokens
    assert token not in tokens


def test_the_ui_asks_for_credentials(live: tuple[LiveServer, str]) -> None:
    server, _ = live
    response = httpx.get(server.url + "/")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert httpx.get(server.url + "/", auth=("alice", "alice-password")).status_code == 200


def test_auth_without_users_or_admin_password_refuses_to_start(tmp_path: Path) -> None:
    env = {"MLFLOWX_HOME": str(tmp_path)}
    for name in ("MLFLOWX_AUTH_ADMIN_PASSWORD", "MLFLOW_AUTH_ADMIN_PASSWORD"):
        os.environ.pop(name, None)
    done = _cli("server", "--auth", "--port", str(free_port()), env=env)
    assert done.returncode == 2
    assert "no user exists yet" in done.stderr
    assert "MLFLOWX_AUTH_ADMIN_PASSWORD" in done.stderr
    assert "Traceback" not in done.stderr


def test_binding_every_interface_without_auth_warns(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "mlflowx"), "server", "--host", "0.0.0.0", "--port", str(port)],
        env={**os.environ, "MLFLOWX_HOME": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        import time

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        # A name nobody listed is refused, the machine's own IP passes.
        refused = httpx.get(f"http://127.0.0.1:{port}/health", headers={"Host": "evil.example"})
        assert refused.status_code == 403
    finally:
        os.killpg(proc.pid, 15)
        _, err = proc.communicate(timeout=20)
    assert "WARNING: listening on 0.0.0.0 without --auth" in err
