"""Whole metric histories on SQLite read as Arrow columns (ADBC, the ``arrow`` extra): the same
points in the same order as the row-by-row reader and the Python reference, however the history
is cut into step ranges, and the rows again whenever the columnar driver is missing or fails."""

from __future__ import annotations

import itertools
import logging
import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlflowx.entities import Metric
from mlflowx.store.sql import db as sql_db
from mlflowx.store.tracking import sql_history
from mlflowx.store.tracking.sql import SqlTrackingStore
from tests.fixtures.env import need
from tests.store.test_metric_history import _history, _log, _points, _same, reference_history


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlTrackingStore]:
    need(sql_db._adbc_sqlite() is not None, "columnar reads need the arrow extra (ADBC, pyarrow)")
    sql = SqlTrackingStore(f"sqlite:///{tmp_path / 'h.db'}", str(tmp_path / "artifacts"))
    yield sql
    sql.close()


@pytest.fixture
def columnar_reads(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The ranges the columnar driver reads (its statements' parameters), recorded."""
    reads: list[dict[str, Any]] = []
    read = sql_db._AdbcSqliteReader.read

    def recording(self: Any, sql: str, params: Any) -> list[Any]:
        reads.append(dict(params))
        return read(self, sql, params)

    monkeypatch.setattr(sql_db._AdbcSqliteReader, "read", recording)
    return reads


def _small_ranges(monkeypatch: pytest.MonkeyPatch, points: int) -> None:
    """Every history read by columns, in ranges of about ``points`` points."""
    monkeypatch.setattr(sql_history, "_COLUMNAR_MIN_POINTS", 0)
    monkeypatch.setattr(sql_history, "_PIECE_POINTS", points)


@pytest.mark.parametrize(("n", "piece"), [(1, 1), (7, 2), (900, 1), (2500, 300), (2500, 10_000)])
def test_the_columns_give_the_reference_history(
    store: SqlTrackingStore,
    columnar_reads: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    n: int,
    piece: int,
) -> None:
    """Timestamps that go back and forth against the steps (the ranges' pieces then come out
    of MLflow's order and are sorted together), repeated steps, NaN, infinities."""
    points = _history(random.Random(n), n)
    run_id = _log(store, points)
    _small_ranges(monkeypatch, piece)
    got = store.get_metric_history(run_id, "loss")
    assert columnar_reads, "the columnar driver was not used"
    assert _same(got, reference_history(points))
    assert {(m.key, m.run_id) for m in got} == {("loss", run_id)}
    assert all(type(m.value) is float and type(m.step) is int for m in got)
    # The same as the row-by-row reader.
    monkeypatch.setattr(sql_history, "_COLUMNAR_MIN_POINTS", math.inf)
    assert _points(got) == _points(store.get_metric_history(run_id, "loss"))


def test_ranges_in_order_cover_every_step_once(
    store: SqlTrackingStore, columnar_reads: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Steps at both ends of int64 and across many step blocks, read in several ranges."""
    big, small = 2**63 - 1, -(2**63)
    points = [(1_000 + i, i * 300, float(i)) for i in range(400)]
    points += [(0, big, 1.5), (0, small, 2.5), (big, 0, 3.5), (5, -1, float("nan"))]
    run_id = _log(store, points)
    _small_ranges(monkeypatch, 50)
    got = store.get_metric_history(run_id, "loss")
    assert _same(got, reference_history(points))
    assert len(columnar_reads) > 3
    bounds = [(read["lo"], read["hi"]) for read in columnar_reads]
    assert bounds[0][0] == small
    assert bounds[-1][1] == big
    assert all(hi + 1 == lo for (_, hi), (lo, _) in itertools.pairwise(bounds))


def test_a_large_history_is_read_by_columns_and_a_small_one_by_rows(
    store: SqlTrackingStore, columnar_reads: list[dict[str, Any]]
) -> None:
    small = [(1_000 + i, i, float(i)) for i in range(50)]
    large = [(2_000 + i // 3, i, math.sin(i)) for i in range(sql_history._COLUMNAR_MIN_POINTS)]
    small_run, large_run = _log(store, small), _log(store, large)
    assert _same(store.get_metric_history(small_run, "loss"), small)
    assert not columnar_reads
    assert _same(store.get_metric_history(large_run, "loss"), reference_history(large))
    assert columnar_reads
    # A page, even of the whole history, is read by rows.
    columnar_reads.clear()
    page = store.get_metric_history(large_run, "loss", len(large))
    assert _same(page, reference_history(large))
    assert page.token is None
    assert not columnar_reads


def test_without_the_driver_the_rows_are_read(
    store: SqlTrackingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    points = _history(random.Random(3), 600)
    run_id = _log(store, points)
    _small_ranges(monkeypatch, 100)
    monkeypatch.setattr(sql_db, "_adbc_sqlite", lambda: None)
    with store.db.columnar() as reader:
        assert reader is None
    assert _same(store.get_metric_history(run_id, "loss"), reference_history(points))


def test_a_failing_driver_falls_back_to_the_rows(
    store: SqlTrackingStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The driver fails on the third range: the whole history is read again by rows, and the
    failure is logged."""
    points = [(1_000 + i, i * 300, float("nan") if i % 7 == 0 else float(i)) for i in range(600)]
    run_id = _log(store, points)
    _small_ranges(monkeypatch, 100)
    read = sql_db._AdbcSqliteReader.read
    calls: list[int] = []

    def failing(self: Any, sql: str, params: Any) -> list[Any]:
        calls.append(1)
        if len(calls) == 3:
            raise sql_db.ColumnarReadError("disk I/O error")
        return read(self, sql, params)

    monkeypatch.setattr(sql_db._AdbcSqliteReader, "read", failing)
    with caplog.at_level(logging.WARNING, logger=sql_history.__name__):
        got = store.get_metric_history(run_id, "loss")
    assert _same(got, reference_history(points))
    assert len(calls) >= 3
    assert "disk I/O error" in caplog.text


def test_the_reads_of_one_reader_share_a_snapshot(store: SqlTrackingStore) -> None:
    """A history's ranges are read as of one moment: points logged between two reads of the
    same reader are not seen by the second."""
    run_id = _log(store, [(1_000, 0, 1.0)])
    sql = "SELECT step FROM metrics WHERE run_uuid = :r AND key = :k"
    with store.db.columnar() as reader:
        assert reader is not None
        (before,) = reader.read(sql, {"r": run_id, "k": "loss"})
        store.log_batch(run_id, metrics=[Metric("loss", 2.0, 1_001, 1)])
        (after,) = reader.read(sql, {"r": run_id, "k": "loss"})
    assert before.tolist() == after.tolist() == [0]
    assert len(store.get_metric_history(run_id, "loss")) == 2


def test_a_driver_error_becomes_a_columnar_read_error(store: SqlTrackingStore) -> None:
    with store.db.columnar() as reader:
        assert reader is not None
        with pytest.raises(sql_db.ColumnarReadError, match="no such table"):
            reader.read("SELECT x FROM missing_table WHERE a = :a", {"a": 1})


def test_an_in_memory_database_has_no_columnar_reader() -> None:
    memory = sql_db.SqliteDatabase("sqlite://")
    try:
        with memory.columnar() as reader:
            assert reader is None
    finally:
        memory.close()
