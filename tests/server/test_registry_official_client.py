"""The official ``mlflow`` client's model registry calls against a live server.

Every test runs against mlflowx's server and MLflow's own (``any_server``): MLflow sets the
expectations. No model files are logged; versions point at ``runs:/<run_id>/model``.
"""

from __future__ import annotations

import time
import uuid

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from tests.fixtures.server import LiveServer

# MLflow deprecates stages (FutureWarning) but still serves them; checked, expected here.
STAGES_DEPRECATED = pytest.mark.filterwarnings("ignore::FutureWarning")


@pytest.fixture
def client(any_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> MlflowClient:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    return MlflowClient(tracking_uri=any_server.url, registry_uri=any_server.url)


def unique(prefix: str = "model") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def run_id(client: MlflowClient) -> str:
    experiment_id = client.create_experiment(unique("registry-exp"))
    run_id: str = client.create_run(experiment_id).info.run_id
    return run_id


def _version(client: MlflowClient, name: str, run_id: str, **kw: object) -> str:
    mv = client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id, **kw)  # type: ignore[arg-type]
    return str(mv.version)


# ------------------------------------------------------------------------- registered models
def test_registered_model_lifecycle(client: MlflowClient) -> None:
    name = unique()
    created = client.create_registered_model(name, tags={"team": "risk"}, description="first")
    assert created.name == name
    assert created.description == "first"
    assert created.tags == {"team": "risk"}
    assert created.creation_timestamp > 0
    assert created.last_updated_timestamp >= created.creation_timestamp

    with pytest.raises(MlflowException, match=name) as info:
        client.create_registered_model(name)
    assert info.value.error_code == "RESOURCE_ALREADY_EXISTS"

    assert client.update_registered_model(name, description="second").description == "second"
    client.set_registered_model_tag(name, "stage", "dev")
    client.delete_registered_model_tag(name, "team")
    got = client.get_registered_model(name)
    assert (got.description, got.tags) == ("second", {"stage": "dev"})

    new_name = unique()
    client.rename_registered_model(name, new_name)  # returns None in MLflow's client
    with pytest.raises(MlflowException, match=name) as info:
        client.get_registered_model(name)
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert client.get_registered_model(new_name).tags == {"stage": "dev"}

    client.delete_registered_model(new_name)
    with pytest.raises(MlflowException, match=new_name) as info:
        client.get_registered_model(new_name)
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_rename_onto_an_existing_name_is_refused(client: MlflowClient) -> None:
    a, b = unique(), unique()
    client.create_registered_model(a)
    client.create_registered_model(b)
    with pytest.raises(MlflowException, match=b) as info:
        client.rename_registered_model(a, b)
    assert info.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_invalid_model_name(client: MlflowClient) -> None:
    with pytest.raises(MlflowException, match="name") as info:
        client.create_registered_model("a/b")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


# ------------------------------------------------------------------------------ versions
def test_model_versions(client: MlflowClient, run_id: str) -> None:
    name = unique()
    client.create_registered_model(name)
    mv = client.create_model_version(
        name,
        f"runs:/{run_id}/model",
        run_id=run_id,
        tags={"flow_run": "f-1"},
        description="v1",
    )
    assert str(mv.version) == "1"
    assert mv.source == f"runs:/{run_id}/model"
    assert mv.run_id == run_id
    assert mv.tags == {"flow_run": "f-1"}
    assert mv.description == "v1"
    assert mv.current_stage == "None"
    assert mv.status == "READY"
    assert _version(client, name, run_id) == "2"

    got = client.get_model_version(name, "1")
    assert (got.run_id, got.source, got.tags) == (run_id, mv.source, {"flow_run": "f-1"})
    assert client.get_model_version_download_uri(name, "1") == f"runs:/{run_id}/model"

    assert client.update_model_version(name, "1", description="better").description == "better"
    client.set_model_version_tag(name, "1", "k", "v")
    client.delete_model_version_tag(name, "1", "flow_run")
    assert client.get_model_version(name, "1").tags == {"k": "v"}

    client.delete_model_version(name, "2")
    with pytest.raises(MlflowException, match="version=2") as info:
        client.get_model_version(name, "2")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    # Version numbers are never reused.
    assert _version(client, name, run_id) == "3"


def test_version_of_a_missing_model(client: MlflowClient, run_id: str) -> None:
    missing = unique()
    with pytest.raises(MlflowException, match=missing) as info:
        client.create_model_version(missing, f"runs:/{run_id}/model", run_id=run_id)
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_runs_source_must_name_its_run(client: MlflowClient, run_id: str) -> None:
    name = unique()
    client.create_registered_model(name)
    with pytest.raises(MlflowException, match="run_id") as info:
        client.create_model_version(name, f"runs:/{run_id}/model", run_id=uuid.uuid4().hex)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


@STAGES_DEPRECATED
def test_stages_and_latest_versions(client: MlflowClient, run_id: str) -> None:
    name = unique()
    client.create_registered_model(name)
    for _ in range(4):
        _version(client, name, run_id)
    mv = client.transition_model_version_stage(name, "1", "production")
    assert mv.current_stage == "Production"
    client.transition_model_version_stage(name, "2", "Production")
    client.transition_model_version_stage(name, "3", "Staging")
    mv = client.transition_model_version_stage(
        name, "4", "Production", archive_existing_versions=True
    )
    assert mv.current_stage == "Production"
    stages = {v: client.get_model_version(name, v).current_stage for v in "1234"}
    assert stages == {"1": "Archived", "2": "Archived", "3": "Staging", "4": "Production"}

    latest = client.get_latest_versions(name, stages=["Production", "Staging"])
    assert sorted((mv.current_stage, str(mv.version)) for mv in latest) == [
        ("Production", "4"),
        ("Staging", "3"),
    ]
    everything = client.get_latest_versions(name)
    assert sorted(str(mv.version) for mv in everything) == ["2", "3", "4"]

    with pytest.raises(MlflowException, match="stage") as info:
        client.transition_model_version_stage(name, "1", "Nowhere")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


# ------------------------------------------------------------------------------ aliases
def test_aliases(client: MlflowClient, run_id: str) -> None:
    name = unique()
    client.create_registered_model(name)
    for _ in range(3):
        _version(client, name, run_id)
    client.set_registered_model_alias(name, "champion", "1")
    client.set_registered_model_alias(name, "challenger", "2")
    assert str(client.get_model_version_by_alias(name, "champion").version) == "1"
    client.set_registered_model_alias(name, "champion", "2")
    mv = client.get_model_version_by_alias(name, "champion")
    assert str(mv.version) == "2"
    assert sorted(mv.aliases) == ["challenger", "champion"]
    assert client.get_registered_model(name).aliases == {"champion": "2", "challenger": "2"}

    client.delete_registered_model_alias(name, "challenger")
    assert client.get_registered_model(name).aliases == {"champion": "2"}
    # Deleting an aliased version removes its aliases.
    client.delete_model_version(name, "2")
    assert client.get_registered_model(name).aliases == {}
    with pytest.raises(MlflowException, match="champion") as info:
        client.get_model_version_by_alias(name, "champion")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"

    with pytest.raises(MlflowException, match="reserved") as info:
        client.set_registered_model_alias(name, "latest", "1")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


# ------------------------------------------------------------------------------ search
def test_search_registered_models(client: MlflowClient) -> None:
    prefix = unique("search")
    for suffix, team in (("a", "risk"), ("b", "growth"), ("c", "risk")):
        client.create_registered_model(f"{prefix}-{suffix}", tags={"team": team})

    exact = client.search_registered_models(f"name = '{prefix}-b'")
    assert [m.name for m in exact] == [f"{prefix}-b"]
    risk = client.search_registered_models(f"name LIKE '{prefix}-%' AND tags.team = 'risk'")
    assert [m.name for m in risk] == [f"{prefix}-a", f"{prefix}-c"]

    first = client.search_registered_models(
        f"name LIKE '{prefix}-%'", max_results=2, order_by=["name DESC"]
    )
    assert [m.name for m in first] == [f"{prefix}-c", f"{prefix}-b"]
    assert first.token
    second = client.search_registered_models(
        f"name LIKE '{prefix}-%'", max_results=2, order_by=["name DESC"], page_token=first.token
    )
    assert [m.name for m in second] == [f"{prefix}-a"]
    assert not second.token

    time.sleep(0.005)
    client.update_registered_model(f"{prefix}-a", description="touched")
    recent = client.search_registered_models(
        f"name LIKE '{prefix}-%'", order_by=["last_updated_timestamp DESC"]
    )
    assert recent[0].name == f"{prefix}-a"

    with pytest.raises(MlflowException, match=">") as info:
        client.search_registered_models("name > 'x'")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_search_model_versions(client: MlflowClient, run_id: str) -> None:
    prefix = unique("mv")
    other_run = client.create_run(client.create_experiment(unique("exp"))).info.run_id
    a, b = f"{prefix}-a", f"{prefix}-b"
    client.create_registered_model(a)
    client.create_registered_model(b)
    _version(client, a, run_id, tags={"k": "1"})
    _version(client, a, run_id, tags={"k": "2"})
    _version(client, b, other_run)

    by_name = client.search_model_versions(f"name = '{a}'")
    assert sorted(str(mv.version) for mv in by_name) == ["1", "2"]
    by_run = client.search_model_versions(f"run_id = '{other_run}'")
    assert [(mv.name, str(mv.version)) for mv in by_run] == [(b, "1")]
    by_tag = client.search_model_versions(f"name LIKE '{prefix}-%' AND tags.k = '2'")
    assert [(mv.name, str(mv.version)) for mv in by_tag] == [(a, "2")]

    ordered = client.search_model_versions(
        f"name LIKE '{prefix}-%'", order_by=["name ASC", "version_number ASC"]
    )
    assert [(mv.name, str(mv.version)) for mv in ordered] == [(a, "1"), (a, "2"), (b, "1")]
    first = client.search_model_versions(
        f"name LIKE '{prefix}-%'", max_results=2, order_by=["name DESC", "version_number DESC"]
    )
    assert [(mv.name, str(mv.version)) for mv in first] == [(b, "1"), (a, "2")]
    assert first.token
    second = client.search_model_versions(
        f"name LIKE '{prefix}-%'",
        max_results=2,
        order_by=["name DESC", "version_number DESC"],
        page_token=first.token,
    )
    assert [(mv.name, str(mv.version)) for mv in second] == [(a, "1")]
    assert not second.token


# ---------------------------------------------------------------- mlflowx's client, either server
@STAGES_DEPRECATED
def test_mlflowx_client_against_either_server(any_server: LiveServer, run_id: str) -> None:
    """mlflowx's own REST registry store reads MLflow's answers as well as its own."""
    import mlflowx
    from mlflowx.registry import resolve_model_uri
    from mlflowx.store.model_registry import reset_registry_store_cache

    client = mlflowx.MlflowxClient(any_server.url)
    name = unique()
    try:
        client.create_registered_model(name, tags={"t": "1"}, description="d")
        mv = client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id)
        assert (mv.version, mv.run_id, mv.current_stage) == ("1", run_id, "None")
        client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id)
        client.transition_model_version_stage(name, "1", "staging")
        client.set_registered_model_alias(name, "champion", "2")
        rm = client.get_registered_model(name)
        assert (rm.tags, rm.aliases, rm.description) == ({"t": "1"}, {"champion": "2"}, "d")
        assert resolve_model_uri(f"models:/{name}@champion", client) == (name, "2")
        assert resolve_model_uri(f"models:/{name}/Staging", client) == (name, "1")
        assert resolve_model_uri(f"models:/{name}/latest", client) == (name, "2")
        found = client.search_model_versions(f"name = '{name}'", order_by=["version_number"])
        # (MLflow's search leaves out aliases; mlflowx's fills them in.)
        assert [v.version for v in found] == ["1", "2"]
        with pytest.raises(mlflowx.MlflowxError, match="already exists"):
            client.create_registered_model(name)
    finally:
        reset_registry_store_cache()
