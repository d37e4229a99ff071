"""Schema versions: check (cheap, no SQLAlchemy) and migrate (Alembic, on request)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

#: The Alembic revision this mlflowx expects. A test checks it equals the scripts' head.
KNOWN_REVISIONS = ("0001_initial",)
HEAD_REVISION = KNOWN_REVISIONS[-1]
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Alembic keeps its running context in module globals: one migration at a time per process.
_migrate_lock = threading.Lock()


def sqlalchemy_url(uri: str) -> str:
    """MLflow-style URIs name no driver for PostgreSQL; pick psycopg 3."""
    if uri.startswith("postgresql://") or uri.startswith("postgres://"):
        return "postgresql+psycopg://" + uri.split("://", 1)[1]
    return uri


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

    try:
        with engine.begin() as connection:
            before = MigrationContext.configure(connection).get_current_revision()
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
    """The database's revision (``None`` when it has no schema yet); needs no Alembic."""
    from mlflowx.store.sql.db import open_database

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
