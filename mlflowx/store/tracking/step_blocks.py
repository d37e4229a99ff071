"""Counts of metric points per block of steps (``metric_step_blocks``): what lets the downsampled
history (``get_metric_history_bulk_interval``) find the row at any position of a range without
walking the rows before it.

A (run, key)'s points with ``step >> STEP_BLOCK_SHIFT == b`` are counted in its row ``b``. Every
write of ``metrics`` adds exactly the points it really inserted (a point already stored, the
same primary key, is ignored by the insert and not counted) in the same transaction, and a run's
purge deletes its rows. Blocks follow the primary key's order (step first), so the position of a
point is the sum of the blocks before it plus its offset inside its own block, which is at most
``2**STEP_BLOCK_SHIFT`` steps long.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from typing import Any

from mlflowx.store.sql.db import Connection

__all__ = [
    "STEP_BLOCK_SHIFT",
    "add_block_counts",
    "block_range",
    "count_inserted",
    "recount_blocks",
]

#: Steps per block: ``2**8``. Smaller blocks make the walk inside one block shorter; larger ones
#: make fewer summary rows per batch when steps are sparse. Migration 0009 backfills with it.
STEP_BLOCK_SHIFT = 8
_LOW = (1 << STEP_BLOCK_SHIFT) - 1

_ADD = (
    "INSERT INTO metric_step_blocks (run_uuid, key, step_block, points) "
    "VALUES (:run_uuid, :key, :block, :points) ON CONFLICT (run_uuid, key, step_block) "
    "DO UPDATE SET points = metric_step_blocks.points + excluded.points"
)
_RECOUNT = (
    "INSERT INTO metric_step_blocks (run_uuid, key, step_block, points) "
    "SELECT run_uuid, key, :block, COUNT(*) FROM metrics WHERE run_uuid = :run_uuid "
    "AND key = :key AND step >= :lo AND step <= :hi GROUP BY run_uuid, key "
    "ON CONFLICT (run_uuid, key, step_block) DO UPDATE SET points = excluded.points"
)
#: PostgreSQL: the points an insert really made (``RETURNING`` names only those), counted per
#: block in the same statement. Blocks are upserted in key order, so concurrent batches of one
#: run lock them in the same order.
COUNT_INSERTED_SQL = (
    "INSERT INTO metric_step_blocks (run_uuid, key, step_block, points) "
    f"SELECT :run_uuid, key, step >> {STEP_BLOCK_SHIFT}, COUNT(*) FROM inserted "
    f"GROUP BY key, step >> {STEP_BLOCK_SHIFT} ORDER BY 2, 3 "
    "ON CONFLICT (run_uuid, key, step_block) "
    "DO UPDATE SET points = metric_step_blocks.points + excluded.points"
)
#: PostgreSQL, one point: add it to its block when the insert ``inserted`` returned a row.
COUNT_ONE_INSERTED_SQL = (
    "INSERT INTO metric_step_blocks (run_uuid, key, step_block, points) "
    "SELECT run_uuid, :key, :block, 1 FROM inserted ON CONFLICT (run_uuid, key, step_block) "
    "DO UPDATE SET points = metric_step_blocks.points + 1"
)


def block_range(block: int) -> tuple[int, int]:
    """The first and last step of ``block`` (both inside the 64-bit range)."""
    return block << STEP_BLOCK_SHIFT, (block << STEP_BLOCK_SHIFT) | _LOW


def add_block_counts(conn: Connection, run_id: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Count metric rows ``(run_uuid, key, value, timestamp, step, is_nan)`` of ``run_id``, all
    of them newly inserted into ``metrics``."""
    if rows:
        conn.executemany_rows(_ADD, [(run_id, *count) for count in _block_counts(rows)])


def _block_counts(rows: Sequence[tuple[Any, ...]]) -> list[tuple[str, int, int]]:
    """``(key, block, points)`` of metric rows, by key and block. A batch of one key in step
    order (a training loop's) is cut at its blocks' bounds by bisection, without a Python step
    per row."""
    key = rows[0][1]
    steps = [row[4] for row in rows]
    ordered = sorted(steps)
    if steps == ordered and all(row[1] == key for row in rows):
        counts = []
        first, last = steps[0] >> STEP_BLOCK_SHIFT, steps[-1] >> STEP_BLOCK_SHIFT
        if last - first < len(steps):
            start = 0
            for block in range(first, last + 1):
                end = bisect_right(steps, block_range(block)[1], start)
                if end > start:
                    counts.append((key, block, end - start))
                start = end
            return counts
    shift = STEP_BLOCK_SHIFT
    tally = Counter([(key, step >> shift) for _, key, _, _, step, _ in rows])
    return [(key, block, n) for (key, block), n in sorted(tally.items())]


def count_inserted(
    conn: Connection, run_id: str, rows: Sequence[tuple[Any, ...]], inserted: int
) -> None:
    """Count a batch of metric rows (as :func:`add_block_counts`) of which the insert reported
    ``inserted`` new ones: all new, they are added; otherwise their blocks are counted again
    (exact when the transaction is the only writer, as SQLite's are)."""
    if inserted == len(rows):
        add_block_counts(conn, run_id, rows)
    else:  # some points were stored already (a retried batch)
        recount_blocks(conn, run_id, rows)


def recount_blocks(conn: Connection, run_id: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Count again, from ``metrics``, the blocks of metric rows (as :func:`add_block_counts`)
    some of which were already stored (exact when the transaction is the only writer, as
    SQLite's are)."""
    blocks = sorted({(key, step >> STEP_BLOCK_SHIFT) for _, key, _, _, step, _ in rows})
    for key, block in blocks:
        lo, hi = block_range(block)
        args: dict[str, Any] = {"run_uuid": run_id, "key": key, "block": block, "lo": lo, "hi": hi}
        conn.execute(_RECOUNT, args)
