"""Schema versions: created on first use, never upgraded silently, upgraded by a command."""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path
from typing import Any

import pytest

from mlflowx.exceptions import InvalidState, SchemaOutOfDate
from mlflowx.store.sql.schema import HEAD_REVISION, current_revision, migrate, script_head
from mlflowx.store.tracking.sql import SqlTrackingStore


def test_head_constant_matches_migration_scripts() -> None:
    assert script_head() == HEAD_REVISION


def test_migrated_schema_matches_sqlmodel_tables(tracking_uri: str) -> None:
    """The SQLModel classes are the source of truth; migrations must produce exactly them."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    from mlflowx.store.sql.db import sqlalchemy_url
    from mlflowx.store.sql.tables import (
        POSTGRESQL_PREFIX_INDEXES,
        POSTGRESQL_RUN_ORDER_INDEXES,
        metadata,
    )

    migrate(tracking_uri)
    engine = create_engine(sqlalchemy_url(tracking_uri))
    postgresql = engine.dialect.name == "postgresql"

    def include(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
        if kind != "index":
            return True
        # Read from pg_indexes by test_run_order_indexes_* and test_value_prefix_indexes_*.
        if postgresql and name in {*POSTGRESQL_RUN_ORDER_INDEXES, *POSTGRESQL_PREFIX_INDEXES}:
            return False
        # Alembic ignores Index.ddl_if: skip the declared indexes of the other dialect.
        only = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
        return reflected or only in (None, engine.dialect.name)

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include})
        with warnings.catch_warnings():  # warned before include() skips them on SQLite
            warnings.filterwarnings(
                "ignore",
                "autogenerate skipping metadata-specified expression-based index "
                "'ix_(params|tags)_key_value_prefix'",
            )
            diff = compare_metadata(context, metadata)
    engine.dispose()
    assert diff == []


def test_run_order_indexes_sort_as_searches_do(tracking_uri: str) -> None:
    """Searches order run names and statuses by code point (``COLLATE "C"`` on PostgreSQL) and
    ties by ``start_time DESC NULLS LAST``: the indexes serving those orders must say the same,
    or PostgreSQL's planner cannot use them."""
    from sqlalchemy import create_engine, text

    from mlflowx.store.sql.db import sqlalchemy_url
    from mlflowx.store.sql.tables import POSTGRESQL_RUN_ORDER_INDEXES

    migrate(tracking_uri)
    engine = create_engine(sqlalchemy_url(tracking_uri))
    postgresql = engine.dialect.name == "postgresql"
    query = (
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'runs'"
        if postgresql
        else "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'runs' AND type = 'index'"
    )
    with engine.connect() as conn:
        found = {str(name): str(ddl) for name, ddl in conn.execute(text(query))}
    engine.dispose()
    for name, columns in POSTGRESQL_RUN_ORDER_INDEXES.items():
        column = columns.split(" ")[0].rstrip(",")
        expected = columns if postgresql else f"{column}, start_time"
        assert f"(experiment_id, lifecycle_stage, {expected})" in found[name], found[name]


def test_value_prefix_indexes_on_postgresql(postgres_uri: str) -> None:
    """Params and tags by (key, a value prefix in byte order) on PostgreSQL only (SQLite
    indexes whole values, migration 0006)."""
    from sqlalchemy import create_engine, text

    from mlflowx.store.sql.db import sqlalchemy_url
    from mlflowx.store.sql.tables import POSTGRESQL_PREFIX_INDEXES, VALUE_PREFIX

    migrate(postgres_uri)
    engine = create_engine(sqlalchemy_url(postgres_uri))
    with engine.connect() as conn:
        found = {
            str(name): str(ddl)
            for name, ddl in conn.execute(text("SELECT indexname, indexdef FROM pg_indexes"))
        }
    engine.dispose()
    for name, table in POSTGRESQL_PREFIX_INDEXES.items():
        expected = f'ON public.{table} USING btree (key, "left"((value)::text, {VALUE_PREFIX})'
        assert expected in found[name], found[name]
        assert 'COLLATE "C"' in found[name], found[name]


def test_new_database_is_created_at_head(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'new.db'}"
    assert current_revision(uri) is None
    SqlTrackingStore(uri).close()
    assert current_revision(uri) == HEAD_REVISION


def test_old_database_is_refused_with_the_upgrade_command(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    uri = f"sqlite:///{db}"
    SqlTrackingStore(uri).close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'not-a-revision'")
    with pytest.raises(InvalidState, match="does not know"):
        SqlTrackingStore(uri)


def test_out_of_date_revision_names_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflowx.store.tracking.sql as sql_store

    uri = f"sqlite:///{tmp_path / 'older.db'}"
    SqlTrackingStore(uri).close()
    # Pretend this mlflowx is one migration ahead of the database.
    monkeypatch.setattr(sql_store, "HEAD_REVISION", "0002_future")
    monkeypatch.setattr(sql_store, "KNOWN_REVISIONS", (HEAD_REVISION, "0002_future"))
    with pytest.raises(SchemaOutOfDate, match="mlflowx db upgrade"):
        SqlTrackingStore(uri)


def test_foreign_tables_without_version_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "foreign.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE runs (id INTEGER)")
    with pytest.raises(InvalidState, match="not created by mlflowx"):
        SqlTrackingStore(f"sqlite:///{db}")


def test_wal_mode_and_concurrent_creation(tmp_path: Path) -> None:
    import concurrent.futures

    uri = f"sqlite:///{tmp_path / 'race.db'}"
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: SqlTrackingStore(uri), range(4)))
    for s in stores:
        s.close()
    with sqlite3.connect(tmp_path / "race.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM experiments").fetchone()[0] == 1


def test_sqlite_snapshot_is_current() -> None:
    """Refresh with `python -m mlflowx.store.sql.schema` after adding a migration."""
    from mlflowx.store.sql.schema import SQLITE_SNAPSHOT, render_sqlite_snapshot

    assert SQLITE_SNAPSHOT.read_text() == render_sqlite_snapshot()


def test_snapshot_database_equals_migrated_database(tmp_path: Path) -> None:
    from mlflowx.store.sql.schema import dump_sqlite_schema

    migrated = tmp_path / "migrated.db"
    migrate(f"sqlite:///{migrated}")
    fresh = tmp_path / "fresh.db"
    SqlTrackingStore(f"sqlite:///{fresh}").close()  # created from the snapshot
    with sqlite3.connect(fresh) as conn:
        conn.execute("DELETE FROM experiments")  # the store adds the Default experiment
    assert dump_sqlite_schema(str(fresh)) == dump_sqlite_schema(str(migrated))
    assert current_revision(f"sqlite:///{fresh}") == HEAD_REVISION


def test_search_order_indexes_upgrade_an_existing_database(tracking_uri: str) -> None:
    """0005 -> head adds the (key, value) indexes of params and tags on SQLite only."""
    from sqlalchemy import create_engine, inspect

    from mlflowx.store.sql.db import sqlalchemy_url

    if tracking_uri.startswith("postgresql"):  # the fixture truncates; start from no schema
        from sqlalchemy import text

        reset = create_engine(sqlalchemy_url(tracking_uri))
        with reset.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        reset.dispose()
    assert migrate(tracking_uri, "0005_model_metrics_inputs")[1] == "0005_model_metrics_inputs"
    assert migrate(tracking_uri) == ("0005_model_metrics_inputs", HEAD_REVISION)
    engine = create_engine(sqlalchemy_url(tracking_uri))
    names = {i["name"] for table in ("params", "tags") for i in inspect(engine).get_indexes(table)}
    sqlite = engine.dialect.name == "sqlite"
    engine.dispose()
    assert ("ix_params_key_value" in names, "ix_tags_key_value" in names) == (sqlite, sqlite)
