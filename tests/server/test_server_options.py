"""``mlflowx server`` options MLflow's server has: ``--static-prefix``, ``--registry-store-uri``,
``--default-artifact-root`` with the artifact proxy on, and ``--expose-prometheus``."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from mlflowx.server import create_app
from mlflowx.store.tracking.sql import SqlTrackingStore
from tests.fixtures.server import SERVER_ENV, start_mlflowx_server

A = "/api/2.0/mlflow"


# ---------------------------------------------------------------------------- static prefix
@pytest.fixture
def prefixed(tmp_path: Path) -> Iterator[TestClient]:
    store = SqlTrackingStore(
        f"sqlite:///{tmp_path / 'db'}", default_artifact_root="mlflow-artifacts:/"
    )
    app = create_app(store, str(tmp_path / "proxied"), static_prefix="/mlflow")
    with TestClient(app, base_url="http://localhost") as http:
        yield http
    store.close()


def test_static_prefix_serves_api_ui_and_health_under_it(prefixed: TestClient) -> None:
    assert prefixed.get("/mlflow/health").text == "OK"
    eid = prefixed.post(f"/mlflow{A}/experiments/create", json={"name": "p"}).json()
    assert (
        prefixed.get(f"/mlflow{A}/experiments/get", params=eid).json()["experiment"]["name"] == "p"
    )
    # The UI's alias, the artifact proxy and the UI's own files, all under the prefix.
    ajax = prefixed.get("/mlflow/ajax-api/2.0/mlflow/experiments/search")
    assert [e["name"] for e in ajax.json()["experiments"]] == ["p", "Default"]
    run = prefixed.post(f"/mlflow{A}/runs/create", json=eid).json()["run"]["info"]
    put = prefixed.put(
        f"/mlflow/api/2.0/mlflow-artifacts/artifacts/{eid['experiment_id']}/x.txt", content=b"hi"
    )
    assert put.status_code == 200, put.text
    assert run["artifact_uri"].startswith("mlflow-artifacts:/")
    shell = prefixed.get("/mlflow/").text
    assert 'data-prefix="/mlflow"' in shell
    assert '"/mlflow/static/js/app.js"' in shell
    assert '"/static/' not in shell
    script = prefixed.get("/mlflow/static/js/app.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    docs = prefixed.get("/mlflow/docs").text
    assert "/mlflow/openapi.json" in docs
    assert prefixed.get("/mlflow/openapi.json").status_code == 200


def test_static_prefix_hides_the_unprefixed_paths(prefixed: TestClient) -> None:
    for path in ["/health", f"{A}/experiments/search", "/", "/static/js/app.js", "/mlflowx"]:
        response = prefixed.get(path)
        assert response.status_code == 404, path
        assert response.json()["message"] == "Not found: this server's paths start with /mlflow/"


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("mlflow", "--static-prefix must begin with a '/'."),
        ("/mlflow/", "--static-prefix should not end with a '/'."),
        ("/{x}", "--static-prefix must not contain '{' or '}'."),
    ],
)
def test_a_bad_static_prefix_is_refused_with_mlflows_message(
    prefix: str,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from mlflowx.cli import main

    backend = f"sqlite:///{tmp_path / 'cli.db'}"
    argv = ["mlflowx", "server", "--backend-store-uri", backend, "--static-prefix", prefix]
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.setenv("COLUMNS", "200")  # the message on one line of click's box
    with pytest.raises(SystemExit, match=r"^2$"):
        main()
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


# ------------------------------------------------ options that reach the workers' app
def _run_server_command(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    """``mlflowx server ARGS`` up to starting uvicorn (which is replaced)."""
    from mlflowx.cli import main
    from mlflowx.utils import uvicorn_setup

    for name in SERVER_ENV:
        monkeypatch.setenv(name, "")
    monkeypatch.setattr(uvicorn_setup, "serve", lambda app, **kw: None)
    monkeypatch.setattr(sys, "argv", ["mlflowx", "server", *args])
    with pytest.raises(SystemExit, match=r"^0$"):
        main()


def test_default_artifact_root_names_new_experiments_with_the_proxy_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflowx.server.app import app_from_env

    backend = f"sqlite:///{tmp_path / 'db'}"
    _run_server_command(
        monkeypatch,
        ["--backend-store-uri", backend, "--artifacts-destination", str(tmp_path / "proxied"),
         "--default-artifact-root", "s3://bucket/root"],
    )  # fmt: skip
    app = app_from_env()
    with TestClient(app, base_url="http://localhost") as http:
        eid = http.post(f"{A}/experiments/create", json={"name": "direct"}).json()
        location = http.get(f"{A}/experiments/get", params=eid).json()["experiment"]
    assert location["artifact_location"] == f"s3://bucket/root/{eid['experiment_id']}"
    assert app.state.artifacts_destination == str(tmp_path / "proxied")  # the proxy stays on
    app.state.tracking_store.close()


def test_without_default_artifact_root_the_proxy_is_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflowx.server.app import app_from_env

    _run_server_command(monkeypatch, ["--backend-store-uri", f"sqlite:///{tmp_path / 'db'}"])
    app = app_from_env()
    with TestClient(app, base_url="http://localhost") as http:
        eid = http.post(f"{A}/experiments/create", json={"name": "proxied"}).json()
        got = http.get(f"{A}/experiments/get", params=eid).json()["experiment"]
    assert got["artifact_location"] == f"mlflow-artifacts:/{eid['experiment_id']}"
    app.state.tracking_store.close()


def test_registry_store_uri_keeps_the_registry_in_its_own_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflowx.server.app import app_from_env

    backend, registry = tmp_path / "tracking.db", tmp_path / "registry.db"
    _run_server_command(
        monkeypatch,
        ["--backend-store-uri", f"sqlite:///{backend}",
         "--registry-store-uri", f"sqlite:///{registry}"],
    )  # fmt: skip
    app = app_from_env()
    with TestClient(app, base_url="http://localhost") as http:
        made = http.post(f"{A}/registered-models/create", json={"name": "apart"})
        assert made.status_code == 200, made.text
        found = http.get(f"{A}/registered-models/search").json()["registered_models"]
    assert [m["name"] for m in found] == ["apart"]
    app.state.tracking_store.close()
    app.state.registry_store.close()
    with sqlite3.connect(registry) as own, sqlite3.connect(backend) as shared:
        assert own.execute("SELECT name FROM registered_models").fetchall() == [("apart",)]
        assert shared.execute("SELECT name FROM registered_models").fetchall() == []


# ------------------------------------------------------------------------- prometheus
def _samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_expose_prometheus_counts_requests_of_every_worker(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999.db").write_bytes(b"stale")  # a previous run's: removed
    (metrics_dir / "keep.txt").write_text("not ours")
    env = {"PYTHONPATH": str(Path(__file__).parents[2])}
    server = start_mlflowx_server(
        tmp_path / "home", workers=2, env=env, args=["--expose-prometheus", str(metrics_dir)]
    )
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for _ in range(20):
                assert http.post(f"{A}/experiments/search", json={}).status_code == 200
            missing = http.get(f"{A}/logged-models/m-404")
            assert missing.status_code == 404
            assert http.get("/no/such/path").status_code == 404
            text = http.get("/metrics").text
    finally:
        server.stop()
    counts = _samples(text, "mlflowx_http_requests_total")
    search = (("method", "POST"), ("route", f"{A}/experiments/search"), ("status", "200"))
    assert counts[search] == 20
    # Route templates, never ids: one series for every model id.
    model = (("method", "GET"), ("route", f"{A}/logged-models/{{model_id}}"), ("status", "404"))
    assert counts[model] == 1
    assert counts[(("method", "GET"), ("route", "<unmatched>"), ("status", "404"))] == 1
    latency = _samples(text, "mlflowx_http_request_duration_seconds_count")
    assert latency[(("method", "POST"), ("route", f"{A}/experiments/search"))] == 20
    assert (metrics_dir / "keep.txt").exists()
    assert not (metrics_dir / "counter_999.db").exists()
    assert os.listdir(metrics_dir)  # the workers' own sample files


def test_metrics_in_process_label_routes_under_a_static_prefix(tmp_path: Path) -> None:
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'db'}")
    app = create_app(store, metrics_dir=str(tmp_path / "prom"), static_prefix="/p")
    with TestClient(app) as http:
        for _ in range(3):
            assert http.get("/p/ajax-api/2.0/mlflow/experiments/search").status_code == 200
        assert http.get("/p/static/css/app.css").status_code == 200
        assert http.get("/elsewhere").status_code == 404
        text = http.get("/p/metrics").text
    store.close()
    counts = _samples(text, "mlflowx_http_requests_total")
    assert counts[(("method", "GET"), ("route", f"{A}/experiments/search"), ("status", "200"))] == 3
    assert counts[(("method", "GET"), ("route", "/static"), ("status", "200"))] == 1
    assert counts[(("method", "GET"), ("route", "<unmatched>"), ("status", "404"))] == 1
