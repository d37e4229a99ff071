"""Host allowlist (DNS rebinding), cross-origin writes, CORS and security headers, on the
tracking server and the scoring server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mlflowx.server import create_app
from mlflowx.store.tracking.sql import SqlTrackingStore
from mlflowx.utils.http_security import HttpPolicy, default_allowed_hosts, is_loopback

API = "/api/2.0/mlflow"
SEARCH = f"{API}/experiments/search"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlTrackingStore]:
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'db.db'}")
    yield store
    store.close()


def _client(store: SqlTrackingStore, base_url: str, **policy: object) -> TestClient:
    hosts = policy.get("hosts", ["localhost"])
    origins = policy.get("origins", [])
    app = create_app(store, None, http_policy=HttpPolicy.of(hosts, origins))  # type: ignore[arg-type]
    return TestClient(app, base_url=base_url)


@pytest.mark.parametrize(
    "base_url",
    ["http://localhost:5000", "http://127.0.0.1:5000", "http://[::1]:5000", "http://10.1.2.3"],
)
def test_loopback_names_and_ip_addresses_pass(store: SqlTrackingStore, base_url: str) -> None:
    assert _client(store, base_url).post(SEARCH, json={}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:5000", "localhost.evil.example"])
def test_other_host_names_are_refused(store: SqlTrackingStore, host: str) -> None:
    response = _client(store, f"http://{host}").get("/health")
    assert response.status_code == 403
    assert response.json()["error_code"] == "PERMISSION_DENIED"
    assert "--allowed-hosts" in response.json()["message"]


def test_allowed_hosts_take_names_wildcards_and_star(store: SqlTrackingStore) -> None:
    hosts = ["mlflow.corp.example,*.models.example"]
    corp = _client(store, "http://mlflow.corp.example", hosts=hosts)
    assert corp.get("/health").status_code == 200
    assert _client(store, "http://a.models.example", hosts=hosts).get("/health").status_code == 200
    assert _client(store, "http://models.example", hosts=hosts).get("/health").status_code == 403
    assert _client(store, "http://anything", hosts=["*"]).get("/health").status_code == 200


def test_cross_origin_writes_are_refused_same_origin_ones_pass(store: SqlTrackingStore) -> None:
    http = _client(store, "http://localhost:5000")
    create = f"{API}/experiments/create"
    evil = http.post(create, json={"name": "x"}, headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403
    assert "--cors-allowed-origins" in evil.json()["message"]
    assert store.get_experiment_by_name("x") is None
    own = http.post(create, json={"name": "x"}, headers={"Origin": "http://localhost:5000"})
    assert own.status_code == 200
    # Reads are not refused (the browser keeps their answers from the other origin).
    assert http.get("/health", headers={"Origin": "http://evil.example"}).status_code == 200
    # No CORS headers for an origin nobody listed.
    assert (
        "access-control-allow-origin"
        not in http.get("/health", headers={"Origin": "http://evil.example"}).headers
    )


def test_listed_cors_origins_may_call_the_api(store: SqlTrackingStore) -> None:
    http = _client(store, "http://localhost:5000", origins=["https://app.example"])
    preflight = http.options(
        SEARCH,
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,authorization",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    response = http.post(SEARCH, json={}, headers={"Origin": "https://app.example"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    other = http.post(SEARCH, json={}, headers={"Origin": "https://other.example"})
    assert other.status_code == 403


def test_security_headers_on_every_response(store: SqlTrackingStore) -> None:
    http = _client(store, "http://localhost")
    for path in ("/", "/health", "/static/js/app.js", f"{API}/no-such-endpoint"):
        headers = http.get(path).headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["x-frame-options"] == "SAMEORIGIN", path
        assert headers["referrer-policy"] == "same-origin", path


def test_default_allowed_hosts() -> None:
    assert default_allowed_hosts("127.0.0.1") == ["localhost"]
    assert default_allowed_hosts("mlflow.internal") == ["localhost", "mlflow.internal"]
    assert "localhost" in default_allowed_hosts("0.0.0.0")
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("10.0.0.1")


def test_the_scoring_server_checks_hosts_and_origins_too(tmp_path: Path) -> None:
    from mlflowx.serving import create_scoring_app
    from tests.serving._scoring import bodies, save_iris

    X, _ = save_iris(tmp_path / "model")
    app = create_scoring_app(tmp_path / "model", http_policy=HttpPolicy.of(["localhost"]))
    _, body = bodies(X.head(2))["dataframe_split"]
    json_type = {"Content-Type": "application/json"}
    with TestClient(app, base_url="http://localhost:8080") as http:
        ok = http.post("/invocations", content=body, headers=json_type)
        assert ok.status_code == 200
        assert ok.headers["x-content-type-options"] == "nosniff"
        evil = http.post(
            "/invocations", content=body, headers={**json_type, "Origin": "http://evil.example"}
        )
        assert evil.status_code == 403
    with TestClient(app, base_url="http://rebound.example") as http:
        assert http.get("/ping").status_code == 403
        assert http.post("/invocations", content=body, headers=json_type).status_code == 403
