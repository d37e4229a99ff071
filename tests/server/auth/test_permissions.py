"""What each user may do: MLflow's READ / EDIT / MANAGE / NO_PERMISSIONS on experiments (and
their runs, logged models and proxied artifacts) and registered models, and searches that show
only what the caller may read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlflowx.entities.auth import NO_PERMISSIONS
from tests.server.auth.conftest import ADMIN, ALICE, BOB, AuthServer, make_server


def _grant(server: AuthServer, who: dict[str, str], eid: str, user: str, level: str) -> None:
    body = {"experiment_id": eid, "username": user, "permission": level}
    server.ok("POST", "/experiments/permissions/create", who, json=body)


def _metric(run_id: str) -> dict[str, object]:
    return {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1, "step": 0}


def test_creator_manages_others_read_by_default(auth_server: AuthServer) -> None:
    eid = auth_server.experiment(ALICE, "alice-exp")
    run = auth_server.run(ALICE, eid)
    # alice made it: MANAGE, recorded as her grant.
    body = auth_server.ok("GET", f"/experiments/permissions/get?experiment_id={eid}&username=alice",
                          ALICE)  # fmt: skip
    assert body["experiment_permission"]["permission"] == "MANAGE"
    # bob: READ by default.
    assert auth_server.ok("GET", f"/runs/get?run_id={run}", BOB)["run"]["info"]["run_id"] == run
    for method, path, body in [
        ("POST", "/runs/create", {"experiment_id": eid}),
        ("POST", "/runs/log-metric", _metric(run)),
        ("POST", "/runs/log-batch", {"run_id": run, "metrics": [_metric(run)]}),
        ("POST", "/runs/set-tag", {"run_id": run, "key": "k", "value": "v"}),
        ("POST", "/runs/delete", {"run_id": run}),
        ("POST", "/experiments/update", {"experiment_id": eid, "new_name": "mine"}),
        ("POST", "/experiments/delete", {"experiment_id": eid}),
        ("POST", "/experiments/set-experiment-tag",
         {"experiment_id": eid, "key": "k", "value": "v"}),
        ("POST", "/experiments/permissions/create",
         {"experiment_id": eid, "username": "bob", "permission": "MANAGE"}),
    ]:  # fmt: skip
        response = auth_server.call(method, path, BOB, json=body)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error_code"] == "PERMISSION_DENIED"
    message = auth_server.call("POST", "/runs/log-metric", BOB, json=_metric(run)).json()["message"]
    assert message == (
        f"Permission denied: user 'bob' has READ on experiment {eid}, and this request needs "
        "UPDATE access"
    )


def test_edit_writes_but_does_not_delete_manage_does_both(auth_server: AuthServer) -> None:
    eid = auth_server.experiment(ALICE, "shared")
    run = auth_server.run(ALICE, eid)
    _grant(auth_server, ALICE, eid, "bob", "EDIT")
    auth_server.ok("POST", "/runs/log-metric", BOB, json=_metric(run))
    bob_run = auth_server.run(BOB, eid)
    assert auth_server.call("POST", "/runs/delete", BOB, json={"run_id": run}).status_code == 403
    body = {"experiment_id": eid, "username": "bob", "permission": "MANAGE"}
    auth_server.ok("PATCH", "/experiments/permissions/update", ALICE, json=body)
    auth_server.ok("POST", "/runs/delete", BOB, json={"run_id": bob_run})
    auth_server.ok("POST", "/experiments/delete", BOB, json={"experiment_id": eid})


def test_no_permissions_hides_an_experiment_everywhere(auth_server: AuthServer) -> None:
    secret = auth_server.experiment(ALICE, "secret")
    public = auth_server.experiment(ALICE, "public")
    run = auth_server.run(ALICE, secret)
    _grant(auth_server, ALICE, secret, "bob", "NO_PERMISSIONS")
    for path in [
        f"/experiments/get?experiment_id={secret}",
        "/experiments/get-by-name?experiment_name=secret",
        f"/runs/get?run_id={run}",
        f"/metrics/get-history?run_id={run}&metric_key=m",
        f"/metrics/get-history-bulk-interval?run_ids={run}&metric_key=m",
        f"/artifacts/list?run_id={run}",
        f"/get-artifact?run_id={run}&path=x.txt",
    ]:
        assert auth_server.call("GET", path, BOB).status_code == 403, path
    search = {"experiment_ids": [public, secret]}
    assert auth_server.call("POST", "/runs/search", BOB, json=search).status_code == 403
    assert auth_server.ok("POST", "/runs/search", BOB, json={"experiment_ids": [public]}) == {
        "runs": []
    }
    found = auth_server.ok("POST", "/experiments/search", BOB, json={})["experiments"]
    assert secret not in [e["experiment_id"] for e in found]
    assert public in [e["experiment_id"] for e in found]
    # The admin sees everything.
    found = auth_server.ok("POST", "/experiments/search", ADMIN, json={})["experiments"]
    assert {secret, public} <= {e["experiment_id"] for e in found}


@pytest.fixture
def closed_server(tmp_path: Path) -> Iterator[AuthServer]:
    """Nobody may see anything by default (``default_permission = NO_PERMISSIONS``)."""
    yield from make_server(tmp_path, default=NO_PERMISSIONS)


def test_filtered_search_pages_stay_full_and_tokens_valid(closed_server: AuthServer) -> None:
    ids = [closed_server.experiment(ADMIN, f"e{i}") for i in range(7)]
    visible = ids[1::2]  # e1, e3, e5
    for eid in visible:
        _grant(closed_server, ADMIN, eid, "bob", "READ")
    seen: list[str] = []
    token = None
    while True:
        body = {
            "max_results": 2,
            "order_by": ["name ASC"],
            **({"page_token": token} if token else {}),
        }
        page = closed_server.ok("POST", "/experiments/search", BOB, json=body)
        seen += [e["experiment_id"] for e in page["experiments"]]
        assert len(page["experiments"]) == 2 or "next_page_token" not in page
        token = page.get("next_page_token")
        if not token:
            break
    assert seen == visible
    bad = {"max_results": 0}
    assert closed_server.call("POST", "/experiments/search", BOB, json=bad).status_code == 400


def test_registered_models_creator_manages_aliases_need_edit(auth_server: AuthServer) -> None:
    eid = auth_server.experiment(ALICE, "models")
    run = auth_server.run(ALICE, eid)
    auth_server.ok("POST", "/registered-models/create", ALICE, json={"name": "fraud"})
    version = {"name": "fraud", "source": f"mlflow-artifacts:/{eid}/{run}/artifacts/model",
               "run_id": run}  # fmt: skip
    auth_server.ok("POST", "/model-versions/create", ALICE, json=version)
    alias = {"name": "fraud", "alias": "champion", "version": "1"}
    # bob reads (default) but may not move the champion alias, nor delete the model.
    assert auth_server.ok("GET", "/registered-models/get?name=fraud", BOB)
    assert auth_server.call("POST", "/registered-models/alias", BOB, json=alias).status_code == 403
    response = auth_server.call("DELETE", "/registered-models/delete", BOB, json={"name": "fraud"})
    assert response.status_code == 403
    body = {"name": "fraud", "username": "bob", "permission": "EDIT"}
    auth_server.ok("POST", "/registered-models/permissions/create", ALICE, json=body)
    auth_server.ok("POST", "/registered-models/alias", BOB, json=alias)
    # A grant follows its model's rename.
    rename = {"name": "fraud", "new_name": "fraud-v2"}
    auth_server.ok("POST", "/registered-models/rename", ALICE, json=rename)
    body = auth_server.ok("GET", "/registered-models/permissions/get?name=fraud-v2&username=bob",
                          ALICE)  # fmt: skip
    assert body["registered_model_permission"]["permission"] == "EDIT"


def test_model_searches_show_only_readable_models(auth_server: AuthServer) -> None:
    for name in ("open-model", "closed-model"):
        auth_server.ok("POST", "/registered-models/create", ALICE, json={"name": name})
    body = {"name": "closed-model", "username": "bob", "permission": "NO_PERMISSIONS"}
    auth_server.ok("POST", "/registered-models/permissions/create", ALICE, json=body)
    found = auth_server.ok("GET", "/registered-models/search", BOB)["registered_models"]
    names = [m["name"] for m in found]
    assert names == ["open-model"]
    assert (
        auth_server.call("GET", "/registered-models/get?name=closed-model", BOB).status_code == 403
    )


def test_a_version_needs_read_access_to_its_run(auth_server: AuthServer) -> None:
    eid = auth_server.experiment(ALICE, "private-runs")
    run = auth_server.run(ALICE, eid)
    _grant(auth_server, ALICE, eid, "bob", "NO_PERMISSIONS")
    auth_server.ok("POST", "/registered-models/create", BOB, json={"name": "bobs"})
    version = {"name": "bobs", "source": f"mlflow-artifacts:/{eid}/{run}/artifacts/model",
               "run_id": run}  # fmt: skip
    assert auth_server.call("POST", "/model-versions/create", BOB, json=version).status_code == 403


def test_proxied_artifacts_follow_their_experiment(auth_server: AuthServer) -> None:
    eid = auth_server.experiment(ALICE, "artifacts")
    run = auth_server.run(ALICE, eid)
    path = f"/api/2.0/mlflow-artifacts/artifacts/{eid}/{run}/artifacts/notes.txt"
    assert auth_server.call("PUT", path, ALICE, content=b"alice's").status_code == 200
    assert auth_server.call("PUT", path, BOB, content=b"bob's").status_code == 403
    assert auth_server.call("DELETE", path, BOB).status_code == 403
    assert auth_server.call("GET", path, BOB).content == b"alice's"
    _grant(auth_server, ALICE, eid, "bob", "NO_PERMISSIONS")
    assert auth_server.call("GET", path, BOB).status_code == 403
    # Encoded or dotted paths resolve to the experiment they reach.
    for sneaky in (
        f"x/../{eid}/{run}/artifacts/notes.txt",
        f"%2e%2e/{eid}/{run}/artifacts/notes.txt",
    ):
        response = auth_server.call("GET", f"/api/2.0/mlflow-artifacts/artifacts/{sneaky}", BOB)
        assert response.status_code in (400, 403), sneaky
    listing = f"/api/2.0/mlflow-artifacts/artifacts?path={eid}/{run}/artifacts"
    assert auth_server.call("GET", listing, BOB).status_code == 403
    # Outside any experiment: admins only.
    assert auth_server.call("GET", "/api/2.0/mlflow-artifacts/artifacts", BOB).status_code == 403
    assert auth_server.call("GET", "/api/2.0/mlflow-artifacts/artifacts", ADMIN).status_code == 200


def test_users_are_managed_by_admins(auth_server: AuthServer) -> None:
    new = {"username": "carol", "password": "carol-password"}
    assert auth_server.call("POST", "/users/create", ALICE, json=new).status_code == 403
    assert auth_server.ok("POST", "/users/create", ADMIN, json=new)["user"]["is_admin"] is False
    again = auth_server.call("POST", "/users/create", ADMIN, json=new)
    assert again.status_code == 400
    assert again.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    short = auth_server.call(
        "POST", "/users/create", ADMIN, json={"username": "d", "password": "x"}
    )
    assert short.status_code == 400
    assert "too short" in short.json()["message"]
    users = [u["username"] for u in auth_server.ok("GET", "/users/list", ADMIN)["users"]]
    assert users == ["admin", "alice", "bob", "carol"]
    assert auth_server.call("GET", "/users/list", ALICE).status_code == 403
    admin = {"username": "alice", "is_admin": True}
    assert auth_server.call("PATCH", "/users/update-admin", ALICE, json=admin).status_code == 403
    auth_server.ok("PATCH", "/users/update-admin", ADMIN, json=admin)
    assert auth_server.ok("GET", "/users/list", ALICE)  # alice is an admin now
    # Own password: the current one is needed.
    change = {"username": "bob", "password": "bob-new-password"}
    assert auth_server.call("PATCH", "/users/update-password", BOB, json=change).status_code == 400
    wrong = {**change, "current_password": "nope"}
    assert auth_server.call("PATCH", "/users/update-password", BOB, json=wrong).status_code == 403
    auth_server.ok("PATCH", "/users/update-password", BOB,
                   json={**change, "current_password": "bob-password"})  # fmt: skip
    auth_server.ok("DELETE", "/users/delete", ADMIN, json={"username": "carol"})
    gone = auth_server.call("GET", "/users/get?username=carol", ADMIN)
    assert gone.status_code == 404
    assert gone.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_permission_errors_name_the_problem(auth_server: AuthServer) -> None:
    eid = auth_server.experiment(ALICE, "errors")
    bad = {"experiment_id": eid, "username": "bob", "permission": "OWNER"}
    response = auth_server.call("POST", "/experiments/permissions/create", ALICE, json=bad)
    assert response.status_code == 400
    assert response.json()["message"] == (
        "Invalid permission 'OWNER': expected one of READ, EDIT, MANAGE, NO_PERMISSIONS"
    )
    missing = {"experiment_id": "999", "username": "bob", "permission": "READ"}
    response = auth_server.call("POST", "/experiments/permissions/create", ADMIN, json=missing)
    assert response.status_code == 404
    nobody = {"experiment_id": eid, "username": "nobody", "permission": "READ"}
    response = auth_server.call("POST", "/experiments/permissions/create", ALICE, json=nobody)
    assert response.json()["message"] == "User with username=nobody not found"


def test_mlflow3_user_grant_api(auth_server: AuthServer) -> None:
    eid = auth_server.experiment(ALICE, "v3")
    grant = {"username": "bob", "resource_type": "experiment", "resource_id": eid,
             "permission": "EDIT"}  # fmt: skip
    assert auth_server.call("POST", "/api/3.0/mlflow/users/permissions/grant", BOB,
                            json=grant).status_code == 403  # fmt: skip
    auth_server.ok("POST", "/api/3.0/mlflow/users/permissions/grant", ALICE, json=grant)
    query = f"username=bob&resource_type=experiment&resource_id={eid}"
    got = auth_server.ok("GET", f"/api/3.0/mlflow/users/permissions/get?{query}", BOB)
    assert got == {"allowed": True, "permission": "EDIT"}
    auth_server.ok("POST", "/api/3.0/mlflow/users/permissions/revoke", ALICE, json=grant)
    got = auth_server.ok("GET", f"/api/3.0/mlflow/users/permissions/get?{query}", BOB)
    assert got == {"allowed": True, "permission": "READ"}  # the default again


def test_only_admins_choose_an_experiments_artifact_location(auth_server: AuthServer) -> None:
    # Pointing a new experiment at another one's files would read them through it.
    victim = auth_server.experiment(ALICE, "victim")
    body = {"name": "thief", "artifact_location": f"mlflow-artifacts:/{victim}"}
    response = auth_server.call("POST", "/experiments/create", BOB, json=body)
    assert response.status_code == 403
    assert response.json()["message"] == "Only admins may set 'artifact_location'"
    assert auth_server.ok("POST", "/experiments/create", ADMIN, json=body)["experiment_id"]


def test_wire_gap_routes_follow_experiment_permissions(auth_server: AuthServer) -> None:
    secret = auth_server.experiment(ALICE, "secret-wire")
    public = auth_server.experiment(ALICE, "public-wire")
    secret_run = auth_server.run(ALICE, secret)
    public_run = auth_server.run(ALICE, public)
    _grant(auth_server, ALICE, secret, "bob", "NO_PERMISSIONS")
    # GET experiments/search filters like the POST search.
    found = auth_server.ok("GET", "/experiments/search", BOB)["experiments"]
    assert public in [e["experiment_id"] for e in found]
    assert secret not in [e["experiment_id"] for e in found]
    datasets = "/ajax-api/2.0/mlflow/experiments/search-datasets"
    assert (
        auth_server.call("POST", datasets, BOB, json={"experiment_ids": [secret]}).status_code
        == 403
    )
    auth_server.ok("POST", datasets, BOB, json={"experiment_ids": [public]})
    # upload-artifact needs UPDATE on the run's experiment: bob has READ on the public one.
    upload = "/ajax-api/2.0/mlflow/upload-artifact"
    params = {"run_uuid": public_run, "path": "a.txt"}
    assert auth_server.call("POST", upload, BOB, params=params, content=b"x").status_code == 403
    auth_server.ok("POST", upload, ALICE, params=params, content=b"x")
    # A JSON file naming a run bob may write does not stand in for the run in the query string.
    _grant(auth_server, ALICE, public, "bob", "EDIT")
    decoy = f'{{"run_uuid": "{public_run}"}}'.encode()
    sneaky = {"run_uuid": secret_run, "path": "a.json"}
    response = auth_server.call("POST", upload, BOB, params=sneaky, content=decoy)
    assert response.status_code == 403, response.text
