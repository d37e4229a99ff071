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
    "PackedHistory",
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
    """Metric entities, in MLflow's order, from a history packed in one piece (see
    :class:`PackedHistory`)."""
    history = PackedHistory(key, run_id)
    history.add(timestamps, steps, values, is_nan)
    return history.entities()


class PackedHistory:
    """A history that arrives packed, in pieces: each piece four columns of big-endian int64 /
    int64 / float64 / bool (timestamp, step, value as stored, is_nan), row ``i`` of the piece
    being item ``i`` of each (what PostgreSQL's ``int8send``, ``float8send`` and ``boolsend``
    aggregate to).

    A million points arrive as a few byte strings instead of a million rows, the order is
    checked on arrays, and the entities are built from plain lists. While the pieces come in
    MLflow's order (as when steps and timestamps grow together) each piece's entities are built
    as it arrives, so a reader can fetch the next piece meanwhile; once one does not, the rest
    are only kept, and all are sorted together at the end.
    """

    def __init__(self, key: str, run_id: str) -> None:
        self.key, self.run_id = key, run_id
        self._pieces: list[tuple[np.ndarray, ...]] = []
        self._points: list[Metric] | None = []  # None: out of order, built at the end
        self._last: tuple[Any, ...] | None = None

    def add(self, timestamps: bytes, steps: bytes, values: bytes, is_nan: bytes) -> None:
        """One more piece (its rows in any order)."""
        import numpy as np

        self.add_columns(
            np.frombuffer(timestamps, ">i8"),
            np.frombuffer(steps, ">i8"),
            np.frombuffer(values, ">f8"),
            np.frombuffer(is_nan, np.bool_),
        )

    def add_columns(
        self, timestamps: np.ndarray, steps: np.ndarray, values: np.ndarray, is_nan: np.ndarray
    ) -> None:
        """One more piece as arrays (integers, integers, floats, booleans or 0/1), as a
        columnar driver returns them."""
        piece = (timestamps, steps, values, is_nan)
        if len({len(column) for column in piece}) != 1:
            raise ValueError("The packed history's columns have different lengths")
        if not len(piece[0]):
            return
        self._pieces.append(piece)
        if self._points is None:
            return
        first = tuple(column[0].item() for column in piece)
        if (self._last is None or self._last <= first) and _in_history_order(*piece):
            self._points += self._build(*piece)
            self._last = tuple(column[-1].item() for column in piece)
        else:
            self._points = None

    def entities(self) -> list[Metric]:
        """Every point, in MLflow's order."""
        if self._points is not None:
            return self._points
        import numpy as np

        pieces = zip(*self._pieces, strict=True)
        ts, step, value, nan = (np.concatenate(columns) for columns in pieces)
        # np.lexsort is stable and sorts by its last key first: the rows' tuple order.
        order = np.lexsort((nan, value, step, ts))
        return self._build(ts[order], step[order], value[order], nan[order])

    def _build(
        self, ts: np.ndarray, step: np.ndarray, value: np.ndarray, nan: np.ndarray
    ) -> list[Metric]:
        import numpy as np

        if nan.any():
            value = np.where(nan, np.nan, value)
        key, run_id = repeat(self.key), repeat(self.run_id)
        return list(map(Metric, key, value.tolist(), ts.tolist(), step.tolist(), run_id))


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
