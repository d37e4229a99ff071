"""Registry client features on SQLite and PostgreSQL: copy_model_version, register_model of a
``runs:/`` URI (resolved as MLflow 3 does), a registry URI apart from the tracking URI, and
versions registered by two processes at once."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import mlflowx
from mlflowx.entities import ModelOutput
from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.registry import RegistryClient
from mlflowx.store.model_registry import reset_registry_store_cache
from mlflowx.store.tracking import reset_store_cache

_REGISTRY_TABLES = (
    "model_version_tags, registered_model_aliases, registered_model_tags, model_versions, "
    "registered_models"
)


@pytest.fixture(autouse=True)
def _no_registry_uri(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("MLFLOWX_REGISTRY_URI", "MLFLOW_REGISTRY_URI"):
        monkeypatch.delenv(name, raising=False)
    mlflowx.set_registry_uri(None)
    yield
    mlflowx.set_registry_uri(None)
    reset_registry_store_cache()
    reset_store_cache()


@pytest.fixture
def uri(tracking_uri: str) -> str:
    """The backend as the process's tracking URI, with an empty registry."""
    if tracking_uri.startswith("postgresql"):
        import psycopg

        with psycopg.connect(tracking_uri, autocommit=True) as conn:
            if conn.execute("SELECT to_regclass('registered_models')").fetchone()[0]:
                conn.execute(f"TRUNCATE {_REGISTRY_TABLES} CASCADE")
    mlflowx.set_tracking_uri(tracking_uri)
    return tracking_uri


# ---------------------------------------------------------------------------- copy_model_version
def test_copy_model_version(uri: str) -> None:
    client = mlflowx.MlflowxClient()
    run_id = client.create_run("0").info.run_id
    logged = client.create_logged_model("0", "model", source_run_id=run_id)
    client.create_registered_model("src")
    client.create_model_version("src", "s3://bucket/old", run_id=run_id)
    src = client.create_model_version(
        "src",
        f"models:/{logged.model_id}",
        run_id=run_id,
        tags={"team": "a", "n": 1},
        description="the good one",
        model_id=logged.model_id,
    )
    client.set_registered_model_alias("src", "champion", src.version)
    client.transition_model_version_stage("src", src.version, "Production")

    copy = client.copy_model_version("models:/src@champion", "dst")  # dst is created
    assert (copy.name, copy.version, copy.source) == ("dst", "1", "models:/src/2")
    assert (copy.run_id, copy.model_id, copy.description) == (
        run_id,
        logged.model_id,
        "the good one",
    )
    assert copy.tags == {"team": "a", "n": "1"}
    assert (copy.current_stage, copy.aliases) == ("None", [])  # stage and aliases stay behind
    assert client.get_registered_model("dst").name == "dst"
    # The copy's files are the source version's files.
    assert client.get_model_version_download_uri("dst", "1") == logged.artifact_location

    again = client.copy_model_version("models:/src/Production", "dst")  # dst exists: version 2
    assert (again.version, again.source) == ("2", "models:/src/2")
    first = client.copy_model_version("models:/src/1", "dst")
    assert (first.version, first.source, first.run_id) == ("3", "models:/src/1", run_id)
    assert client.get_model_version_download_uri("dst", "3") == "s3://bucket/old"
    # The source is untouched.
    assert client.get_model_version("src", "2").aliases == ["champion"]


def test_copy_model_version_errors(uri: str) -> None:
    client = mlflowx.MlflowxClient()
    client.create_registered_model("src")
    client.create_model_version("src", "s3://bucket/m")
    with pytest.raises(InvalidParameter, match="Unsupported source model URI"):
        client.copy_model_version("runs:/0123/model", "dst")
    with pytest.raises(NotFound, match="Failed to fetch model version from source model URI"):
        client.copy_model_version("models:/src/7", "dst")
    with pytest.raises(NotFound, match="Failed to fetch"):
        client.copy_model_version("models:/nope@champion", "dst")
    with pytest.raises(InvalidParameter, match="logged model"):
        client.copy_model_version("models:/m-0123456789abcdef0123456789abcdef", "dst")
    with pytest.raises(NotFound, match="dst"):  # nothing was created on the way
        client.get_registered_model("dst")


def test_copy_model_version_over_rest(tmp_path: Path) -> None:
    """MLflow copies in the client, with no endpoint of its own: so does mlflowx, over REST."""
    from fastapi.testclient import TestClient

    from mlflowx.server import create_app
    from mlflowx.store.http import HttpSession
    from mlflowx.store.model_registry.rest import RestRegistryStore
    from mlflowx.store.tracking.sql import SqlTrackingStore

    tracking = SqlTrackingStore(f"sqlite:///{tmp_path / 'db'}", str(tmp_path / "artifacts"))
    with TestClient(create_app(tracking), base_url="http://testserver") as http:
        rest = RestRegistryStore("http://testserver", HttpSession("http://testserver", http))
        rest.create_registered_model("src")
        src = rest.create_model_version("src", "s3://bucket/m", tags={"k": "v"})
        copy = rest.copy_model_version(src, "dst")
        assert (copy.name, copy.version, copy.source, copy.tags) == (
            "dst",
            "1",
            "models:/src/1",
            {"k": "v"},
        )
        assert rest.get_model_version_download_uri("dst", "1") == "s3://bucket/m"
    tracking.close()


# ----------------------------------------------------------------- register_model of runs:/ URIs
def test_register_runs_uri_with_model_files_in_the_run(uri: str, tmp_path: Path) -> None:
    """An MLmodel file under the run's artifacts: the source is that artifact location."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "MLmodel").write_text("flavors: {}\n")
    with mlflowx.start_run() as run:
        mlflowx.log_artifacts(str(folder), "model")
    mv = mlflowx.register_model(f"runs:/{run.info.run_id}/model", "files")
    assert mv.source == f"{run.info.artifact_uri}/model"
    assert (mv.run_id, mv.model_id) == (run.info.run_id, None)
    client = mlflowx.MlflowxClient()
    assert client.get_model_version_download_uri("files", mv.version) == mv.source


def test_register_runs_uri_of_a_logged_model(uri: str) -> None:
    """MLflow 3's log_model keeps files with the logged model: the source becomes its URI."""
    client = mlflowx.MlflowxClient()
    run_id = client.create_run("0").info.run_id
    other_run = client.create_run("0").info.run_id
    client.create_logged_model("0", "model", source_run_id=other_run)  # another run's
    client.create_logged_model("0", "other-name", source_run_id=run_id)
    early = client.create_logged_model("0", "model", source_run_id=run_id)
    late = client.create_logged_model("0", "model", source_run_id=run_id)
    client.log_outputs(run_id, [ModelOutput(late.model_id, 5), ModelOutput(early.model_id, 1)])

    mv = mlflowx.register_model(f"runs:/{run_id}/model", "logged")
    assert (mv.source, mv.model_id, mv.run_id) == (
        f"models:/{late.model_id}",
        late.model_id,
        run_id,
    )
    assert client.get_model_version_download_uri("logged", "1") == late.artifact_location

    only = client.create_logged_model("0", "solo", source_run_id=other_run)
    mv = mlflowx.register_model(f"runs:/{other_run}/solo", "logged")
    assert (mv.version, mv.source, mv.model_id) == ("2", f"models:/{only.model_id}", only.model_id)


def test_register_runs_uri_with_nothing_there(uri: str) -> None:
    run_id = mlflowx.MlflowxClient().create_run("0").info.run_id
    with pytest.raises(NotFound, match="Unable to find a logged_model with artifact_path model"):
        mlflowx.register_model(f"runs:/{run_id}/model", "missing")
    with pytest.raises(NotFound, match="f" * 32):
        mlflowx.register_model(f"runs:/{'f' * 32}/model", "missing")


# ------------------------------------------------------------------------------- registry URIs
def test_registry_uri_defaults_to_tracking_uri(tmp_path: Path) -> None:
    mlflowx.set_tracking_uri(f"sqlite:///{tmp_path / 't.db'}")
    assert mlflowx.get_registry_uri() == mlflowx.get_tracking_uri()
    assert RegistryClient().registry_uri == mlflowx.get_tracking_uri()
    client = mlflowx.MlflowxClient(tracking_uri=f"sqlite:///{tmp_path / 'other.db'}")
    assert client.registry_uri == f"sqlite:///{tmp_path / 'other.db'}"


def test_registry_uri_from_env_and_setter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", f"sqlite:///{tmp_path / 'a.db'}")
    assert mlflowx.get_registry_uri() == f"sqlite:///{tmp_path / 'a.db'}"
    monkeypatch.setenv("MLFLOWX_REGISTRY_URI", f"sqlite:///{tmp_path / 'b.db'}")
    assert mlflowx.get_registry_uri() == f"sqlite:///{tmp_path / 'b.db'}"
    with pytest.raises(InvalidParameter, match="mlflowx import"):  # MLflow's file store
        mlflowx.set_registry_uri(tmp_path / "folder")
    explicit = mlflowx.MlflowxClient(registry_uri=f"sqlite:///{tmp_path / 'c.db'}")
    assert explicit.registry_uri == f"sqlite:///{tmp_path / 'c.db'}"
    mlflowx.set_registry_uri(None)
    assert mlflowx.get_registry_uri() == f"sqlite:///{tmp_path / 'b.db'}"


def test_registry_apart_from_tracking(uri: str, tmp_path: Path) -> None:
    """Runs tracked in one database, models registered in another."""
    registry_uri = f"sqlite:///{tmp_path / 'registry.db'}"
    mlflowx.set_registry_uri(registry_uri)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "MLmodel").write_text("flavors: {}\n")
    with mlflowx.start_run() as run:
        mlflowx.log_artifacts(str(folder), "model")
    mv = mlflowx.register_model(f"runs:/{run.info.run_id}/model", "apart")
    assert (mv.source, mv.run_id) == (f"{run.info.artifact_uri}/model", run.info.run_id)
    assert RegistryClient(registry_uri).get_model_version("apart", "1").source == mv.source
    # The tracking database's own registry has no such model.
    with pytest.raises(NotFound, match="apart"):
        RegistryClient(uri).get_registered_model("apart")


def test_logged_model_registered_in_a_registry_apart(uri: str, tmp_path: Path) -> None:
    """A ``models:/<model_id>`` source is looked up in the tracking store, as MLflow does, when
    the registry keeps its own database."""
    from sklearn.dummy import DummyClassifier

    import mlflowx.pyfunc
    import mlflowx.sklearn

    registry_uri = f"sqlite:///{tmp_path / 'registry.db'}"
    mlflowx.set_registry_uri(registry_uri)
    model = DummyClassifier(strategy="most_frequent").fit([[0.0], [1.0], [1.0]], [0, 1, 1])
    with mlflowx.start_run() as run:
        info = mlflowx.sklearn.log_model(model, name="model")
    assert info.model_uri.startswith("models:/m-")
    mv = mlflowx.register_model(info.model_uri, "apart-logged")
    assert (mv.source, mv.run_id, mv.model_id) == (info.model_uri, run.info.run_id, info.model_id)
    client = RegistryClient(registry_uri)
    logged = mlflowx.MlflowxClient().get_logged_model(info.model_id)
    assert client.get_model_version_download_uri("apart-logged", "1") == logged.artifact_location
    loaded = mlflowx.pyfunc.load_model("models:/apart-logged/1")
    assert list(loaded.predict([[0.5]])) == [1]


# ------------------------------------------------------------------ two processes registering
REGISTER = """
import sys, time
from pathlib import Path
from mlflowx.registry import RegistryClient

uri, who, n, gate = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
client = RegistryClient(uri)
client.get_registered_model("shared")  # connected and warm before the start
(gate / f"ready-{who}").touch()
while not (gate / "go").exists():
    time.sleep(0.005)
for i in range(n):
    client.create_model_version("shared", f"s3://bucket/{who}/{i}")
"""


def test_two_processes_register_versions_of_one_model(uri: str, tmp_path: Path) -> None:
    RegistryClient(uri).create_registered_model("shared")
    n, who = 30, ("a", "b")
    procs = [
        subprocess.Popen([sys.executable, "-c", REGISTER, uri, w, str(n), str(tmp_path)])
        for w in who
    ]
    deadline = time.monotonic() + 240
    while not all((tmp_path / f"ready-{w}").exists() for w in who):
        assert all(p.poll() is None for p in procs), "a writer exited before the start"
        assert time.monotonic() < deadline, "the writers did not start"
        time.sleep(0.02)
    (tmp_path / "go").touch()
    assert [p.wait(timeout=240) for p in procs] == [0, 0]

    versions = RegistryClient(uri).search_model_versions("name = 'shared'", max_results=1000)
    numbers = sorted(int(mv.version) for mv in versions)
    assert numbers == list(range(1, 2 * n + 1))  # distinct, consecutive, none lost
    sources = sorted(str(mv.source) for mv in versions)
    assert sources == sorted(f"s3://bucket/{w}/{i}" for w in who for i in range(n))
    # Each process's own versions come in the order it made them.
    for w in who:
        mine = sorted(
            (int(mv.version), str(mv.source)) for mv in versions if f"/{w}/" in str(mv.source)
        )
        assert [s for _, s in mine] == [f"s3://bucket/{w}/{i}" for i in range(n)]
