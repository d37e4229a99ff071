"""The SQL tracking store: SQLite (embedded default) and PostgreSQL through the same statements."""

from __future__ import annotations

from mlflowx import settings
from mlflowx.entities import DEFAULT_EXPERIMENT_ID, now_ms
from mlflowx.exceptions import InvalidState, SchemaOutOfDate
from mlflowx.store.locations import LocationPolicy, is_local
from mlflowx.store.mlflow_stores import is_mlflow_revision, mlflow_database_refused
from mlflowx.store.sql.db import Connection, Database, SqliteDatabase, open_database
from mlflowx.store.sql.schema import HEAD_REVISION, KNOWN_REVISIONS
from mlflowx.store.tracking.base import TrackingStore
from mlflowx.store.tracking.sql_history import HistoryMixin
from mlflowx.store.tracking.sql_inputs import InputsMixin
from mlflowx.store.tracking.sql_purge import PurgeMixin
from mlflowx.store.tracking.sql_run_data import RunDataMixin
from mlflowx.store.tracking.sql_search import SearchMixin
from mlflowx.utils.uri import join_uri

__all__ = ["DEFAULT_EXPERIMENT_ID", "SqlTrackingStore"]

DEFAULT_EXPERIMENT_NAME = "Default"
USER_TAG = "mlflow.user"


def _default_artifact_root(uri: str) -> str:
    """``$MLFLOWX_DEFAULT_ARTIFACT_ROOT``; else ``mlartifacts`` beside a SQLite file; else
    ``$MLFLOWX_HOME/mlartifacts``."""
    import os
    from pathlib import Path

    from mlflowx.store.sql.db import sqlite_path

    configured = os.environ.get("MLFLOWX_DEFAULT_ARTIFACT_ROOT")
    if configured:
        return configured
    if uri.startswith("sqlite:"):
        path = sqlite_path(uri)
        if path != ":memory:":
            return str(Path(path).resolve().parent / "mlartifacts")
    return settings.default_artifact_root()


class SqlTrackingStore(
    RunDataMixin, InputsMixin, HistoryMixin, SearchMixin, PurgeMixin, TrackingStore
):
    """Tracking data in a SQL database.

    One mixin per concern, each in its own module: experiments (``sql_experiments``), runs
    (``sql_runs``), their metrics, params and tags (``sql_run_data``), inputs and datasets
    (``sql_inputs``), metric histories (``sql_history``), run search (``sql_search``), logged
    models (``sql_models``) and purging (``sql_purge``); this module opens the database and
    checks its schema.

    Args:
        uri: ``sqlite:///path.db`` or a SQLAlchemy URL such as ``postgresql://user@host/db``.
        default_artifact_root: where experiments without an explicit location keep artifacts.
        location_policy: which explicit artifact locations are accepted (by default the one
            the settings describe: see :mod:`mlflowx.store.locations`).
    """

    def __init__(
        self,
        uri: str,
        default_artifact_root: str | None = None,
        *,
        location_policy: LocationPolicy | None = None,
    ) -> None:
        self.uri = uri
        self.db: Database = open_database(uri)
        self.inline_writes = self.db.dialect == "sqlite"
        # PostgreSQL logs a metric in one autocommit statement (sql_run_data.log_metric).
        self.inline_metric_writes = self.db.dialect in ("sqlite", "postgresql")
        self.write_concurrency = self.db.pool_size
        embedded_root = _default_artifact_root(uri)
        self.default_artifact_root = default_artifact_root or embedded_root
        self.location_policy = location_policy or LocationPolicy.from_settings()
        # Where this database's direct users put artifacts: a server on it may read there.
        self.local_artifact_roots = tuple(
            dict.fromkeys(r for r in (self.default_artifact_root, embedded_root) if is_local(r))
        )
        self._ensure_schema()
        self._ensure_default_experiment()

    # ------------------------------------------------------------------ schema
    def _tables(self, conn: Connection) -> set[str]:
        if self.db.dialect == "sqlite":
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            rows = conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        return {str(r[0]) for r in rows}

    def _revision(self) -> str | None:
        with self.db.read() as conn:
            tables = self._tables(conn)
            if "alembic_version" not in tables:
                if tables & {"experiments", "runs"}:
                    raise InvalidState(
                        f"The database {self._safe_uri()} has tracking tables but no schema "
                        "version; it was not created by mlflowx"
                    )
                return None
            rows = conn.execute("SELECT version_num FROM alembic_version")
        return str(rows[0][0]) if rows else None

    def _safe_uri(self) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(self.uri)
        if parts.password:
            return self.uri.replace(f":{parts.password}@", ":***@")
        return self.uri

    def _ensure_schema(self) -> None:
        revision = self._revision()
        if revision is None:
            from mlflowx.store.sql.schema import migrate

            try:
                if not self._create_from_snapshot():
                    migrate(self.uri)
            except Exception:
                # Another process may have created it at the same moment: check again.
                if self._revision() != HEAD_REVISION:
                    raise
            return
        if revision == HEAD_REVISION:
            return
        if is_mlflow_revision(revision):
            raise mlflow_database_refused(self._safe_uri(), revision)
        if revision in KNOWN_REVISIONS:
            raise SchemaOutOfDate(
                f"The database {self._safe_uri()} is at schema revision {revision!r}; this "
                f"mlflowx needs {HEAD_REVISION!r}. Back it up, then run: "
                f"mlflowx db upgrade {self._safe_uri()}"
            )
        raise InvalidState(
            f"The database {self._safe_uri()} is at schema revision {revision!r}, which this "
            "mlflowx does not know (a newer mlflowx, or an MLflow database?)"
        )

    def _create_from_snapshot(self) -> bool:
        """SQLite only: create the head schema from the generated DDL, without Alembic."""
        if not isinstance(self.db, SqliteDatabase) or self.db.path == ":memory:":
            return False
        from mlflowx.store.sql.schema import create_sqlite_from_snapshot

        raw = self.db.raw_connection()
        return create_sqlite_from_snapshot(raw)

    def _ensure_default_experiment(self) -> None:
        with self.db.read() as conn:
            found = conn.execute("SELECT 1 FROM experiments WHERE experiment_id = 0")
        if found:
            return
        t = now_ms()
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO experiments (experiment_id, name, artifact_location, "
                "lifecycle_stage, creation_time, last_update_time) "
                "VALUES (0, :name, :loc, 'active', :t, :t) ON CONFLICT DO NOTHING",
                {
                    "name": DEFAULT_EXPERIMENT_NAME,
                    "loc": join_uri(self.default_artifact_root, DEFAULT_EXPERIMENT_ID),
                    "t": t,
                },
            )

    def close(self) -> None:
        self.db.close()
