"""Storage locations through the server and the stores: the CVE-2024-1483 family.

Each unsafe location is refused where it enters (create_experiment over REST and directly,
model-version sources, the server's start options) and where the server would resolve one read
back from the database (a row written before these checks).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from mlflowx.exceptions import InvalidParameter
from mlflowx.server import create_app
from mlflowx.store.artifacts import fsspec_repo
from mlflowx.store.model_registry.sql import SqlRegistryStore
from mlflowx.store.tracking.sql import SqlTrackingStore
from tests.fixtures.server import SERVER_ENV

A = "/api/2.0/mlflow"
RUN_ID = "c" * 32

UNSAFE = [
    "file:///etc#",
    "http:///#/../../../../../../etc/",
    "http://attacker.example/x",
    "https://attacker.example/x",
    "ftp://attacker.example/x",
    "mlflow-artifacts://otherhost/",
    "mlflow-artifacts://otherhost:5000/0",
    "/tmp/%252e%252e/etc",
    "s3://bucket/x/%252e%252e/y",
    "s3://bucket/x?versionId=1",
    "s3://bucket/x;params",
    "http://host/;..%2F..%2Fetc",
    "file://otherhost/share",
    "runs:/0123456789abcdef/artifacts",
]


def refused(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE", body
    return str(body["message"])


@pytest.fixture
def store(tracking_uri: str, tmp_path: Path) -> Iterator[SqlTrackingStore]:
    sql = SqlTrackingStore(tracking_uri, default_artifact_root=str(tmp_path / "artifacts"))
    yield sql
    sql.close()


@pytest.fixture
def api(store: SqlTrackingStore, tmp_path: Path) -> Iterator[TestClient]:
    """The server in-process, proxying artifacts to ``tmp_path/proxied``."""
    with TestClient(create_app(store, str(tmp_path / "proxied"))) as client:
        yield client


def create(api: TestClient, name: str, location: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"name": name}
    if location is not None:
        body["artifact_location"] = location
    return api.post(f"{A}/experiments/create", json=body)


def new_run(api: TestClient, experiment_id: str) -> dict[str, Any]:
    response = api.post(f"{A}/runs/create", json={"experiment_id": experiment_id})
    assert response.status_code == 200, response.text
    info: dict[str, Any] = response.json()["run"]["info"]
    return info


# ----------------------------------------------------------------------- create_experiment
@pytest.mark.parametrize("location", UNSAFE)
def test_unsafe_locations_are_refused_over_rest(api: TestClient, location: str) -> None:
    refused(create(api, "hostile", location))
    assert (
        api.get(f"{A}/experiments/get-by-name", params={"experiment_name": "hostile"}).json()[
            "error_code"
        ]
        == "RESOURCE_DOES_NOT_EXIST"
    )


@pytest.mark.parametrize("location", UNSAFE)
def test_unsafe_locations_are_refused_by_the_store(store: SqlTrackingStore, location: str) -> None:
    with pytest.raises(InvalidParameter, match="Invalid artifact_location"):
        store.create_experiment("hostile", location)
    assert store.get_experiment_by_name("hostile") is None


@pytest.mark.parametrize(
    "location", ["s3://bucket/x", "gs://bucket/x", "mlflow-artifacts:/x", "az://container/x"]
)
def test_remote_locations_still_work(
    api: TestClient, store: SqlTrackingStore, location: str
) -> None:
    eid = create(api, "over-rest", location).json()["experiment_id"]
    assert new_run(api, eid)["artifact_uri"].startswith(f"{location}/")
    direct = store.create_experiment("direct", location)
    assert store.get_experiment(direct).artifact_location == location


def test_local_locations_work_inside_the_server_roots(
    api: TestClient, store: SqlTrackingStore, tmp_path: Path
) -> None:
    for n, location in enumerate(
        [
            str(tmp_path / "artifacts" / "mine"),
            f"file://{tmp_path / 'artifacts' / 'mine-too'}",
            str(tmp_path / "proxied" / "exp"),
        ]
    ):
        response = create(api, f"local-{n}", location)
        assert response.status_code == 200, response.text
    # A library user on their own machine may put artifacts anywhere.
    for n, location in enumerate([str(tmp_path / "anywhere"), "file:///tmp/x", "/tmp/x"]):
        assert store.create_experiment(f"direct-{n}", location)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("artifacts/rel", "{tmp}/artifacts/rel"),
        ("./artifacts/dot", "{tmp}/artifacts/dot"),
        ("file:artifacts/uri", "file://{tmp}/artifacts/uri"),
        ("/abs/path", "/abs/path"),
        ("file:///abs/uri", "file:///abs/uri"),
        ("s3://bucket/rel", "s3://bucket/rel"),
    ],
)
def test_a_relative_location_is_stored_absolute(
    api: TestClient,
    store: SqlTrackingStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    given: str,
    stored: str,
) -> None:
    """As MLflow's ``resolve_uri_if_local``: against the working directory, once, at create."""
    monkeypatch.chdir(tmp_path)
    eid = store.create_experiment("relative", given)
    assert store.get_experiment(eid).artifact_location == stored.format(tmp=tmp_path)
    if not given.startswith("/") and "///" not in given and "s3" not in given:
        over_rest = create(api, "relative-rest", given.replace("artifacts/", "artifacts/r-"))
        assert over_rest.status_code == 200, over_rest.text
        location = store.get_experiment(over_rest.json()["experiment_id"]).artifact_location
        assert location == stored.format(tmp=tmp_path).replace("artifacts/", "artifacts/r-")


@pytest.mark.parametrize("where", ["/etc", "file:///etc", "{tmp}/elsewhere", "{tmp}/artifacts-x"])
def test_a_client_cannot_place_artifacts_outside_the_server_roots(
    api: TestClient, tmp_path: Path, where: str
) -> None:
    message = refused(create(api, "outside", where.format(tmp=tmp_path)))
    assert "inside this server's artifact root" in message
    assert "MLFLOWX_ALLOWED_ARTIFACT_ROOTS" in message


def test_operators_can_allow_more_local_roots(
    store: SqlTrackingStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    monkeypatch.setenv("MLFLOWX_ALLOWED_ARTIFACT_ROOTS", f"{shared}:{tmp_path / 'other'}")
    with TestClient(create_app(store, str(tmp_path / "proxied"))) as api:
        assert create(api, "shared", str(shared / "exp")).status_code == 200
        refused(create(api, "not-shared", str(tmp_path / "elsewhere")))


def test_operators_can_allow_http_on_named_hosts(
    tracking_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOWX_ALLOWED_ARTIFACT_SCHEMES", "http,https")
    monkeypatch.setenv("MLFLOWX_ALLOWED_ARTIFACT_HOSTS", "artifacts.example")
    sql = SqlTrackingStore(tracking_uri, default_artifact_root=str(tmp_path / "artifacts"))
    location = "http://artifacts.example/api/2.0/mlflow-artifacts/artifacts/x"
    try:
        with TestClient(create_app(sql, str(tmp_path / "proxied"))) as api:
            eid = create(api, "http-ok", location).json()["experiment_id"]
            assert new_run(api, eid)["artifact_uri"].startswith(location)
            message = refused(create(api, "other-host", "http://other.example/x"))
            assert "MLFLOWX_ALLOWED_ARTIFACT_HOSTS" in message
            refused(create(api, "ftp", "ftp://artifacts.example/x"))
        assert sql.create_experiment("direct-http", "https://artifacts.example/y")
    finally:
        sql.close()


# ----------------------------------------------------------------- locations read back
def _plant(
    store: SqlTrackingStore, table: str, column: str, value: str, key: str, id_: Any
) -> None:
    """Write a location as an older, unchecked server would have stored it."""
    with store.db.write() as conn:
        conn.execute(f"UPDATE {table} SET {column} = :v WHERE {key} = :id", {"v": value, "id": id_})


@pytest.mark.parametrize(
    "hostile",
    ["file:///etc#", "/etc", "http://127.0.0.1:9/x", "ftp://127.0.0.1:9/x", "memory://x"],
)
def test_a_hostile_stored_experiment_location_is_not_resolved(
    api: TestClient, store: SqlTrackingStore, hostile: str
) -> None:
    eid = create(api, "planted").json()["experiment_id"]
    _plant(store, "experiments", "artifact_location", hostile, "experiment_id", int(eid))
    run = new_run(api, eid)
    assert run["artifact_uri"].startswith(hostile)

    listing = api.get(f"{A}/artifacts/list", params={"run_id": run["run_id"]})
    assert "stored artifact location" in refused(listing)
    preview = api.get("/get-artifact", params={"run_uuid": run["run_id"], "path": "passwd"})
    refused(preview)
    model = api.post(f"{A}/logged-models", json={"experiment_id": eid, "name": "m"})
    assert model.status_code == 200, model.text
    model_id = model.json()["model"]["info"]["model_id"]
    refused(api.get(f"{A}/logged-models/{model_id}/artifacts/directories"))
    refused(
        api.get(
            f"{A}/logged-models/{model_id}/artifacts/files",
            params={"artifact_file_path": "passwd"},
        )
    )


def test_a_hostile_stored_run_location_is_not_resolved(
    api: TestClient, store: SqlTrackingStore
) -> None:
    run = new_run(api, "0")
    _plant(store, "runs", "artifact_uri", "file:///etc#/x", "run_uuid", run["run_id"])
    refused(api.get(f"{A}/artifacts/list", params={"run_id": run["run_id"]}))
    _plant(store, "runs", "artifact_uri", "", "run_uuid", run["run_id"])
    refused(api.get(f"{A}/artifacts/list", params={"run_id": run["run_id"]}))  # not the cwd


def test_runs_in_the_server_roots_are_listed(api: TestClient, tmp_path: Path) -> None:
    eid = create(api, "listed", str(tmp_path / "artifacts" / "listed")).json()["experiment_id"]
    run = new_run(api, eid)
    root = Path(run["artifact_uri"])
    root.mkdir(parents=True)
    (root / "a.txt").write_text("a")
    listing = api.get(f"{A}/artifacts/list", params={"run_id": run["run_id"]})
    assert listing.status_code == 200, listing.text
    assert [f["path"] for f in listing.json()["files"]] == ["a.txt"]


def test_a_missing_filesystem_package_is_a_400_naming_the_extra(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_s3fs(url: str, **options: Any) -> Any:
        raise ImportError("Install s3fs to access S3")

    eid = create(api, "on-s3", "s3://bucket/x").json()["experiment_id"]
    run = new_run(api, eid)
    monkeypatch.setattr(fsspec_repo, "url_to_fs", no_s3fs)
    message = refused(api.get(f"{A}/artifacts/list", params={"run_id": run["run_id"]}))
    assert "pip install 'mlflowx[s3]'" in message


# ------------------------------------------------------------------ model-version sources
UNSAFE_SOURCES = [
    "s3://bucket/model#fragment",
    "s3://bucket/%252e%252e/%252e%252e/etc",
    f"runs:/{RUN_ID}/model%2523x",
    "http://host/;..%2F..%2Fetc",
]


def unique(prefix: str) -> str:
    """A model name of this test's own (PostgreSQL keeps registry rows between tests)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("source", UNSAFE_SOURCES)
def test_unsafe_sources_are_refused_over_rest(api: TestClient, source: str) -> None:
    name = unique("m")
    assert api.post(f"{A}/registered-models/create", json={"name": name}).status_code == 200
    body = {"name": name, "source": source, "run_id": RUN_ID}
    assert "Invalid model version source" in refused(
        api.post(f"{A}/model-versions/create", json=body)
    )


@pytest.mark.parametrize("source", UNSAFE_SOURCES)
def test_unsafe_sources_are_refused_by_the_store(store: SqlTrackingStore, source: str) -> None:
    registry = SqlRegistryStore(store.uri, db=store.db)
    name = unique("m")
    registry.create_registered_model(name)
    with pytest.raises(InvalidParameter, match="Invalid model version source"):
        registry.create_model_version(name, source, RUN_ID)
    assert registry.create_model_version(name, "s3://bucket/model").version == "1"


def test_a_double_encoded_climb_out_of_the_run_is_refused(api: TestClient) -> None:
    run = new_run(api, "0")
    name = unique("climb")
    api.post(f"{A}/registered-models/create", json={"name": name})
    base = run["artifact_uri"]
    for source in (f"{base}/model", f"{base}/%252e%252e/%252e%252e/x", f"{base}#/../../x"):
        response = api.post(
            f"{A}/model-versions/create",
            json={"name": name, "source": source, "run_id": run["run_id"]},
        )
        if source.endswith("/model"):
            assert response.status_code == 200, response.text
        else:
            refused(response)


# ---------------------------------------------------------------------- server options
@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--artifacts-destination", "file:///etc#"], "--artifacts-destination"),
        (["--artifacts-destination", "http://attacker.example/x"], "--artifacts-destination"),
        (
            ["--no-serve-artifacts", "--default-artifact-root", "ftp://attacker.example/x"],
            "--default-artifact-root",
        ),
        (["--default-artifact-root", "/tmp/%252e%252e/etc"], "--default-artifact-root"),
    ],
)
def test_bad_server_options_are_a_clear_cli_error(
    args: list[str],
    option: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from mlflowx.cli import main

    backend = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setattr(sys, "argv", ["mlflowx", "server", "--backend-store-uri", backend, *args])
    with pytest.raises(SystemExit, match=r"^2$"):
        main()
    err = capsys.readouterr().err
    assert err.startswith(f"Error: Invalid {option} ")
    assert "Traceback" not in err


def test_server_flags_reach_the_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflowx.cli import main
    from mlflowx.utils import uvicorn_setup

    for name in SERVER_ENV:
        monkeypatch.setenv(name, "")
    served: list[str] = []
    monkeypatch.setattr(uvicorn_setup, "serve", lambda app, **kw: served.append(app))
    backend = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setattr(
        sys,
        "argv",
        ["mlflowx", "server", "--backend-store-uri", backend,
         "--artifacts-destination", "http://artifacts.example/api/2.0/mlflow-artifacts/artifacts",
         "--allowed-artifact-schemes", "http", "--allowed-artifact-hosts", "artifacts.example",
         "--allowed-artifact-roots", str(tmp_path / "shared")],
    )  # fmt: skip
    with pytest.raises(SystemExit, match=r"^0$"):  # a console script's exit
        main()
    assert served == ["mlflowx.server.app:app_from_env"]
    assert os.environ["MLFLOWX_ALLOWED_ARTIFACT_SCHEMES"] == "http"
    assert os.environ["MLFLOWX_ALLOWED_ARTIFACT_HOSTS"] == "artifacts.example"
    assert os.environ["MLFLOWX_ALLOWED_ARTIFACT_ROOTS"] == str(tmp_path / "shared")
