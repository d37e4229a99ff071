"""The PostgreSQL connection pool: its size, idle-only pings, autocommit statements, and the
server's limit on concurrent threaded writes that follows the pool."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mlflowx.entities import Metric
from mlflowx.exceptions import InvalidParameter
from mlflowx.store.sql import db as db_module
from mlflowx.store.sql.db import SqlAlchemyDatabase, SqliteDatabase, pool_size_from_env
from mlflowx.store.tracking.sql import SqlTrackingStore
from tests.fixtures.stores import _truncate


def test_pool_size_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOWX_SQL_POOL_SIZE", raising=False)
    assert pool_size_from_env() == db_module.DEFAULT_POOL_SIZE
    monkeypatch.setenv("MLFLOWX_SQL_POOL_SIZE", "3")
    assert pool_size_from_env() == 3
    for bad in ("0", "-2", "many"):
        monkeypatch.setenv("MLFLOWX_SQL_POOL_SIZE", bad)
        with pytest.raises(InvalidParameter, match="MLFLOWX_SQL_POOL_SIZE must be a positive"):
            pool_size_from_env()


def test_sqlite_autocommit_needs_no_transaction(tmp_path: Path) -> None:
    db = SqliteDatabase(f"sqlite:///{tmp_path / 'a.db'}")
    with db.autocommit() as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
        conn.execute("INSERT INTO t VALUES (1)")
    other = SqliteDatabase(f"sqlite:///{tmp_path / 'a.db'}")
    with other.read() as conn:
        assert conn.execute("SELECT x FROM t") == [(1,)]
    assert db.pool_size == 0
    db.close()
    other.close()


@pytest.fixture
def pg(postgres_uri: str) -> Iterator[SqlAlchemyDatabase]:
    _truncate(postgres_uri)
    db = SqlAlchemyDatabase(postgres_uri, pool_size=3)
    yield db
    db.close()


def _terminate_others(db: SqlAlchemyDatabase) -> int:
    """Kill every other session on this database (a restarted server, as the pool sees it)."""
    with db.engine.connect() as conn:
        from sqlalchemy import text

        rows = conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).fetchall()
        conn.rollback()
    return len(rows)


def test_pool_is_sized_and_pings_only_idle_connections(
    pg: SqlAlchemyDatabase, postgres_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert pg.pool_size == 3
    assert pg.engine.pool.size() == 3
    with pg.read() as conn:
        backend = conn.execute("SELECT pg_backend_pid()")[0][0]
    killer = SqlAlchemyDatabase(postgres_uri, pool_size=1)
    try:
        assert _terminate_others(killer) >= 1
        # Used a moment ago: no ping, so the dead connection is handed out and fails once.
        with pytest.raises(Exception, match=r"terminat|closed|connection"), pg.read() as conn:
            conn.execute("SELECT 1")
        with pg.read() as conn:  # the pool was invalidated by that failure: a new connection
            assert conn.execute("SELECT pg_backend_pid()")[0][0] != backend
        _terminate_others(killer)
        # Idle for longer than the threshold: pinged on checkout and replaced, no error.
        monkeypatch.setattr(db_module, "PING_IF_IDLE_S", 0.0)
        with pg.read() as conn:
            assert conn.execute("SELECT 1") == [(1,)]
    finally:
        killer.close()


def test_pg_autocommit_commits_each_statement(pg: SqlAlchemyDatabase, postgres_uri: str) -> None:
    with pg.autocommit() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS pool_probe (x INTEGER)")
        conn.execute("DELETE FROM pool_probe")
        conn.execute("INSERT INTO pool_probe VALUES (7)")
        other = SqlAlchemyDatabase(postgres_uri, pool_size=1)
        try:  # visible elsewhere before this block ends: nothing waits for a COMMIT
            with other.read() as seen:
                assert seen.execute("SELECT x FROM pool_probe") == [(7,)]
        finally:
            other.close()
        conn.execute("DROP TABLE pool_probe")


def test_log_metric_one_statement_on_postgres(postgres_uri: str, tmp_path: Path) -> None:
    """The one-statement path keeps log_metric's rules: latest = greatest (step, ts, value),
    retries add nothing, and a run that is not active gets nothing and the precise error."""
    _truncate(postgres_uri)
    store = SqlTrackingStore(postgres_uri, default_artifact_root=str(tmp_path))
    try:
        eid = store.create_experiment("one-statement")
        run_id = store.create_run(eid, "u", 0, [], "r").info.run_id
        for m in (Metric("m", 3.0, 10, 5), Metric("m", 9.0, 5, 1), Metric("m", 3.0, 10, 5)):
            store.log_metric(run_id, m)
        assert [(x.value, x.step) for x in store.get_metric_history(run_id, "m")] == [
            (9.0, 1),
            (3.0, 5),
        ]
        assert store.get_run(run_id).data.metrics == {"m": 3.0}
        store.delete_run(run_id)
        with pytest.raises(InvalidParameter, match="must be in the 'active' state"):
            store.log_metric(run_id, Metric("m", 1.0, 99, 99))
        store.restore_run(run_id)
        assert len(store.get_metric_history(run_id, "m")) == 2
    finally:
        store.close()


def test_server_limits_threaded_writes_to_the_pool(
    postgres_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More concurrent clients than pooled connections: every write succeeds and the pool
    never overflows (the rest wait on the event loop)."""
    from fastapi.testclient import TestClient

    from mlflowx.server import create_app

    _truncate(postgres_uri)
    monkeypatch.setenv("MLFLOWX_SQL_POOL_SIZE", "2")
    store = SqlTrackingStore(postgres_uri, default_artifact_root=str(tmp_path))
    sqlite = SqlTrackingStore(f"sqlite:///{tmp_path / 'x.db'}", default_artifact_root=str(tmp_path))
    try:
        assert create_app(sqlite).state.write_limiter is None  # inline writes
        app = create_app(store)
        assert app.state.write_limiter.total_tokens == 2
        run_id = store.create_run(store.create_experiment("w"), "u", 0, [], "r").info.run_id
        pool = store.db.engine.pool
        most = [0]

        def log(step: int) -> int:
            most[0] = max(most[0], pool.checkedout())
            body = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1, "step": step}
            status: int = http.post("/api/2.0/mlflow/runs/log-metric", json=body).status_code
            return status

        with TestClient(app) as http, ThreadPoolExecutor(12) as ex:
            statuses = list(ex.map(log, range(120)))
        assert statuses == [200] * 120
        assert len(store.get_metric_history(run_id, "m")) == 120
        assert pool.overflow() <= 0
        assert most[0] <= 2
    finally:
        store.close()
        sqlite.close()
