"""Reading one metric's history in MLflow's order without OFFSET: keyset page tokens and cheap
entities.

MLflow orders a history by ``(timestamp, step, value)``; mlflowx adds ``is_nan`` (part of the
primary key) so that the order is total and a page can resume right after its last point. The
rows are read as ``(timestamp, step, value, is_nan)`` tuples, whose natural tuple order is that
order: a whole history is read along the primary key (by step) and sorted in Python, which costs
a few milliseconds when, as usual, steps and timestamps grow together (timsort on sorted runs).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Any

from mlflowx.entities import Metric
from mlflowx.exceptions import InvalidParameter
from mlflowx.store.search import decode_page_token

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "HISTORY_COLUMNS",
    "HISTORY_ORDER",
    "HistoryPosition",
    "decode_history_token",
    "encode_history_token",
    "history_entities",
    "packed_history_entities",
]

#: The columns every history query selects, in the order of :data:`HISTORY_ORDER`.
HISTORY_COLUMNS = "timestamp, step, value, is_nan"
#: MLflow's order of a history, made total with ``is_nan``.
HISTORY_ORDER = "ORDER BY timestamp, step, value, is_nan"

#: Where a page ends: the ``(timestamp, step, value, is_nan)`` of its last point.
HistoryPosition = tuple[int, int, float, bool]

_KEY = "after"


def encode_history_token(last: Sequence[Any]) -> str:
    """The ``next_page_token`` of a page whose last row is ``last`` (a history row)."""
    ts, step, value, is_nan = last
    payload = {_KEY: [int(ts), int(step), float(value), bool(is_nan)]}
    return base64.b64encode(json.dumps(payload).encode()).decode("ascii")


def decode_history_token(token: str | None) -> HistoryPosition | int:
    """The position after which the next page starts, or an offset for a token in MLflow's
    ``{"offset": n}`` format (an MLflow server's token replayed against mlflowx); empty -> 0.

    Raises:
        InvalidParameter: the token is neither.
    """
    if not token:
        return 0
    try:
        parsed = json.loads(base64.b64decode(token, validate=True))
    except (binascii.Error, ValueError, RecursionError):
        parsed = None
    if not (isinstance(parsed, dict) and _KEY in parsed):
        return decode_page_token(token)  # MLflow's format, or its error message
    after = parsed[_KEY]
    if (
        isinstance(after, list)
        and len(after) == 4
        and all(isinstance(x, int) and not isinstance(x, bool) for x in after[:2])
        and isinstance(after[2], int | float)
        and not isinstance(after[2], bool)
        and not math.isnan(after[2])
        and isinstance(after[3], bool)
    ):
        return int(after[0]), int(after[1]), float(after[2]), after[3]
    raise InvalidParameter(
        f"Invalid page token {token[:60]!r}: its position is not [timestamp, step, value, "
        "is_nan]; pass the next_page_token of the previous page unchanged"
    )


def history_entities(key: str, run_id: str, rows: Sequence[Sequence[Any]]) -> list[Metric]:
    """Metric entities from ``(timestamp, step, value, is_nan)`` rows, in their order."""
    nan = math.nan
    return [
        Metric(key, nan if is_nan else value, ts, step, run_id) for ts, step, value, is_nan in rows
    ]


def packed_history_entities(
    key: str, run_id: str, timestamps: bytes, steps: bytes, values: bytes, is_nan: bytes
) -> list[Metric]:
    """Metric entities, in MLflow's order, from a history packed as four columns of big-endian
    int64 / int64 / float64 / bool, row ``i`` of the history being item ``i`` of each (what
    PostgreSQL's ``int8send``, ``float8send`` and ``boolsend`` aggregate to).

    A million points arrive as four byte strings instead of a million rows, the order is
    checked (and, if the rows did not come in it, made) on arrays, and the entities are built
    from plain lists: about a third of reading the same history row by row.
    """
    import numpy as np

    ts = np.frombuffer(timestamps, ">i8")
    step = np.frombuffer(steps, ">i8")
    value = np.frombuffer(values, ">f8")
    nan = np.frombuffer(is_nan, np.bool_)
    if not len(ts) == len(step) == len(value) == len(nan):
        raise ValueError("The packed history's columns have different lengths")
    if not _in_history_order(ts, step, value, nan):
        # np.lexsort is stable and sorts by its last key first: the rows' tuple order.
        order = np.lexsort((nan, value, step, ts))
        ts, step, value, nan = ts[order], step[order], value[order], nan[order]
    if nan.any():
        value = np.where(nan, np.nan, value)
    return list(
        map(Metric, repeat(key), value.tolist(), ts.tolist(), step.tolist(), repeat(run_id))
    )


def _in_history_order(*columns: np.ndarray) -> bool:
    """Whether rows made of ``columns`` (most significant first) are in ascending tuple order:
    each row is compared with the next on the first column, then on the next one where the
    first ones tie (comparisons, not differences, so extreme int64 steps cannot overflow)."""
    undecided = None
    for column in columns:
        before, after = column[:-1], column[1:]
        descending = after < before
        if undecided is not None:
            descending &= undecided
        if descending.any():
            return False
        tied = after == before
        undecided = tied if undecided is None else undecided & tied
        if not undecided.any():
            return True
    return True
