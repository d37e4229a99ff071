"""Schema versions: check (cheap, no SQLAlchemy) and migrate (Alembic, on request)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlflowx.store.sql.db import open_database, sqlalchemy_url, sqlite_path

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

#: The Alembic revision this mlflowx expects. A test checks it equals the scripts' head.
KNOWN_REVISIONS = (
    "0001_initial",
    "0002_logged_models",
    "0002_model_registry",
    "0003_parent_run_index",
    "0004_auth",
    "0005_model_metrics_inputs",
    "0006_search_order_indexes",
    "0007_experiment_tag_values",
    "0008_run_order_indexes",
    "0009_metric_step_blocks",
)
HEAD_REVISION = KNOWN_REVISIONS[-1]
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Alembic keeps its running context in module globals: one migration at a time per process.
_migrate_lock = threading.Lock()


#: URI schemes of the databases the SQL stores open (a ``+driver`` suffix is allowed).
_DATABASE_SCHEMES = frozenset({"sqlite", "postgresql", "postgres", "mysql", "mssql"})


def check_database_uri(uri: str) -> str:
    """``uri`` if it names a database; otherwise an error that says what it names instead (a
    server, MLflow's file store) and what to do."""
    from mlflowx.exceptions import InvalidParameter
    from mlflowx.store.mlflow_stores import file_store_refused

    scheme = uri.split("://", 1)[0].split("+", 1)[0].lower() if "://" in uri else ""
    if scheme in _DATABASE_SCHEMES:
        return uri
    if scheme in ("http", "https"):
        raise InvalidParameter(
            f"{uri} is a tracking server, not a database: schema commands take the server's "
            "database URI (its --backend-store-uri, e.g. sqlite:///mlflowx.db or "
            "postgresql://user@host/db)"
        )
    if not scheme or scheme == "file" or uri.startswith("file:"):
        raise file_store_refused(uri)
    raise InvalidParameter(
        f"Unsupported database URI {uri!r}: use sqlite:///path/to/mlflowx.db or "
        "postgresql://user:password@host:port/database"
    )


def check_revision(revision: str) -> str:
    """A revision ``mlflowx db upgrade`` can migrate to: ``head`` or one it knows."""
    from mlflowx.exceptions import InvalidParameter

    if revision != "head" and revision not in KNOWN_REVISIONS:
        raise InvalidParameter(
            f"Unknown schema revision {revision!r}: use 'head' or one of "
            f"{', '.join(KNOWN_REVISIONS)}"
        )
    return revision


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def migrate(uri: str, revision: str = "head") -> tuple[str | None, str]:
    """Upgrade the database at ``uri`` to ``revision``; returns (before, after)."""
    from sqlalchemy import create_engine

    engine = create_engine(sqlalchemy_url(uri))
    with _migrate_lock:
        return _migrate(engine, revision)


def _migrate(engine: Any, revision: str) -> tuple[str | None, str]:
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    from mlflowx.store.mlflow_stores import is_mlflow_revision, mlflow_database_refused, safe_uri

    try:
        with engine.begin() as connection:
            before = MigrationContext.configure(connection).get_current_revision()
            if is_mlflow_revision(before):
                raise mlflow_database_refused(
                    safe_uri(engine.url.render_as_string(hide_password=False)), before
                )
            command.upgrade(_alembic_config(connection), revision)
            after = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    return before, after or ""


def script_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def current_revision(uri: str) -> str | None:
    """The database's revision (``None`` when it has no schema yet, or no SQLite file exists:
    none is created); needs no Alembic."""

    if uri.startswith("sqlite:"):
        path = sqlite_path(uri)
        if path != ":memory:" and not Path(path).is_file():
            return None

    db = open_database(uri)
    try:
        with db.read() as conn:
            try:
                rows = conn.execute("SELECT version_num FROM alembic_version")
            except Exception:
                return None
        return str(rows[0][0]) if rows else None
    finally:
        db.close()


# ------------------------------------------------------------------------- SQLite snapshot
#: The head schema for SQLite as plain DDL, generated from the migrations (a test keeps it
#: current). A new embedded database is created from it with the standard library's sqlite3:
#: ~5 ms instead of ~1 s for importing SQLAlchemy, SQLModel and Alembic and running them.
SQLITE_SNAPSHOT = Path(__file__).with_name("sqlite_schema.sql")


def dump_sqlite_schema(db_path: str) -> str:
    """The DDL of a SQLite database (tables and indexes, in creation order) plus its revision."""
    import sqlite3

    conn = sqlite3.connect(db_path)
    try:
        ddl = [
            row[0]
            for row in conn.execute(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
            )
        ]
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        conn.close()
    statements = [*ddl, f"INSERT INTO alembic_version (version_num) VALUES ('{revision}')"]
    return "".join(f"{s.strip()};\n" for s in statements)


def render_sqlite_snapshot() -> str:
    """Run the migrations on a scratch SQLite file and dump the result."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/snapshot.db"
        migrate(f"sqlite:///{path}")
        header = (
            "-- Generated from the Alembic migrations by "
            "`python -m mlflowx.store.sql.schema`; do not edit.\n"
        )
        return header + dump_sqlite_schema(path)


def create_sqlite_from_snapshot(conn: Any) -> bool:
    """Create the head schema in an empty SQLite database (a raw sqlite3 connection in
    autocommit mode), atomically; a database another process created meanwhile is left alone.
    False when no current snapshot exists."""
    if not SQLITE_SNAPSHOT.is_file():
        return False
    script = SQLITE_SNAPSHOT.read_text()
    if f"VALUES ('{HEAD_REVISION}')" not in script:
        return False
    lines = [line for line in script.splitlines() if not line.startswith("--")]
    statements = [s.strip() for s in "\n".join(lines).split(";\n") if s.strip()]
    conn.execute("BEGIN IMMEDIATE")  # writers queue here: one creates, the others see it
    try:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        if not found:
            for statement in statements:
                conn.execute(statement)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return True


if __name__ == "__main__":
    SQLITE_SNAPSHOT.write_text(render_sqlite_snapshot())
    print(f"wrote {SQLITE_SNAPSHOT}")
