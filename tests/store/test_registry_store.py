"""The model-registry contract, run against SQLite and PostgreSQL, directly and over REST."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import mlflowx
from mlflowx.entities import ModelVersionStage
from mlflowx.exceptions import AlreadyExists, InvalidParameter, NotFound
from mlflowx.registry import resolve_model_uri
from mlflowx.store.model_registry import RegistryStore, reset_registry_store_cache
from mlflowx.store.model_registry.sql import SqlRegistryStore
from mlflowx.store.tracking.sql import SqlTrackingStore

RUN_A = "a" * 32
RUN_B = "b" * 32
_TABLES = (
    "model_version_tags, registered_model_aliases, registered_model_tags, model_versions, "
    "registered_models"
)


def _truncate_registry(uri: str) -> None:
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {_TABLES} CASCADE")


@pytest.fixture
def tracking(tracking_uri: str, tmp_path: Path) -> Iterator[SqlTrackingStore]:
    store = SqlTrackingStore(tracking_uri, default_artifact_root=str(tmp_path / "artifacts"))
    if tracking_uri.startswith("postgresql"):
        _truncate_registry(tracking_uri)
    yield store
    store.close()


@pytest.fixture(params=["direct", "rest"])
def registry(request: pytest.FixtureRequest, tracking: SqlTrackingStore) -> Iterator[RegistryStore]:
    """Each SQL backend used directly, and through the REST API (server in-process)."""
    sql = SqlRegistryStore(tracking.uri)
    if request.param == "direct":
        yield sql
        sql.close()
        return
    from fastapi.testclient import TestClient

    from mlflowx.server import create_app
    from mlflowx.store.http import HttpSession
    from mlflowx.store.model_registry.rest import RestRegistryStore

    with TestClient(create_app(tracking, registry_store=sql), base_url="http://testserver") as c:
        yield RestRegistryStore("http://testserver", HttpSession("http://testserver", c))
    sql.close()


def _versions(registry: RegistryStore, name: str, n: int, **kw: object) -> list[str]:
    return [
        registry.create_model_version(name, f"runs:/{RUN_A}/m{i}", RUN_A, **kw).version  # type: ignore[arg-type]
        for i in range(n)
    ]


# --------------------------------------------------------------------------- registered models
def test_create_and_get_registered_model(registry: RegistryStore) -> None:
    created = registry.create_registered_model("fraud", {"team": "risk", "empty": ""}, "d")
    got = registry.get_registered_model("fraud")
    assert got == created
    assert got.name == "fraud"
    assert got.tags == {"team": "risk", "empty": ""}
    assert got.description == "d"
    assert got.creation_timestamp
    assert got.last_updated_timestamp == got.creation_timestamp
    assert got.latest_versions == []
    assert got.aliases == {}


def test_names_are_unique(registry: RegistryStore) -> None:
    registry.create_registered_model("dup")
    with pytest.raises(AlreadyExists, match=r"Registered Model \(name=dup\) already exists"):
        registry.create_registered_model("dup")


def test_missing_objects_are_not_found(registry: RegistryStore) -> None:
    with pytest.raises(NotFound, match="Registered Model with name=nope not found"):
        registry.get_registered_model("nope")
    registry.create_registered_model("m")
    with pytest.raises(NotFound, match=r"Model Version \(name=m, version=1\) not found"):
        registry.get_model_version("m", "1")
    with pytest.raises(NotFound, match="nope"):
        registry.create_model_version("nope", "s3://b/k")
    with pytest.raises(NotFound, match="nope"):
        registry.delete_registered_model("nope")


@pytest.mark.parametrize("name", ["", "  ", "a/b", "a:b", "..", "."])
def test_invalid_model_names(registry: RegistryStore, name: str) -> None:
    with pytest.raises(InvalidParameter, match="name"):
        registry.create_registered_model(name)


def test_invalid_version_is_invalid_parameter(registry: RegistryStore) -> None:
    registry.create_registered_model("m")
    with pytest.raises(InvalidParameter, match="version"):
        registry.get_model_version("m", "one")


def test_update_description(registry: RegistryStore) -> None:
    created = registry.create_registered_model("m", description="old")
    updated = registry.update_registered_model("m", "new")
    assert updated.description == "new"
    assert updated.last_updated_timestamp >= created.last_updated_timestamp  # type: ignore[operator]
    assert registry.get_registered_model("m").description == "new"


def test_rename_carries_versions_tags_and_aliases(registry: RegistryStore) -> None:
    registry.create_registered_model("old", {"k": "v"})
    _versions(registry, "old", 2)
    registry.set_model_version_tag("old", "1", "vt", "x")
    registry.set_registered_model_alias("old", "champion", "2")
    renamed = registry.rename_registered_model("old", "new")
    assert renamed.name == "new"
    assert renamed.tags == {"k": "v"}
    assert renamed.aliases == {"champion": "2"}
    assert registry.get_model_version("new", "1").tags == {"vt": "x"}
    assert registry.get_model_version_by_alias("new", "champion").version == "2"
    assert registry.create_model_version("new", "s3://b/k").version == "3"
    with pytest.raises(NotFound, match="old"):
        registry.get_registered_model("old")
    registry.create_registered_model("other")
    with pytest.raises(AlreadyExists, match="other"):
        registry.rename_registered_model("new", "other")


def test_delete_registered_model_removes_everything(registry: RegistryStore) -> None:
    registry.create_registered_model("m", {"k": "v"})
    _versions(registry, "m", 2, tags={"t": "1"})
    registry.set_registered_model_alias("m", "a", "1")
    registry.delete_registered_model("m")
    with pytest.raises(NotFound, match="m"):
        registry.get_registered_model("m")
    assert list(registry.search_model_versions("name = 'm'")) == []
    # A new model under the old name starts from scratch.
    registry.create_registered_model("m")
    mv = registry.create_model_version("m", "s3://b/k")
    assert (mv.version, mv.tags, mv.aliases) == ("1", {}, [])


def test_registered_model_tags(registry: RegistryStore) -> None:
    registry.create_registered_model("m")
    registry.set_registered_model_tag("m", "k", "v1")
    registry.set_registered_model_tag("m", "k", "v2")
    registry.set_registered_model_tag("m", "other", "x")
    assert registry.get_registered_model("m").tags == {"k": "v2", "other": "x"}
    registry.delete_registered_model_tag("m", "k")
    registry.delete_registered_model_tag("m", "absent")  # no error, as in MLflow
    assert registry.get_registered_model("m").tags == {"other": "x"}
    with pytest.raises(NotFound, match="nope"):
        registry.set_registered_model_tag("nope", "k", "v")
    with pytest.raises(InvalidParameter, match="name"):
        registry.set_registered_model_tag("m", "bad/../key", "v")


# ------------------------------------------------------------------------------ versions
def test_versions_count_from_one_per_model(registry: RegistryStore) -> None:
    registry.create_registered_model("a")
    registry.create_registered_model("b")
    assert _versions(registry, "a", 3) == ["1", "2", "3"]
    assert _versions(registry, "b", 1) == ["1"]


def test_version_keeps_its_lineage(registry: RegistryStore) -> None:
    registry.create_registered_model("m")
    before = registry.get_registered_model("m").last_updated_timestamp
    mv = registry.create_model_version(
        "m",
        f"runs:/{RUN_A}/model",
        RUN_A,
        {"mlflowx.flow_run_id": "f-1"},
        "http://ui/#/runs/x",
        "first",
    )
    assert mv.name == "m"
    assert mv.version == "1"
    assert mv.source == f"runs:/{RUN_A}/model"
    assert mv.run_id == RUN_A
    assert mv.run_link == "http://ui/#/runs/x"
    assert mv.tags == {"mlflowx.flow_run_id": "f-1"}
    assert mv.description == "first"
    assert mv.status == "READY"
    assert mv.current_stage == "None"
    assert mv.creation_timestamp == mv.last_updated_timestamp
    assert registry.get_model_version("m", 1) == mv
    assert registry.get_model_version_download_uri("m", "1") == f"runs:/{RUN_A}/model"
    assert registry.get_registered_model("m").last_updated_timestamp >= before  # type: ignore[operator]


def test_update_model_version(registry: RegistryStore) -> None:
    registry.create_registered_model("m")
    _versions(registry, "m", 1)
    assert registry.update_model_version("m", "1", "better").description == "better"
    assert registry.get_model_version("m", "1").description == "better"
    with pytest.raises(NotFound, match="version=9"):
        registry.update_model_version("m", "9", "x")


def test_deleted_version_is_gone_and_its_number_never_reused(registry: RegistryStore) -> None:
    registry.create_registered_model("m")
    _versions(registry, "m", 2)
    registry.set_registered_model_alias("m", "champion", "2")
    registry.set_registered_model_alias("m", "keep", "1")
    registry.delete_model_version("m", "2")
    with pytest.raises(NotFound, match="version=2"):
        registry.get_model_version("m", "2")
    with pytest.raises(NotFound, match="version=2"):
        registry.delete_model_version("m", "2")
    # Deleting an aliased version removes its alias.
    assert registry.get_registered_model("m").aliases == {"keep": "1"}
    with pytest.raises(InvalidParameter, match="alias champion not found"):
        registry.get_model_version_by_alias("m", "champion")
    assert registry.create_model_version("m", "s3://b/k").version == "3"
    assert [mv.version for mv in registry.search_model_versions("name = 'm'")] == ["3", "1"]


def test_model_version_tags(registry: RegistryStore) -> None:
    registry.create_registered_model("m")
    _versions(registry, "m", 2)
    registry.set_model_version_tag("m", "1", "k", "v1")
    registry.set_model_version_tag("m", "1", "k", "v2")
    registry.set_model_version_tag("m", 2, "k", "other")
    assert registry.get_model_version("m", "1").tags == {"k": "v2"}
    assert registry.get_model_version("m", "2").tags == {"k": "other"}
    registry.delete_model_version_tag("m", "1", "k")
    registry.delete_model_version_tag("m", "1", "absent")
    assert registry.get_model_version("m", "1").tags == {}
    with pytest.raises(NotFound, match="version=7"):
        registry.set_model_version_tag("m", "7", "k", "v")


def test_a_models_uri_source_resolves_to_its_version_location(registry: RegistryStore) -> None:
    registry.create_registered_model("base")
    registry.create_model_version("base", "s3://bucket/model")
    registry.create_registered_model("copy")
    mv = registry.create_model_version("copy", "models:/base/1")
    assert mv.source == "models:/base/1"
    assert registry.get_model_version_download_uri("copy", mv.version) == "s3://bucket/model"


# ------------------------------------------------------------------------------ stages
def test_transition_stage_is_case_insensitive(registry: RegistryStore) -> None:
    registry.create_registered_model("m")
    _versions(registry, "m", 1)
    mv = registry.transition_model_version_stage("m", "1", "production")
    assert mv.current_stage == "Production"
    assert mv.last_updated_timestamp >= mv.creation_timestamp  # type: ignore[operator]
    assert registry.transition_model_version_stage("m", "1", "NONE").current_stage == "None"
    with pytest.raises(InvalidParameter, match="Invalid Model Version stage: Prod"):
        registry.transition_model_version_stage("m", "1", "Prod")


def test_archive_existing_versions(registry: RegistryStore) -> None:
    registry.create_registered_model("m")
    _versions(registry, "m", 4)
    registry.transition_model_version_stage("m", "1", "Production")
    registry.transition_model_version_stage("m", "2", "Production")
    registry.transition_model_version_stage("m", "3", "Staging")
    registry.transition_model_version_stage("m", "4", "Production", archive_existing_versions=True)
    stages = {v: registry.get_model_version("m", v).current_stage for v in "1234"}
    assert stages == {"1": "Archived", "2": "Archived", "3": "Staging", "4": "Production"}
    with pytest.raises(InvalidParameter, match="not an Active stage"):
        registry.transition_model_version_stage(
            "m", "3", "Archived", archive_existing_versions=True
        )


def test_latest_versions_per_stage(registry: RegistryStore) -> None:
    registry.create_registered_model("m")
    _versions(registry, "m", 5)
    registry.transition_model_version_stage("m", "1", "Production")
    registry.transition_model_version_stage("m", "2", "Production")
    registry.transition_model_version_stage("m", "3", "Staging")
    registry.delete_model_version("m", "5")
    latest = registry.get_latest_versions("m")
    assert {(mv.current_stage, mv.version) for mv in latest} == {
        ("Production", "2"),
        ("Staging", "3"),
        ("None", "4"),
    }
    only = registry.get_latest_versions("m", ["production", "STAGING"])
    assert sorted(mv.version for mv in only) == ["2", "3"]
    assert registry.get_latest_versions("m", ["Archived"]) == []
    rm = registry.get_registered_model("m")
    assert sorted(mv.version for mv in rm.latest_versions) == ["2", "3", "4"]
    with pytest.raises(InvalidParameter, match="stage"):
        registry.get_latest_versions("m", ["bogus"])


# ------------------------------------------------------------------------------ aliases
def test_aliases(registry: RegistryStore) -> None:
    registry.create_registered_model("m")
    _versions(registry, "m", 3)
    registry.set_registered_model_alias("m", "champion", "1")
    registry.set_registered_model_alias("m", "challenger", "2")
    assert registry.get_model_version_by_alias("m", "champion").version == "1"
    registry.set_registered_model_alias("m", "champion", "2")  # moves
    mv = registry.get_model_version_by_alias("m", "champion")
    assert (mv.version, sorted(mv.aliases)) == ("2", ["challenger", "champion"])
    assert registry.get_model_version("m", "1").aliases == []
    assert registry.get_registered_model("m").aliases == {"champion": "2", "challenger": "2"}
    assert registry.get_model_version_by_alias("m", "latest").version == "3"
    registry.delete_registered_model_alias("m", "challenger")
    registry.delete_registered_model_alias("m", "never-set")  # no error, as in MLflow
    assert registry.get_registered_model("m").aliases == {"champion": "2"}


@pytest.mark.parametrize(
    ("alias", "message"),
    [("latest", "reserved"), ("LATEST", "reserved"), ("v1", "reserved"), ("a b", "alphanumerics")],
)
def test_invalid_aliases(registry: RegistryStore, alias: str, message: str) -> None:
    registry.create_registered_model("m")
    _versions(registry, "m", 1)
    with pytest.raises(InvalidParameter, match=message):
        registry.set_registered_model_alias("m", alias, "1")


def test_alias_needs_an_existing_version(registry: RegistryStore) -> None:
    registry.create_registered_model("m")
    with pytest.raises(NotFound, match="version=1"):
        registry.set_registered_model_alias("m", "a", "1")
    with pytest.raises(NotFound, match="Latest version not found"):
        registry.get_model_version_by_alias("m", "latest")


def test_values_beyond_the_columns_are_refused_not_5xx(registry: RegistryStore) -> None:
    registry.create_registered_model("m")
    with pytest.raises(InvalidParameter, match="version"):
        registry.get_model_version("m", str(2**40))
    with pytest.raises(InvalidParameter, match="model_id"):
        registry.create_model_version("m", "s3://b/k", model_id="m-" + "0" * 60)
    with pytest.raises(InvalidParameter, match="source"):
        registry.create_model_version("m", "s3://" + "k" * 3000)
    with pytest.raises(InvalidParameter, match="version_number"):
        registry.search_model_versions(f"version_number > {2**70}")
    from mlflowx.store.search import encode_page_token

    with pytest.raises(InvalidParameter, match="page token"):
        registry.search_registered_models(page_token=encode_page_token(2**80))


# ------------------------------------------------------------------------------ search
def _fleet(registry: RegistryStore) -> None:
    for name, team in (("alpha", "risk"), ("Beta", "growth"), ("gamma", "risk")):
        registry.create_registered_model(name, {"team": team})
    registry.create_model_version("alpha", f"runs:/{RUN_A}/model", RUN_A, {"k": "1"})
    registry.create_model_version("alpha", "s3://bucket/alpha/2", None, {"k": "2"})
    registry.create_model_version("Beta", f"runs:/{RUN_B}/model", RUN_B)
    registry.create_model_version("gamma", f"runs:/{RUN_A}/other", RUN_A)


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        (None, ["Beta", "alpha", "gamma"]),
        ("name = 'alpha'", ["alpha"]),
        ("name != 'alpha'", ["Beta", "gamma"]),
        ("name LIKE '%a'", ["Beta", "alpha", "gamma"]),
        ("name LIKE 'b%'", []),
        ("name ILIKE 'b%'", ["Beta"]),
        ("name IN ('gamma', 'Beta')", ["Beta", "gamma"]),
        ("name NOT IN ('gamma')", ["Beta", "alpha"]),
        ("tags.team = 'risk'", ["alpha", "gamma"]),
        ("tags.team != 'risk'", ["Beta"]),
        ("tags.`team` LIKE 'r%' AND name LIKE 'g%'", ["gamma"]),
        ("tags.missing = 'x'", []),
    ],
)
def test_search_registered_models_filters(
    registry: RegistryStore, filter_string: str | None, expected: list[str]
) -> None:
    _fleet(registry)
    assert [m.name for m in registry.search_registered_models(filter_string)] == expected


def test_search_registered_models_order_and_pages(registry: RegistryStore) -> None:
    _fleet(registry)
    desc = registry.search_registered_models(order_by=["name DESC"])
    assert [m.name for m in desc] == ["gamma", "alpha", "Beta"]
    registry.update_registered_model("Beta", "touched")
    recent = registry.search_registered_models(order_by=["last_updated_timestamp DESC"])
    assert recent[0].name == "Beta"
    first = registry.search_registered_models(max_results=2)
    assert [m.name for m in first] == ["Beta", "alpha"]
    assert first.token
    second = registry.search_registered_models(max_results=2, page_token=first.token)
    assert [m.name for m in second] == ["gamma"]
    assert second.token is None
    with_versions = registry.search_registered_models("name = 'alpha'")[0]
    assert [mv.version for mv in with_versions.latest_versions] == ["2"]
    assert with_versions.tags == {"team": "risk"}


@pytest.mark.parametrize(
    "filter_string",
    ["name > 'a'", "run_id = 'x'", "tags.k IN ('a')", "name = 'a' OR name = 'b'", "name = "],
)
def test_invalid_registered_model_filters(registry: RegistryStore, filter_string: str) -> None:
    with pytest.raises(InvalidParameter, match="filter"):
        registry.search_registered_models(filter_string)


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name = 'alpha'", [("alpha", "2"), ("alpha", "1")]),
        (f"run_id = '{RUN_A}'", [("alpha", "1"), ("gamma", "1")]),
        (f"run_id IN ('{RUN_B}')", [("Beta", "1")]),
        ("tags.k = '2'", [("alpha", "2")]),
        ("version_number > 1", [("alpha", "2")]),
        ("version_number = 1 AND name ILIKE 'ALPHA'", [("alpha", "1")]),
        ("source_path LIKE 's3://%'", [("alpha", "2")]),
        ("source_path = 'nothing'", []),
    ],
)
def test_search_model_versions_filters(
    registry: RegistryStore, filter_string: str, expected: list[tuple[str, str]]
) -> None:
    _fleet(registry)
    found = registry.search_model_versions(filter_string, order_by=["name", "version_number DESC"])
    assert [(mv.name, mv.version) for mv in found] == expected


def test_search_model_versions_order_and_pages(registry: RegistryStore) -> None:
    _fleet(registry)
    time.sleep(0.005)  # timestamps are in ms
    registry.update_model_version("gamma", "1", "touched")
    everything = registry.search_model_versions()
    # By default the most recently updated first.
    assert (everything[0].name, everything[0].version) == ("gamma", "1")
    assert len(everything) == 4
    asc = registry.search_model_versions("name = 'alpha'", order_by=["version_number ASC"])
    assert [mv.version for mv in asc] == ["1", "2"]
    pages: list[tuple[str, str]] = []
    token = None
    while True:
        page = registry.search_model_versions(
            order_by=["name ASC"], max_results=3, page_token=token
        )
        pages += [(mv.name, mv.version) for mv in page]
        token = page.token
        if not token:
            break
    assert pages == [("Beta", "1"), ("alpha", "2"), ("alpha", "1"), ("gamma", "1")]
    with pytest.raises(InvalidParameter, match="order by key"):
        registry.search_model_versions(order_by=["run_id"])
    with pytest.raises(InvalidParameter, match="duplicate"):
        registry.search_model_versions(order_by=["name", "name DESC"])


def test_search_hides_prompts_unless_asked(registry: RegistryStore) -> None:
    registry.create_registered_model("model")
    registry.create_registered_model("prompt", {"mlflow.prompt.is_prompt": "true"})
    registry.create_model_version("prompt", "s3://p", tags={"mlflow.prompt.is_prompt": "true"})
    assert [m.name for m in registry.search_registered_models()] == ["model"]
    asked = registry.search_registered_models("tags.`mlflow.prompt.is_prompt` = 'true'")
    assert [m.name for m in asked] == ["prompt"]
    assert list(registry.search_model_versions()) == []


# ------------------------------------------------------------------------------ models:/ URIs
def test_resolve_model_uri(registry: RegistryStore) -> None:
    registry.create_registered_model("m")
    _versions(registry, "m", 3)
    registry.transition_model_version_stage("m", "2", "Production")
    registry.set_registered_model_alias("m", "champion", "1")
    assert resolve_model_uri("models:/m/3", registry) == ("m", "3")
    assert resolve_model_uri("models:/m@champion", registry) == ("m", "1")
    assert resolve_model_uri("models:/m/production", registry) == ("m", "2")
    assert resolve_model_uri("models:/m/latest", registry) == ("m", "3")
    assert resolve_model_uri("models:/m@latest", registry) == ("m", "3")
    with pytest.raises(NotFound, match="stage 'Staging'"):
        resolve_model_uri("models:/m/Staging", registry)
    with pytest.raises(InvalidParameter, match="logged model"):
        resolve_model_uri("models:/m-0123456789abcdef0123456789abcdef", registry)
    with pytest.raises(InvalidParameter, match="Not a proper models:/ URI"):
        resolve_model_uri("models:/a/b/c", registry)


# --------------------------------------------------------------------- concurrency, server checks
def test_concurrent_versions_get_distinct_numbers(tracking: SqlTrackingStore) -> None:
    store = SqlRegistryStore(tracking.uri)
    store.create_registered_model("m")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        versions = list(pool.map(lambda i: store.create_model_version("m", f"s3://{i}"), range(40)))
    store.close()
    assert sorted(int(mv.version) for mv in versions) == list(range(1, 41))


def test_server_checks_version_sources(tracking: SqlTrackingStore, tmp_path: Path) -> None:
    """As MLflow's server: a source must lie within the run it names."""
    from fastapi.testclient import TestClient

    from mlflowx.server import create_app

    run = tracking.create_run("0", "alice", 1, [], None)
    run_id = run.info.run_id
    artifacts = run.info.artifact_uri
    assert artifacts is not None
    with TestClient(create_app(tracking)) as http:
        http.post("/api/2.0/mlflow/registered-models/create", json={"name": "m"})

        def create(**body: str) -> tuple[int, dict[str, str]]:
            r = http.post("/api/2.0/mlflow/model-versions/create", json={"name": "m", **body})
            return r.status_code, r.json()

        assert create(source=f"runs:/{run_id}/model", run_id=run_id)[0] == 200
        assert create(source=f"{artifacts}/model", run_id=run_id)[0] == 200
        for body in (
            {"source": f"runs:/{run_id}/model"},  # the run is not named
            {"source": f"runs:/{RUN_B}/model", "run_id": run_id},  # another run
            {"source": str(tmp_path / "elsewhere"), "run_id": run_id},  # outside the run
            {"source": "/etc"},
            {"source": "s3://bucket/a/../../b"},
        ):
            status, error = create(**body)
            assert (status, error["error_code"]) == (400, "INVALID_PARAMETER_VALUE"), body
        status, error = create()
        assert "source" in error["message"]


def test_server_links_versions_to_their_logged_model(tracking: SqlTrackingStore) -> None:
    """A version made from a logged model resolves to its files and is listed on it (MLflow)."""
    import json

    from fastapi.testclient import TestClient

    from mlflowx.server import create_app
    from mlflowx.store.http import HttpSession
    from mlflowx.store.model_registry.rest import RestRegistryStore

    run_id = tracking.create_run("0", "alice", 1, [], None).info.run_id
    logged = tracking.create_logged_model("0", "model", source_run_id=run_id)
    with TestClient(create_app(tracking), base_url="http://testserver") as http:
        rest = RestRegistryStore("http://testserver", HttpSession("http://testserver", http))
        rest.create_registered_model("m")
        for _ in range(2):
            mv = rest.create_model_version(
                "m", f"models:/{logged.model_id}", model_id=logged.model_id
            )
        assert (mv.version, mv.run_id, mv.model_id) == ("2", run_id, logged.model_id)
        assert rest.get_model_version_download_uri("m", "2") == logged.artifact_location
    listed = json.loads(tracking.get_logged_model(logged.model_id).tags["mlflow.modelVersions"])
    assert listed == [{"name": "m", "version": 1}, {"name": "m", "version": 2}]


# ------------------------------------------------------------------------------ client, fluent
@pytest.fixture
def sqlite_tracking(tmp_path: Path) -> Iterator[str]:
    uri = f"sqlite:///{tmp_path / 'client.db'}"
    mlflowx.set_tracking_uri(uri)
    yield uri
    reset_registry_store_cache()


@pytest.mark.usefixtures("sqlite_tracking")
def test_client_registry_methods() -> None:
    client = mlflowx.MlflowxClient()
    client.create_registered_model("m", tags={"n": 1}, description="d")
    assert client.get_registered_model("m").tags == {"n": "1"}
    mv = client.create_model_version("m", f"runs:/{RUN_A}/model", run_id=RUN_A, tags={"t": 2})
    assert (mv.version, mv.tags) == ("1", {"t": "2"})
    client.transition_model_version_stage("m", "1", "staging")
    client.set_model_version_tag("m", key="by-stage", value="yes", stage="Staging")
    assert client.get_model_version("m", "1").tags == {"t": "2", "by-stage": "yes"}
    client.delete_model_version_tag("m", key="by-stage", stage="staging")
    client.set_registered_model_alias("m", "champion", 1)
    assert client.get_model_version_by_alias("m", "champion").run_id == RUN_A
    assert client.get_model_version_stages("m", "1") == [
        "None",
        "Staging",
        "Production",
        "Archived",
    ]
    assert [m.name for m in client.search_registered_models("name LIKE 'm%'")] == ["m"]
    assert [v.version for v in client.search_model_versions(f"run_id = '{RUN_A}'")] == ["1"]


@pytest.mark.usefixtures("sqlite_tracking")
def test_fluent_register_model_keeps_the_run() -> None:
    with mlflowx.start_run() as run:
        pass
    run_id = run.info.run_id
    # runs:/<run>/model names the model the run logged as "model" (see test_registry_client).
    logged = mlflowx.MlflowxClient().create_logged_model("0", "model", source_run_id=run_id)
    first = mlflowx.register_model(f"runs:/{run_id}/model", "fluent", tags={"k": "v"})
    second = mlflowx.register_model(f"runs:/{run_id}/model", "fluent")
    assert (first.version, second.version) == ("1", "2")
    source = f"models:/{logged.model_id}"
    assert (first.run_id, first.source, first.tags) == (run_id, source, {"k": "v"})
    assert first.current_stage == ModelVersionStage.NONE

    by_id = mlflowx.register_model(f"models:/{logged.model_id}", "from-logged")
    assert (by_id.model_id, by_id.run_id) == (logged.model_id, run_id)
    client = mlflowx.MlflowxClient()
    assert client.get_model_version_download_uri("from-logged", "1") == logged.artifact_location
    with pytest.raises(NotFound, match="m-0123456789abcdef0123456789abcdef"):
        mlflowx.register_model("models:/m-0123456789abcdef0123456789abcdef", "from-logged")
