"""SQLite runs a one-row ``INSERT ... VALUES (:a, ...)`` given many rows as multi-row INSERTs
(``_SqliteConnection.executemany_rows``): the same rows, conflicts and upserts as executemany,
the same count of changed rows, and any other statement row by row."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from mlflowx.store.sql.db import SqliteDatabase, _multi_row_plan, numbered

_TABLE = "CREATE TABLE t (k TEXT NOT NULL, n INTEGER NOT NULL, v REAL, PRIMARY KEY (k, n))"
_IGNORE = "INSERT INTO t (k, n, v) VALUES (:k, :n, :v) ON CONFLICT DO NOTHING"
# An upsert whose outcome depends on the rows before it in the same batch.
_KEEP_GREATEST = (
    "INSERT INTO t (k, n, v) VALUES (:k, :n, :v) ON CONFLICT (k, n) DO UPDATE SET "
    "v = excluded.v WHERE excluded.v > t.v"
)
_ADD = (
    "INSERT INTO t (k, n, v) VALUES (:k, :n, :v) ON CONFLICT (k, n) DO UPDATE SET "
    "v = t.v + excluded.v"
)


def _rows(seed: int, n: int) -> list[tuple[str, int, float]]:
    rng = random.Random(seed)
    return [(rng.choice("abc"), rng.randrange(40), rng.uniform(-5, 5)) for _ in range(n)]


def _one_by_one(sql: str, batches: list[list[tuple[str, int, float]]]) -> tuple[list, list[int]]:
    conn = sqlite3.connect(":memory:")
    conn.execute(_TABLE)
    changed = [conn.executemany(numbered(sql), batch).rowcount for batch in batches]
    return conn.execute("SELECT * FROM t ORDER BY k, n").fetchall(), changed


@pytest.mark.parametrize("sql", [_IGNORE, _KEEP_GREATEST, _ADD])
@pytest.mark.parametrize("size", [2, 7, 199, 200, 201, 1000, 2500])
def test_same_rows_and_counts_as_row_by_row(tmp_path: Path, sql: str, size: int) -> None:
    batches = [_rows(size + i, size) for i in range(3)]  # repeated keys within and across
    db = SqliteDatabase(f"sqlite:///{tmp_path / 'm.db'}")
    with db.write() as conn:
        conn.execute(_TABLE)
    changed = []
    for batch in batches:
        with db.write() as conn:
            changed.append(conn.executemany_rows(sql, batch))
    with db.read() as conn:
        got = conn.execute("SELECT * FROM t ORDER BY k, n")
    want, want_changed = _one_by_one(sql, batches)
    assert got == want
    assert changed == want_changed
    db.close()


def test_a_failing_row_rolls_back_the_whole_batch(tmp_path: Path) -> None:
    """A row refused in the last statement of a batch leaves none of the batch stored."""
    db = SqliteDatabase(f"sqlite:///{tmp_path / 'm.db'}")
    with db.write() as conn:
        conn.execute("CREATE TABLE s (k TEXT, n INTEGER, v REAL NOT NULL)")
    rows = [("a", i, 1.0) for i in range(500)] + [("a", 500, None)]
    with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"), db.write() as conn:
        conn.executemany_rows("INSERT INTO s (k, n, v) VALUES (:k, :n, :v)", rows)
    with db.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM s") == [(0,)]
    db.close()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE t SET v = :v WHERE k = :k",  # not an INSERT
        "INSERT INTO t (k, n, v) VALUES (:k, :n, 1) ",  # a literal in the group
        "INSERT INTO t (k, n, v) VALUES (:k, :k, :v)",  # a parameter twice
        "INSERT INTO t (k, n, v) VALUES (:k, :n, :v) ON CONFLICT (k, n) DO UPDATE SET v = :w",
        "INSERT INTO t (k, n, v) SELECT :k, :n, :v",
    ],
)
def test_other_statements_run_row_by_row(sql: str) -> None:
    assert _multi_row_plan(sql) is None


def test_a_one_row_insert_has_a_plan() -> None:
    assert _multi_row_plan(_KEEP_GREATEST) == (
        "INSERT INTO t (k, n, v) VALUES ",
        3,
        _KEEP_GREATEST.split("(:k, :n, :v)")[1],
    )
