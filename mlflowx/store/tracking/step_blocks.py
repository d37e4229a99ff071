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

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from mlflowx.store.sql.db import Connection

__all__ = [
    "STEP_BLOCK_SHIFT",
    "add_block_counts",
    "block_range",
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


def add_block_counts(conn: Connection, run_id: str, points: Iterable[tuple[str, int]]) -> None:
    """Count ``(key, step)`` points, all of them newly inserted into ``metrics``."""
    shift = STEP_BLOCK_SHIFT
    counts = Counter([(key, step >> shift) for key, step in points])
    if counts:
        rows = [(run_id, key, block, n) for (key, block), n in sorted(counts.items())]
        conn.executemany_rows(_ADD, rows)


def recount_blocks(conn: Connection, run_id: str, points: Sequence[tuple[str, int]]) -> None:
    """Count again, from ``metrics``, the blocks of ``(key, step)`` points some of which were
    already stored (exact when the transaction is the only writer, as SQLite's are)."""
    blocks = sorted({(key, step >> STEP_BLOCK_SHIFT) for key, step in points})
    for key, block in blocks:
        lo, hi = block_range(block)
        args: dict[str, Any] = {"run_uuid": run_id, "key": key, "block": block, "lo": lo, "hi": hi}
        conn.execute(_RECOUNT, args)
