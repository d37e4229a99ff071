"""The web UI's server side: the shell, its assets, offline API docs, ui-config and
``/get-artifact`` (previews and downloads), in-process. The pages themselves are tested in a
real browser under ``tests/ui/``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mlflowx.server import create_app
from mlflowx.store.tracking.sql import SqlTrackingStore
from mlflowx.ui import STATIC_DIR

A = "/api/2.0/mlflow"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    store = SqlTrackingStore(
        f"sqlite:///{tmp_path / 'db'}", default_artifact_root="mlflow-artifacts:/"
    )
    with TestClient(create_app(store, str(tmp_path / "proxied"))) as http:
        yield http
    store.close()


@pytest.fixture
def run_with_files(client: TestClient) -> str:
    """A run whose artifacts (through the proxy) hold one file of each kind the UI previews."""
    run = client.post(f"{A}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]
    root = run["artifact_uri"].removeprefix("mlflow-artifacts:")
    files = {
        "notes.txt": b"hello\n" * 10,
        "plots/roc.png": PNG,
        "report.html": b"<script>alert(1)</script><p>hi</p>",
        "model/MLmodel": b"flavors: {}\n",
        "weights.bin": b"\x00\x01\x02",
    }
    for name, content in files.items():
        put = client.put(f"/api/2.0/mlflow-artifacts/artifacts{root}/{name}", content=content)
        assert put.status_code == 200, put.text
    return str(run["run_id"])


def test_root_serves_the_app_shell(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert '<main id="app"' in response.text
    assert '<script type="module" src="/static/js/app.js">' in response.text
    assert '<link rel="modulepreload" href="/static/js/pages/runs.js">' in response.text


def test_assets_are_typed_and_confined_to_the_static_folder(client: TestClient) -> None:
    js = client.get("/static/js/app.js")
    assert js.status_code == 200
    assert js.headers["content-type"] == "text/javascript; charset=utf-8"
    assert js.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/css/app.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/js/nope.js").status_code == 404
    assert client.get("/static/..%2F__init__.py").status_code == 404
    assert client.get("/static/../__init__.py").status_code == 404


def _local_refs(text: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', text)


def test_every_asset_the_shell_names_exists() -> None:
    refs = _local_refs((STATIC_DIR / "index.html").read_text())
    assert "/static/js/app.js" in refs
    for ref in refs:
        assert (STATIC_DIR / ref.removeprefix("/static/")).is_file(), ref


def test_every_module_import_resolves() -> None:
    """A missing or misspelt module would only show as a blank page in a browser."""
    pattern = re.compile(r"""(?:from\s+|import\s*\(\s*|import\s+)["'](\.{1,2}/[^"']+)["']""")
    modules = sorted((STATIC_DIR / "js").rglob("*.js"))
    assert modules
    for module in modules:
        for spec in pattern.findall(module.read_text()):
            # The router's table names page modules relative to router.js.
            assert (module.parent / spec).resolve().is_file(), f"{module.name}: {spec}"
    router = STATIC_DIR / "js" / "router.js"
    pages = re.findall(r'"(\./pages/[^"]+\.js)"', router.read_text())
    assert len(pages) >= 7
    for page in pages:
        assert (router.parent / page).is_file(), f"the route table names {page}"


def test_vendored_files_keep_their_licences() -> None:
    for vendor in (STATIC_DIR / "vendor").iterdir():
        assert (vendor / "LICENSE").is_file(), vendor.name
        assert (vendor / "VERSION").is_file(), vendor.name


def test_api_docs_work_offline(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    urls = re.findall(r"""(?:href|src|url)\s*[:=]\s*['"]([^'"]+)['"]""", response.text)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in urls
    assert all(not u.startswith(("http:", "https:", "//")) for u in urls), urls
    for url in urls:
        if url.startswith("/static/"):
            assert client.get(url).status_code == 200, url
    assert client.get("/openapi.json").json()["paths"]
    assert client.get("/redoc").status_code == 404  # ReDoc would load from a CDN


def test_ui_config(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflowx import __version__

    monkeypatch.delenv("PREFECT_UI_URL", raising=False)
    config = client.get("/ajax-api/2.0/mlflowx/ui-config").json()
    assert config == {
        "version": __version__,
        "artifact_proxy": True,
        "registry": True,
        "prefect_ui_url": None,
    }
    monkeypatch.setenv("PREFECT_UI_URL", "http://127.0.0.1:4200/")
    config = client.get("/ajax-api/2.0/mlflowx/ui-config").json()
    assert config["prefect_ui_url"] == "http://127.0.0.1:4200"


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("notes.txt", "text/plain; charset=utf-8"),
        ("plots/roc.png", "image/png"),
        ("report.html", "text/plain; charset=utf-8"),
        ("model/MLmodel", "text/plain; charset=utf-8"),
        ("weights.bin", "application/octet-stream"),
    ],
)
def test_get_artifact_types_files_safely(
    client: TestClient, run_with_files: str, path: str, media_type: str
) -> None:
    response = client.get("/get-artifact", params={"run_uuid": run_with_files, "path": path})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media_type
    # Whatever a file holds, the browser neither runs it nor sniffs another type.
    assert response.headers["content-security-policy"] == "sandbox"
    assert response.headers["x-content-type-options"] == "nosniff"
    # The same route under /ajax-api/ is not aliased: it is not part of MLflow's REST API.
    assert client.get("/ajax-api/get-artifact").status_code == 404


def test_get_artifact_honours_byte_ranges(client: TestClient, run_with_files: str) -> None:
    params = {"run_uuid": run_with_files, "path": "notes.txt"}
    response = client.get("/get-artifact", params=params, headers={"Range": "bytes=0-9"})
    assert response.status_code == 206
    assert response.content == b"hello\nhell"
    assert response.headers["content-range"] == "bytes 0-9/60"


def test_get_artifact_errors(client: TestClient, run_with_files: str) -> None:
    def refused(params: dict[str, str], status: int, code: str, match: str) -> None:
        response = client.get("/get-artifact", params=params)
        assert response.status_code == status, response.text
        assert response.json()["error_code"] == code
        assert re.search(match, response.json()["message"]), response.json()

    run = run_with_files
    bad, missing = "INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST"
    refused({"path": "notes.txt"}, 400, bad, "run_uuid")
    refused({"run_uuid": "f" * 32, "path": "x"}, 404, missing, "f" * 32)
    refused({"run_uuid": run, "path": "../../etc/passwd"}, 400, bad, "not allowed")
    refused({"run_uuid": run, "path": "plots"}, 400, bad, "directory")
    refused({"run_uuid": run}, 400, bad, "path is required")
    refused({"run_uuid": run, "path": "missing.txt"}, 404, missing, "missing.txt")


def test_logged_model_files(client: TestClient) -> None:
    created = client.post(f"{A}/logged-models", json={"experiment_id": "0", "name": "m"})
    model = created.json()["model"]["info"]
    root = model["artifact_uri"].removeprefix("mlflow-artifacts:")
    client.put(f"/api/2.0/mlflow-artifacts/artifacts{root}/MLmodel", content=b"flavors: {}\n")
    files = f"/ajax-api/2.0/mlflow/logged-models/{model['model_id']}/artifacts/files"
    response = client.get(files, params={"artifact_file_path": "MLmodel"})
    assert response.status_code == 200, response.text
    assert response.content == b"flavors: {}\n"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-security-policy"] == "sandbox"
    missing = client.get(files, params={"artifact_file_path": "nope"})
    assert missing.status_code == 404
    assert "nope" in missing.json()["message"]
    assert client.get(files).json()["error_code"] == "INVALID_PARAMETER_VALUE"
    unknown = client.get(f"{A}/logged-models/m-404/artifacts/files?artifact_file_path=MLmodel")
    assert unknown.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_history_endpoints_for_charts(client: TestClient) -> None:
    """What the UI's charts call, with MLflow's parameter names (repeated ids) and answers."""
    runs = []
    for n in (5, 50):
        run = client.post(f"{A}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]
        metrics = [{"key": "m", "value": i / 2, "timestamp": 10 + i, "step": i} for i in range(n)]
        client.post(f"{A}/runs/log-batch", json={"run_id": run["run_id"], "metrics": metrics})
        runs.append(run["run_id"])
    ajax = "/ajax-api/2.0/mlflow/metrics"
    bulk = client.get(f"{ajax}/get-history-bulk", params={"run_id": runs, "metric_key": "m"})
    assert bulk.status_code == 200, bulk.text
    points = bulk.json()["metrics"]
    assert len(points) == 55
    assert set(points[0]) == {"key", "value", "timestamp", "step", "run_id"}
    sampled = client.get(
        f"{ajax}/get-history-bulk-interval",
        params={"run_ids": runs, "metric_key": "m", "max_results": 10},
    ).json()["metrics"]
    assert [p["step"] for p in sampled if p["run_id"] == runs[0]] == [0, 1, 2, 3, 4]
    assert [p["step"] for p in sampled if p["run_id"] == runs[1]] == [
        0, 5, 10, 15, 20, 25, 30, 35, 40, 49,
    ]  # fmt: skip
    ranged = client.get(
        f"{A}/metrics/get-history-bulk-interval",
        params={"run_ids": runs[1], "metric_key": "m", "start_step": 10, "end_step": 12},
    ).json()["metrics"]
    assert [p["step"] for p in ranged] == [10, 11, 12]
    bad = client.get(
        f"{ajax}/get-history-bulk-interval",
        params={"run_ids": runs, "metric_key": "m", "max_results": 0},
    )
    assert bad.status_code == 400
    assert bad.json() == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": "max_results must be between 1 and 2500.",
    }
    missing = client.get(f"{ajax}/get-history-bulk", params={"metric_key": "m"})
    assert missing.json()["message"] == (
        "GetMetricHistoryBulk request must specify at least one run_id."
    )
