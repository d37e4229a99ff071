"""``/graphql`` with auth on: each query checks read access to what it names, as REST does."""

from __future__ import annotations

from typing import Any

from tests.server.auth.conftest import ADMIN, ALICE, BOB, AuthServer

QUERIES = {
    "experiment": "query Q($id: String) { mlflowGetExperiment(input: {experimentId: $id}) "
    "{ experiment { name } } }",
    "run": "query Q($run: String) { mlflowGetRun(input: {runId: $run}) "
    "{ run { info { runId } experiment { name } } } }",
    "search": "query Q($id: String) { mlflowSearchRuns(input: {experimentIds: [$id]}) "
    "{ runs { info { runId } } } }",
    "bulk": "query Q($run: String) { mlflowGetMetricHistoryBulkInterval("
    'input: {runIds: [$run], metricKey: "m"}) { metrics { value } } }',
}


def _ask(server: AuthServer, who: dict[str, str], name: str, **variables: str) -> Any:
    response = server.http.post(
        "/graphql", headers=who, json={"query": QUERIES[name], "variables": variables}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_graphql_needs_a_user(auth_server: AuthServer) -> None:
    response = auth_server.http.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 401


def test_graphql_queries_check_read_permission(auth_server: AuthServer) -> None:
    secret = auth_server.experiment(ALICE, "secret")
    public = auth_server.experiment(ALICE, "public")
    run = auth_server.run(ALICE, secret)
    visible = auth_server.run(ALICE, public)
    body = {"experiment_id": secret, "username": "bob", "permission": "NO_PERMISSIONS"}
    auth_server.ok("POST", "/experiments/permissions/create", ALICE, json=body)
    for who in (ALICE, ADMIN, BOB):
        allowed = who is not BOB
        for name, variables in [
            ("experiment", {"id": secret}),
            ("run", {"run": run}),
            ("search", {"id": secret}),
            ("bulk", {"run": run}),
        ]:
            answer = _ask(auth_server, who, name, **variables)
            if allowed:
                assert answer["errors"] is None, (name, answer)
            else:
                assert answer["errors"] is not None, (name, answer)
                assert answer["errors"][0].startswith("PERMISSION_DENIED: "), answer
                assert answer["data"] == {next(iter(answer["data"])): None}
    # What bob may read still answers.
    got = _ask(auth_server, BOB, "run", run=visible)
    assert got["errors"] is None
    assert got["data"]["mlflowGetRun"]["run"]["experiment"]["name"] == "public"
    assert _ask(auth_server, BOB, "search", id=public)["data"]["mlflowSearchRuns"]["runs"] == [
        {"info": {"runId": visible}}
    ]
