"""``POST /api/2.0/mlflowx/gc`` (``mlflowx gc`` through the server): admins only, and a stored
location outside the server's artifact roots stops it before anything is deleted."""

from __future__ import annotations

from pathlib import Path

from tests.server.auth.conftest import ADMIN, ALICE, AuthServer

GC = "/api/2.0/mlflowx/gc"


def test_only_admins_may_collect(auth_server: AuthServer) -> None:
    eid = auth_server.experiment(ALICE, "alice-exp")
    rid = auth_server.run(ALICE, eid)
    auth_server.ok("POST", "/runs/delete", ALICE, json={"run_id": rid})
    # alice owns the run, and still may not purge: gc is an administrator's operation
    denied = auth_server.call("POST", GC, ALICE, json={})
    assert denied.status_code == 403, denied.text
    assert auth_server.call("POST", GC, {}, json={}).status_code == 401
    assert auth_server.store.get_run(rid).info.lifecycle_stage == "deleted"
    body = auth_server.ok("POST", GC, ADMIN, json={"run_ids": [rid]})
    assert body["runs"] == 1
    assert auth_server.call("GET", f"/runs/get?run_id={rid}", ADMIN).status_code == 404


def test_a_location_outside_the_servers_roots_stops_the_collection(
    auth_server: AuthServer, tmp_path: Path
) -> None:
    """A row written straight to the database (or before location checks existed) must not
    make the server delete its own machine's files."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    store = auth_server.store
    eid = store.create_experiment("planted", artifact_location=str(outside))
    rid = store.create_run(eid, user_id="admin", start_time=0, tags=[], run_name="r").info.run_id
    store.delete_run(rid)
    refused = auth_server.call("POST", GC, ADMIN, json={})
    assert refused.status_code == 400, refused.text
    assert "stored artifact location" in refused.json()["message"]
    assert (outside / "precious.txt").read_text() == "keep me"
    assert store.get_run(rid).info.lifecycle_stage == "deleted"  # nothing half-done
