"""A whole metric history on PostgreSQL, read packed in step-range pieces while the entities of
the last piece are built (``HistoryMixin._packed_history``): the same points in the same order
as the row-by-row reader, whatever the pieces, from one snapshot."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

import pytest

from mlflowx.entities import Metric
from mlflowx.store.sql import db as db_module
from mlflowx.store.tracking import sql_history
from mlflowx.store.tracking.history import PackedHistory
from mlflowx.store.tracking.sql import SqlTrackingStore
from mlflowx.store.tracking.sql_history import _Blocks, _step_ranges
from mlflowx.store.tracking.step_blocks import STEP_BLOCK_SHIFT, block_range
from tests.fixtures.stores import _truncate

Point = tuple[int, int, float]


@pytest.fixture
def pg(postgres_uri: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SqlTrackingStore]:
    _truncate(postgres_uri)
    monkeypatch.setattr(sql_history, "_PIECE_POINTS", 100)  # many pieces from small histories
    store = SqlTrackingStore(postgres_uri)
    yield store
    store.close()


def _log(store: SqlTrackingStore, points: list[Point]) -> str:
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    metrics = [Metric("loss", v, ts, step) for ts, step, v in points]
    random.Random(3).shuffle(metrics)
    for i in range(0, len(metrics), 1000):
        store.log_batch(run_id, metrics=metrics[i : i + 1000])
    return run_id


def _as_rows(metrics: list[Metric]) -> list[tuple[int, int, str]]:
    return [(m.timestamp, m.step, repr(m.value)) for m in metrics]


def _paged(store: SqlTrackingStore, run_id: str) -> list[Metric]:
    """The row-by-row reader: pages (keyset), which never take the packed path."""
    points: list[Metric] = []
    token = None
    while True:
        page = store.get_metric_history(run_id, "loss", 333, token)
        points += page
        if not (token := page.token):
            return points


def _histories() -> dict[str, list[Point]]:
    rng = random.Random(8)
    growing = [(1_000 + s, s, rng.choice([0.5, float("nan"), -1.0])) for s in range(2_000)]
    # A piece whose first point sorts before the last one's: timestamps against the steps.
    backwards = [(10_000 - s, s, 1.0) for s in range(1_500)]
    # One late piece out of order, the others in it.
    late = [(1_000 + s, s, 2.0) for s in range(1_500)] + [(5, 1_800 + i, 3.0) for i in range(50)]
    sparse = [
        (7, step, float(i))
        for i, step in enumerate(
            [-(2**63), -(2**40), -1, 0, 1, 300, 70_000, 2**40, 2**62, 2**63 - 1]
            + [5_000 * k for k in range(1, 400)]
        )
    ]
    same_step = [(1_000 + i % 97, 3, float(i)) for i in range(700)]  # one block, many points
    return {
        "growing": growing,
        "backwards": backwards,
        "late": late,
        "sparse": sparse,
        "same_step": same_step,
    }


@pytest.mark.parametrize("shape", list(_histories()))
def test_pieces_give_the_row_by_row_history(pg: SqlTrackingStore, shape: str) -> None:
    run_id = _log(pg, _histories()[shape])
    with pg.db.read() as conn:
        ranges = _step_ranges(_Blocks.read(conn, run_id, "loss", None, None), 100)
    if shape != "same_step":
        assert len(ranges) > 3, ranges  # the thread and the pieces were really used
    whole = pg.get_metric_history(run_id, "loss")
    assert whole.token is None
    assert _as_rows(whole) == _as_rows(_paged(pg, run_id))
    assert len(whole) == len(_histories()[shape])


def test_an_empty_history_and_an_unknown_key(pg: SqlTrackingStore) -> None:
    run_id = pg.create_run("0", "u", 1, [], None).info.run_id
    assert pg.get_metric_history(run_id, "loss") == []
    _log(pg, [(1, 1, 1.0)])
    assert pg.get_metric_history(run_id, "other") == []


def test_a_point_logged_between_pieces_is_not_half_seen(
    pg: SqlTrackingStore, postgres_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pieces are separate statements of one REPEATABLE READ transaction: a point committed
    while they are read is in none of them, even one in a piece not yet read."""
    run_id = _log(pg, [(1_000 + s, s, 1.0) for s in range(1_000)])
    writer = SqlTrackingStore(postgres_uri)
    added = PackedHistory.add
    pieces = []

    def add_then_write(self: PackedHistory, *columns: bytes) -> None:
        added(self, *columns)
        pieces.append(1)
        if len(pieces) == 1:
            writer.log_batch(run_id, metrics=[Metric("loss", 9.0, 5_000, 999_999)])

    monkeypatch.setattr(PackedHistory, "add", add_then_write)
    first = pg.get_metric_history(run_id, "loss")
    assert len(pieces) > 3
    assert len(first) == 1_000
    assert len(pg.get_metric_history(run_id, "loss")) == 1_001  # a new read sees it
    writer.close()


def test_a_pinged_connection_still_takes_one_snapshot(
    pg: SqlTrackingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooled connection idle for long is pinged on checkout (in autocommit, so no
    transaction is open before the read's ``SET TRANSACTION``)."""
    run_id = _log(pg, [(1_000 + s, s, 1.0) for s in range(500)])
    monkeypatch.setattr(db_module, "PING_IF_IDLE_S", -1.0)
    for _ in range(3):
        assert len(pg.get_metric_history(run_id, "loss")) == 500


def test_step_ranges_cover_every_step_once() -> None:
    numbers, counts = [-5, 0, 1, 2, 9, 40], [100, 30, 80, 10, 250, 5]
    ranges = _step_ranges(_Blocks(numbers, counts, None, None), 100)
    assert ranges[0][0] == -(2**63)
    assert ranges[-1][1] == 2**63 - 1
    assert all(hi + 1 == lo for (_, hi), (lo, _) in itertools.pairwise(ranges))
    # Cut at block bounds, each piece holding at least 100 points by the counts.
    assert all(block_range(hi >> STEP_BLOCK_SHIFT)[1] == hi for _, hi in ranges[:-1])
    held = [
        sum(c for n, c in zip(numbers, counts, strict=True) if lo <= block_range(n)[0] <= hi)
        for lo, hi in ranges
    ]
    assert held == [100, 110, 265]  # the last piece takes a remainder under 100
    everything = [(-(2**63), 2**63 - 1)]
    assert _step_ranges(_Blocks([3], [150], None, None), 100) == everything
    assert _step_ranges(_Blocks([], [], None, None), 100) == everything
