"""Reading metric histories in the SQL tracking store (pages, and the sampled bulk interval): a
mixin of ``SqlTrackingStore``."""

from __future__ import annotations

import itertools
import logging
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, TypeVar

from mlflowx.entities import Metric, PagedList
from mlflowx.store.sql.db import ColumnarReadError, Connection
from mlflowx.store.tracking.base import (
    HISTORY_INTERVAL_MAX_RESULTS,
    check_history_interval,
    sample_indices,
)
from mlflowx.store.tracking.history import (
    HISTORY_COLUMNS,
    HISTORY_ORDER,
    HistoryPosition,
    PackedHistory,
    decode_history_token,
    encode_history_token,
    history_entities,
)
from mlflowx.store.tracking.sql_runs import RunsMixin, stored_float
from mlflowx.store.tracking.step_blocks import STEP_BLOCK_SHIFT, block_range
from mlflowx.utils import validation as v
from mlflowx.utils.gc import gc_paused

__all__ = ["HistoryMixin"]

_log = logging.getLogger(__name__)

_SAMPLE_COLUMNS = "key, value, timestamp, step, is_nan"
_SAMPLE_ORDER = "ORDER BY step, timestamp, value, is_nan"
#: The points of a history within a step range on PostgreSQL as four packed columns (see
#: :class:`PackedHistory`), in one row instead of a row per point. The aggregates read the rows
#: in the same order, which need not be the history's: the reader sorts.
_PACKED_HISTORY = (
    "SELECT string_agg(int8send(timestamp), ''::bytea), string_agg(int8send(step), ''::bytea), "
    "string_agg(float8send(value), ''::bytea), string_agg(boolsend(is_nan), ''::bytea) "
    "FROM metrics WHERE run_uuid = :r AND key = :k AND step >= :lo AND step <= :hi"
)
#: Points per packed piece: large enough that a query's overhead is small, small enough that
#: fetching the next piece overlaps building the entities of the last (and no column nears
#: PostgreSQL's 1 GB limit of a value, unless a single step holds 134M points).
_PIECE_POINTS = 131_072
#: The points of a history within a step range, for a columnar driver (SQLite): along the
#: primary key; :class:`PackedHistory` sorts when that is not MLflow's order.
_RANGE_HISTORY = (
    f"SELECT {HISTORY_COLUMNS} FROM metrics WHERE run_uuid = :r AND key = :k "
    "AND step >= :lo AND step <= :hi ORDER BY step, timestamp, value, is_nan"
)
#: From how many points a whole history on SQLite is read by the columnar driver: opening
#: its connection and converting its tables costs ~1 ms, what ~1,500 rows cost by sqlite3.
_COLUMNAR_MIN_POINTS = 10_000
_MIN_STEP, _MAX_STEP = -(2**63), 2**63 - 1


class HistoryMixin(RunsMixin):
    """``get_metric_history`` and ``get_metric_history_bulk_interval``."""

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        """MLflow's order (timestamp, step, value); pages resume after their last point (see
        :mod:`mlflowx.store.tracking.history`), so no page costs an OFFSET."""
        run_id = v.validate_run_id(run_id)
        position = decode_history_token(page_token)
        limit = None if max_results is None else v.validate_max_results(max_results, 1_000_000)
        whole = limit is None and position == 0
        # A whole history on PostgreSQL comes packed, not row by row (see _packed_history).
        packed = whole and self.db.dialect == "postgresql"
        with gc_paused():
            with self.db.read() as conn:
                if packed:
                    # Its step ranges are read by separate statements: one snapshot for all.
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                self._run_state(conn, run_id)
                if packed:
                    return PagedList(self._packed_history(conn, run_id, metric_key), None)
                if whole and self.db.dialect == "sqlite":
                    columns = self._columnar_history(conn, run_id, metric_key)
                    if columns is not None:
                        return PagedList(columns, None)
                rows = self._history_page(conn, run_id, metric_key, limit, position)
            more = limit is not None and len(rows) > limit
            if more:
                del rows[limit:]
            token = encode_history_token(rows[-1]) if more else None
            points = history_entities(metric_key, run_id, rows)
            # The rows go before the collector is back on: it would walk each of them once.
            del rows
        return PagedList(points, token)

    @staticmethod
    def _packed_history(conn: Connection, run_id: str, key: str) -> list[Metric]:
        """A whole history as :class:`PackedHistory` pieces, one per step range of about
        ``_PIECE_POINTS`` points (from the step blocks' counts): a thread fetches the next
        range while the entities of the last one are built, so PostgreSQL's work and Python's
        overlap (a million points on 2 cores, interleaved: 1.0-1.6 s in one piece, 0.8-1.2 s
        in pieces)."""
        args = {"r": run_id, "k": key}
        ranges = _step_ranges(_Blocks.read(conn, run_id, key, None, None), _PIECE_POINTS)

        def fetch(bounds: tuple[int, int]) -> tuple[Any, ...]:
            lo, hi = bounds
            return conn.execute_plain(_PACKED_HISTORY, args | {"lo": lo, "hi": hi})[0]

        history = PackedHistory(key, run_id)
        for piece in _fetched(fetch, ranges):
            if piece[0] is not None:  # NULL aggregates: no point in the range
                history.add(*piece)
        return history.entities()

    def _columnar_history(self, conn: Connection, run_id: str, key: str) -> list[Metric] | None:
        """A whole history of at least ``_COLUMNAR_MIN_POINTS`` points read as arrays by the
        database's columnar driver (:meth:`Database.columnar`), in step ranges as in
        :meth:`_packed_history` (the driver fills the next range's arrays in C, without the
        GIL, while the last range's entities are built: a million points in ~0.6 s instead
        of ~1.2 s by rows). ``None`` when the history is smaller, the database has no such
        driver, or the driver fails (then the caller reads rows). The ranges are read in one
        snapshot of the driver's own connection."""
        blocks = _Blocks.read(conn, run_id, key, None, None)
        if blocks.total < _COLUMNAR_MIN_POINTS:
            return None
        args = {"r": run_id, "k": key}
        with self.db.columnar() as reader:
            if reader is None:
                return None

            def fetch(bounds: tuple[int, int]) -> list[Any]:
                lo, hi = bounds
                return reader.read(_RANGE_HISTORY, args | {"lo": lo, "hi": hi})

            history = PackedHistory(key, run_id)
            try:
                for columns in _fetched(fetch, _step_ranges(blocks, _PIECE_POINTS)):
                    history.add_columns(*columns)
            except ColumnarReadError as exc:
                _log.warning("Reading the history of %r by rows: %s", key, exc)
                return None
        return history.entities()

    def _history_page(
        self,
        conn: Connection,
        run_id: str,
        key: str,
        limit: int | None,
        position: HistoryPosition | int,
    ) -> list[tuple[Any, ...]]:
        """Up to ``limit + 1`` history rows after ``position`` (a point, or an offset from an
        MLflow token); all of them without a limit."""
        if limit is None or isinstance(position, int):
            rows = self._history_rows(conn, run_id, key)
            start = position if isinstance(position, int) else bisect_right(rows, position)
            if start == 0 and limit is None:
                return rows  # a whole history: no copy of a million rows
            return rows[start : None if limit is None else start + limit + 1]
        return conn.execute_plain(
            f"SELECT {HISTORY_COLUMNS} FROM metrics WHERE run_uuid = :r AND key = :k "
            "AND (timestamp, step, value, is_nan) > (:t, :s, :v, :n) "
            f"{HISTORY_ORDER} LIMIT :limit",
            {"r": run_id, "k": key, "limit": limit + 1} | dict(zip("tsvn", position, strict=True)),
        )

    @staticmethod
    def _history_rows(conn: Connection, run_id: str, key: str) -> list[tuple[Any, ...]]:
        """A whole history in MLflow's order: read along the primary key, then sorted in
        Python, which is cheaper than sorting in SQL (the rows mostly come in order already)."""
        rows = conn.execute_plain(
            f"SELECT {HISTORY_COLUMNS} FROM metrics WHERE run_uuid = :r AND key = :k "
            "ORDER BY step, timestamp, value, is_nan",
            {"r": run_id, "k": key},
        )
        rows.sort()
        return rows

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int = HISTORY_INTERVAL_MAX_RESULTS,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        ids, limit = check_history_interval(run_ids, metric_key, max_results, start_step, end_step)
        points: list[Metric] = []
        with self.db.read() as conn:
            for run_id in ids:
                self._run_state(conn, v.validate_run_id(run_id))
            for run_id in ids:
                points += self._sampled_history(
                    conn, run_id, metric_key, limit, start_step, end_step
                )
        return points

    def _sampled_history(
        self,
        conn: Connection,
        run_id: str,
        key: str,
        buckets: int,
        start_step: int | None,
        end_step: int | None,
    ) -> list[Metric]:
        """The rows :func:`sample_indices` picks, in the primary key's order (run, key, step,
        timestamp, value, is_nan). The range's size and where each picked row lies come from
        the step blocks' counts (:mod:`mlflowx.store.tracking.step_blocks`); each row is then
        read at its offset inside its block, so only the sampled rows leave the database and
        no more than one block is walked per row, or once for all the rows picked in it."""
        blocks = _Blocks.read(conn, run_id, key, start_step, end_step)
        wanted = sample_indices(blocks.total, buckets)
        args: dict[str, Any] = {"r": run_id, "k": key}
        if not wanted:
            rows = []
        elif len(wanted) == blocks.total:
            rows = conn.execute(
                f"SELECT {_SAMPLE_COLUMNS} FROM metrics WHERE run_uuid = :r AND key = :k "
                f"AND step >= :lo AND step <= :hi {_SAMPLE_ORDER}",
                args | {"lo": blocks.span(0)[0], "hi": blocks.span(len(blocks.counts) - 1)[1]},
            )
        else:
            rows = self._picked_rows(conn, args, blocks, wanted)
        return [
            Metric(k, stored_float(value, is_nan), ts, step, run_id)
            for k, value, ts, step, is_nan in rows
        ]

    def _picked_rows(
        self, conn: Connection, args: dict[str, Any], blocks: _Blocks, wanted: Sequence[int]
    ) -> list[tuple[Any, ...]]:
        """The wanted rows, in the primary key's order. A block with many rows and several
        picks (points logged at few steps: ``log_metric`` without a step logs them all at 0)
        is walked once, hopping from pick to pick; any other pick is read at its offset from
        the nearer end of its block."""
        rows: list[tuple[Any, ...]] = []
        picks: list[Pick] = []
        for i, offsets in blocks.by_block(wanted):
            lo, hi = blocks.span(i)
            count = blocks.counts[i]
            if len(offsets) >= _DENSE_PICKS and count > _DENSE_ROWS:
                rows += _pick_hopping(conn, args, lo, hi, offsets)
                continue
            for offset in offsets:
                from_end = count - 1 - offset
                picks.append(
                    (lo, hi, from_end, True) if from_end < offset else (lo, hi, offset, False)
                )
        if picks:
            pick = _pick_sqlite if self.db.dialect == "sqlite" else _pick_sql
            rows += pick(conn, args, picks)
        rows.sort(key=_PRIMARY_KEY_ORDER)
        return rows


#: Where a sampled row lies: the first and last step of its block (narrowed to the range), its
#: offset among the rows with a step between them, counted from the last one when it is nearer
#: to it, and whether it is (so a block is walked half-way at most).
Pick = tuple[int, int, int, bool]


@dataclass(slots=True)
class _Blocks:
    """The non-empty step blocks of a history within a step range: their numbers and how many
    rows of the range each holds, and the range's bounds."""

    numbers: list[int]
    counts: list[int]
    start: int | None
    end: int | None

    @property
    def total(self) -> int:
        return sum(self.counts)

    @classmethod
    def read(
        cls, conn: Connection, run_id: str, key: str, start: int | None, end: int | None
    ) -> _Blocks:
        """The blocks within ``[start, end]`` (the whole history without a range); the rows in
        the range of the blocks its ends cut are counted (at most two blocks walked)."""
        args: dict[str, Any] = {"r": run_id, "k": key}
        sql = "SELECT step_block, points FROM metric_step_blocks WHERE run_uuid = :r AND key = :k"
        if start is not None and end is not None:
            sql += " AND step_block >= :bs AND step_block <= :be"
            args.update(bs=start >> STEP_BLOCK_SHIFT, be=end >> STEP_BLOCK_SHIFT)
        rows = conn.execute_plain(sql + " ORDER BY step_block", args)
        blocks = cls([row[0] for row in rows], [int(row[1]) for row in rows], start, end)
        if start is not None and end is not None and rows:
            count = (
                "SELECT COUNT(*) FROM metrics WHERE run_uuid = :r AND key = :k "
                "AND step >= :lo AND step <= :hi"
            )
            for i in {0, len(rows) - 1}:
                lo, hi = blocks.span(i)
                if (lo, hi) != block_range(blocks.numbers[i]):
                    blocks.counts[i] = int(conn.execute(count, args | {"lo": lo, "hi": hi})[0][0])
        return blocks

    def span(self, i: int) -> tuple[int, int]:
        """The first and last step of block ``i`` within the range."""
        lo, hi = block_range(self.numbers[i])
        if self.start is not None and self.end is not None:
            return max(lo, self.start), min(hi, self.end)
        return lo, hi

    def by_block(self, wanted: Sequence[int]) -> list[tuple[int, list[int]]]:
        """The wanted indices (of the range's rows, in the primary key's order) by block: each
        block's number in this list, and the offsets of its wanted rows among its rows."""
        ends = list(itertools.accumulate(self.counts))
        groups: dict[int, list[int]] = {}
        for index in wanted:
            i = bisect_right(ends, index)
            groups.setdefault(i, []).append(index - (ends[i] - self.counts[i]))
        return list(groups.items())


#: A block is walked once, hopping from pick to pick, when it holds more rows than this and at
#: least this many picks (one walk of its rows beats that many walks of up to half of them each).
_DENSE_ROWS = 1_024
_DENSE_PICKS = 4
#: The order of sampled rows ``(key, value, timestamp, step, is_nan)`` in the primary key.
_PRIMARY_KEY_ORDER = itemgetter(3, 2, 1, 4)


def _pick_hopping(
    conn: Connection, args: dict[str, Any], lo: int, hi: int, offsets: Sequence[int]
) -> list[tuple[Any, ...]]:
    """The rows at ``offsets`` (from the first, ascending) among those with a step in
    ``[lo, hi]``, each found by skipping the rows between it and the last one found along the
    primary key: one walk of the span, in C, however many picks it holds (a million points at
    one step: 0.14 s, where numbering them with ``row_number()`` took 1.2 s)."""
    span = args | {"lo": lo, "hi": hi}
    gaps = [b - a - 1 for a, b in itertools.pairwise(offsets)]
    if conn.dialect == "postgresql":
        return conn.execute(_HOP_SQL, span | {"first": offsets[0], "gaps": gaps})
    rows = conn.execute(_HOP_FIRST, span | {"o": offsets[0]})
    for gap in gaps:
        if not rows:
            break
        _, value, ts, step, is_nan = rows[-1]
        rows += conn.execute(
            _HOP_NEXT, span | {"s": step, "t": ts, "v": value, "n": is_nan, "o": gap}
        )
    return rows


_BACKWARD_ORDER = "ORDER BY step DESC, timestamp DESC, value DESC, is_nan DESC"
_HOP = f"SELECT {_SAMPLE_COLUMNS} FROM metrics WHERE run_uuid = :r AND key = :k AND step <= :hi "
_HOP_FIRST = f"{_HOP}AND step >= :lo {_SAMPLE_ORDER} LIMIT 1 OFFSET :o"
_HOP_NEXT = (
    f"{_HOP}AND (step, timestamp, value, is_nan) > (:s, :t, :v, :n) {_SAMPLE_ORDER} "
    "LIMIT 1 OFFSET :o"
)
#: :func:`_pick_hopping` in one statement and round trip (PostgreSQL): a recursive query whose
#: every step skips ``gaps[j]`` rows past the row the last one found.
_HOP_SQL = (
    "WITH RECURSIVE hop(j, key, value, timestamp, step, is_nan) AS ("
    f"(SELECT 1, {_SAMPLE_COLUMNS} FROM metrics WHERE run_uuid = :r AND key = :k "
    f"AND step >= :lo AND step <= :hi {_SAMPLE_ORDER} LIMIT 1 OFFSET :first) "
    "UNION ALL SELECT hop.j + 1, n.key, n.value, n.timestamp, n.step, n.is_nan FROM hop "
    f"CROSS JOIN LATERAL (SELECT {_SAMPLE_COLUMNS} FROM metrics WHERE run_uuid = :r "
    "AND key = :k AND step <= :hi AND (step, timestamp, value, is_nan) > "
    f"(hop.step, hop.timestamp, hop.value, hop.is_nan) {_SAMPLE_ORDER} LIMIT 1 "
    "OFFSET (CAST(:gaps AS BIGINT[]))[hop.j]) n "
    "WHERE hop.j <= cardinality(CAST(:gaps AS BIGINT[]))) "
    f"SELECT {_SAMPLE_COLUMNS} FROM hop ORDER BY j"
)
_PICK = (
    f"SELECT {_SAMPLE_COLUMNS} FROM metrics WHERE run_uuid = :r AND key = :k "
    "AND step >= :lo AND step <= :hi {order} LIMIT 1 OFFSET :o"
)
_PICK_FORWARD = _PICK.format(order=_SAMPLE_ORDER)
_PICK_BACKWARD = _PICK.format(order=_BACKWARD_ORDER)


def _pick_sqlite(
    conn: Connection, args: dict[str, Any], picks: Sequence[Pick]
) -> list[tuple[Any, ...]]:
    """The row at each offset of its step span, one query each (SQLite runs in process: a
    query costs microseconds, and each walks at most one block of the primary key)."""
    rows: list[tuple[Any, ...]] = []
    for lo, hi, offset, backward in picks:
        sql = _PICK_BACKWARD if backward else _PICK_FORWARD
        rows += conn.execute(sql, {**args, "lo": lo, "hi": hi, "o": offset})
    return rows


def _pick_sql(
    conn: Connection, args: dict[str, Any], picks: Sequence[Pick]
) -> list[tuple[Any, ...]]:
    """:func:`_pick_sqlite` in one statement and round trip (PostgreSQL): the picks as arrays,
    each row read by a lateral subquery of which only the branch of its direction runs."""
    los, his, offsets, backward = (list(column) for column in zip(*picks, strict=True))
    span = (
        f"SELECT {_SAMPLE_COLUMNS} FROM metrics WHERE run_uuid = :r AND key = :k "
        "AND step >= w.lo AND step <= w.hi"
    )
    sql = (
        f"SELECT m.key, m.value, m.timestamp, m.step, m.is_nan FROM unnest("
        "CAST(:los AS BIGINT[]), CAST(:his AS BIGINT[]), CAST(:offsets AS BIGINT[]), "
        "CAST(:backward AS BOOLEAN[])) WITH ORDINALITY AS w(lo, hi, o, b, i) CROSS JOIN LATERAL ("
        f"({span} AND NOT w.b {_SAMPLE_ORDER} LIMIT 1 OFFSET w.o) UNION ALL "
        f"({span} AND w.b {_BACKWARD_ORDER} LIMIT 1 OFFSET w.o)) m ORDER BY w.i"
    )
    args = {**args, "los": los, "his": his, "offsets": offsets, "backward": backward}
    return conn.execute(sql, args)


def _step_ranges(blocks: _Blocks, points: int) -> list[tuple[int, int]]:
    """Consecutive step ranges covering every int64 step, cut at block bounds so that each
    holds about ``points`` points by the blocks' counts (at least ``points``, except the last;
    one range for a history of fewer than twice that). The counts only balance the ranges:
    whatever they say, every step is in exactly one range."""
    ranges, lo, held = [], _MIN_STEP, 0
    total = blocks.total
    for number, count in zip(blocks.numbers, blocks.counts, strict=True):
        held += count
        total -= count
        if held >= points and total >= points:
            hi = block_range(number)[1]
            ranges.append((lo, hi))
            lo, held = hi + 1, 0
    ranges.append((lo, _MAX_STEP))
    return ranges


_In = TypeVar("_In")
_Out = TypeVar("_Out")


def _fetched(fetch: Callable[[_In], _Out], items: Sequence[_In]) -> Iterator[_Out]:
    """``fetch`` of each item, in order: :func:`_prefetching` when there are several, in
    this thread when there is one."""
    if len(items) == 1:
        yield fetch(items[0])
    else:
        yield from _prefetching(fetch, items)


def _prefetching(fetch: Callable[[_In], _Out], items: Sequence[_In]) -> Iterator[_Out]:
    """``fetch`` of each item, in order, the next one running on a thread while the caller
    works on the last. ``fetch`` runs on one thread at a time, so it may use a connection the
    caller does not touch meanwhile."""
    with ThreadPoolExecutor(1, thread_name_prefix="mlflowx-prefetch") as thread:
        pending = thread.submit(fetch, items[0])
        for item in items[1:]:
            done = pending.result()
            pending = thread.submit(fetch, item)
            yield done
        yield pending.result()
