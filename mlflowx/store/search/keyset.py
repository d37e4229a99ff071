"""Keyset paging for runs searches.

The generic statement (:mod:`mlflowx.store.search.sql`) sorts with ``CASE`` buckets (values,
then NaN, then missing) and pages with ``OFFSET``: the database must find and sort every match
before it can return page 1, and page 50 costs 50 times page 1. Here the same order is split into
*segments* that each sort on plain columns:

* ``present``: runs that have the order key (not NaN), sorted by its value, then
  ``start_time DESC`` (missing last) and ``run_uuid``;
* ``nan`` (metrics only): runs whose value is NaN, by ``start_time DESC`` and ``run_uuid``;
* ``missing``: runs without the key (or a NULL attribute), likewise.

Further order columns break the ties of the first one: within every segment they come before
``start_time DESC`` and ``run_uuid``, each as MLflow sorts it (a metric as a bucket, values then
NaN then missing, and its value), read through a left join on the run's row of that key.

A page reads the segments in turn, each with ``LIMIT``, starting after the last row of the
previous page (its sort key travels in the page token), so every page costs what page 1 costs.
The ``present`` segment can be driven by the order column's index walked in order, with the
filters checked per row through primary-key lookups, and stop after a page: what answers a
broad filter fastest. A selective filter is better answered by its own index and a sort of its
few matches; on SQLite (whose planner has no value histograms) :func:`prefer_filter_index`
probes the filter's index to choose. PostgreSQL's planner chooses from its statistics, but
walks the order index where a selective filter (0.5% of runs) is much cheaper to sort: the same
probe decides there too.

A param or tag with few distinct values (``tags.team``) makes long runs of ties, and the walk of
its value index must read a whole group of equal values, with a lookup per row, before it can
sort that group by start time. So its ``present`` segment is read group by group (see
:func:`_grouped_rows`): a probe of the value index tells whether the group at the current
position holds at least ``GROUP_WINDOW`` rows; such a large group is read with its value fixed,
in the order of what breaks its ties: by start time (the runs' start-time index, a primary-key
lookup per run), or, with more order columns, bucket by bucket of the next one, each walked
along its own index (``params.p1, metrics.m2 DESC``: the values of m2 along its (key, value)
index, then its NaN, then runs without it). Smaller groups are read by the plain walk.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mlflowx.entities.common import RunStatus
from mlflowx.exceptions import InvalidParameter
from mlflowx.store.search.parser import Comparison, OrderBy
from mlflowx.store.search.sql import (
    KEY_VALUE_TABLES,
    Column,
    SqlBuilder,
    compile_runs_search,
    run_column,
)

__all__ = [
    "KeysetPlan",
    "decode_keyset_token",
    "encode_keyset_token",
    "keyset_page",
    "plan_runs_keyset",
    "search_fingerprint",
]

#: Characters of a param or tag value in PostgreSQL's (key, value prefix) indexes (migration
#: 0008, ``mlflowx.store.sql.tables.VALUE_PREFIX``): ordering by (prefix, value) is ordering
#: by value (code points, ``COLLATE "C"``), and the prefix's index can be walked.
VALUE_PREFIX = 200
#: A filter whose own index holds fewer rows than this drives the query.
FILTER_PROBE_CAP = 5_000
#: A group of one param/tag value with at least this many rows in its index (all experiments)
#: is read by start time with its value fixed.
GROUP_WINDOW = 2_000
_PROBE_OPS = frozenset({"=", "<", "<=", ">", ">="})
Execute = Callable[[str, dict[str, Any]], Sequence[Sequence[Any]]]


@dataclass(frozen=True, slots=True)
class SortKey:
    expr: str
    ascending: bool
    nullable: bool  # NULLs sort last in both directions
    text: bool


_START_TIME = SortKey("r.start_time", ascending=False, nullable=True, text=False)
_RUN_ID = SortKey("r.run_uuid", ascending=True, nullable=False, text=True)
#: ``runs`` columns with an (experiment_id, lifecycle_stage, column[, start_time]) index.
_INDEXED_RUN_COLUMNS = frozenset({"r.start_time", "r.end_time", "r.name", "r.status"})


@dataclass(frozen=True, slots=True)
class Segment:
    """Runs of one sort bucket: ``FROM {source} ... WHERE {condition}`` sorted by ``keys``."""

    source: str
    condition: str
    keys: tuple[SortKey, ...]
    #: The order column's index may drive this segment (the ``present`` one of a key/value).
    indexed_source: str = ""
    #: A param/tag order's ``present`` segment, read group by group (of its first key: the value,
    #: or on PostgreSQL its indexed prefix) from this table's value index.
    group_table: str = ""


@dataclass(frozen=True, slots=True)
class GroupSplit:
    """One bucket of a large param/tag group (see :func:`_large_group`): the group's rows in
    one bucket of the first sort key after the group's own (a metric's values, its NaN, runs
    without it; a nullable key's values, its NULLs), in an order an index can walk.

    ``keys`` sort the bucket; they are the keys after the group's with the first ``skip`` left
    out (fixed within the bucket, or its marker). ``marker`` is the value of that first key
    that places a position in this bucket (a metric's bucket number; ``None``: NULL), or
    ``NOT_NULL`` or ``ANY``. ``walk`` (``table alias``) and ``walk_on`` name the order join to
    read first, walking its index; empty: the runs are read first, by their start-time index.
    """

    condition: str
    keys: tuple[SortKey, ...]
    skip: int
    marker: Any
    walk: str = ""
    walk_on: str = ""

    def holds(self, first: Any) -> bool:
        """Whether a position whose first key (after the group's) is ``first`` is here."""
        if self.marker is ANY:
            return True
        if self.marker is NOT_NULL:
            return first is not None
        return type(first) is type(self.marker) and first == self.marker


#: :attr:`GroupSplit.marker` of a bucket that holds every position, or every non-NULL one.
ANY, NOT_NULL = object(), object()


@dataclass(frozen=True, slots=True)
class KeysetPlan:
    """The segments of one search, the filters' joins and conditions, and bound values."""

    dialect: str
    segments: tuple[Segment, ...]
    joins: str
    where: str
    params: dict[str, Any]
    probes: tuple[tuple[str, dict[str, Any]], ...]
    #: Left joins of the order columns after the first (their keys end every segment's), by
    #: the alias they join.
    order_joins: tuple[tuple[str, str], ...] = ()
    #: How a large group of a param/tag order is read, bucket after bucket (see GroupSplit).
    group_splits: tuple[GroupSplit, ...] = ()

    def statement(
        self,
        index: int,
        scope: str,
        after: Sequence[Any] | None,
        *,
        driven: bool,
        extra: Sequence[str] = (),
        split: GroupSplit | None = None,
    ) -> str:
        """The SQL of segment ``index`` after the sort key ``after`` (``None``: from its start).

        ``scope`` restricts runs (experiments, lifecycle); ``driven`` lets the order column's
        index drive the segment. Selects ``run_uuid`` and the sort key's values. ``extra``
        conditions narrow the segment. ``split``: only its bucket, sorted by its keys (which
        ``after`` then follows; ``extra`` fixes the keys it leaves out), read in the order of
        its walk: first the walked order join (inner), else the runs (by their start-time
        index), and the rest looked up per row (SQLite is told so by ``CROSS JOIN``;
        PostgreSQL's planner weighs it against sorting).
        """
        segment = self.segments[index]
        keys = segment.keys if split is None else split.keys
        source, joins = segment.source, self.joins
        order_joins = self.order_joins
        cross = "CROSS JOIN " if self.dialect == "sqlite" else "JOIN "
        if driven and segment.indexed_source:
            source = segment.indexed_source
            if self.dialect == "sqlite":  # filters after the order index, as lookups per row
                joins = joins.replace("JOIN ", "CROSS JOIN ")
        elif split is not None:
            source, joins = source.replace("JOIN ", cross), joins.replace("JOIN ", cross)
            if split.walk:  # `runs r JOIN t o ON ...` -> `w JOIN runs r ON (w's) JOIN t o ON ...`
                alias = split.walk.split()[-1]
                order_joins = tuple((a, j) for a, j in order_joins if a != alias)
                rest = source.removeprefix("runs r ")
                source = f"{split.walk} {cross}runs r ON {split.walk_on} {rest}"
        if order_joins:
            joins = f"{joins} {' '.join(j for _, j in order_joins)}"
        b = SqlBuilder(self.dialect)
        where = [scope, f"({self.where})", segment.condition, *extra]
        if split is not None:
            where.append(split.condition)
        if after is not None:
            where.append(_after(keys, after, self.dialect))
        exprs = [k.expr for k in keys]
        if (
            not driven
            and split is None
            and segment.indexed_source
            and (self.dialect == "postgresql")
        ):
            # A selective filter drives: sort its few matches. An order on an expression the
            # order column's index does not hold keeps PostgreSQL from walking that index
            # instead and checking the filter per row (at 1M runs, `metrics.m1 > 0.995` ordered
            # by m2 walked 66,000 index rows of m2 for page 1: 1.9 s).
            exprs[0] = f"({exprs[0]} || '')" if keys[0].text else f"({exprs[0]} + 0)"
        order = ", ".join(
            b.order_item(e, k.ascending, nullable=k.nullable, text=k.text)
            for e, k in zip(exprs, keys, strict=True)
        )
        columns = ", ".join(k.expr for k in segment.keys)
        return (
            f"SELECT {columns} FROM {source} {joins} WHERE {' AND '.join(where)} "
            f"ORDER BY {order} LIMIT :k_limit"
        )

    @staticmethod
    def bind_after(after: Sequence[Any] | None) -> dict[str, Any]:
        if after is None:
            return {}
        return {f"k_a{i}": v for i, v in enumerate(after)}

    def check_after(self, index: int, after: Sequence[Any]) -> bool:
        """Whether ``after`` fits segment ``index``'s sort key (types and NULLs)."""
        keys = self.segments[index].keys
        if len(after) != len(keys):
            return False
        for key, value in zip(keys, after, strict=True):
            if value is None:
                if not key.nullable:
                    return False
                continue
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not (isinstance(value, str) if key.text else number):
                return False
        return True

    def prefer_filter_index(self, execute: Execute, cap: int = FILTER_PROBE_CAP) -> bool:
        """Whether a filter's own index holds fewer than ``cap`` rows, so it should drive."""
        for sql, params in self.probes:
            rows = execute(sql, {**params, "k_cap": cap})
            if int(rows[0][0]) < cap:
                return True
        return False


def _collated(key: SortKey, dialect: str) -> str:
    return f'{key.expr} COLLATE "C"' if key.text and dialect == "postgresql" else key.expr


def _after(keys: Sequence[SortKey], values: Sequence[Any], dialect: str) -> str:
    """Rows sorting strictly after ``values`` in the order of ``keys`` (NULLs last).

    Lexicographic; the first key's bound is repeated as a plain range so an index can seek.
    """

    def expr(i: int) -> str:
        return _collated(keys[i], dialect)

    def strictly_after(i: int) -> str:
        if i == len(keys):
            return "1=0"
        key, value, rest = keys[i], values[i], strictly_after(i + 1)
        if value is None:  # only NULLs are left at this level
            return f"({key.expr} IS NULL AND {rest})"
        op = ">" if key.ascending else "<"
        beyond = f"{expr(i)} {op} :k_a{i}"
        if key.nullable:
            beyond = f"({beyond} OR {key.expr} IS NULL)"
        return f"({beyond} OR ({expr(i)} = :k_a{i} AND {rest}))"

    condition = strictly_after(0)
    if values and values[0] is not None:
        seek = f"{expr(0)} {'>=' if keys[0].ascending else '<='} :k_a0"
        if keys[0].nullable:
            seek = f"({seek} OR {keys[0].expr} IS NULL)"
        condition = f"{seek} AND {condition}"
    return condition


def plan_runs_keyset(filters: list[Comparison], order: list[OrderBy], dialect: str) -> KeysetPlan:
    """The keyset plan of a runs search: segments of its first order column (start time,
    newest first, by default), whose ties the other columns break."""
    frag = compile_runs_search(filters, [], dialect)
    params = dict(frag.params)
    o = order[0] if order else OrderBy("attribute", "start_time", ascending=False)
    then, order_joins, lead = _then_keys(order[1:], params, dialect)
    # The same tie-breakers as the generic order (compile_runs_search).
    on_start_time = any(_is_start_time(x) for x in (o, *order[1:]))
    tail = (*then, *(() if on_start_time else (_START_TIME,)), _RUN_ID)
    splits = _lead_splits(tail, lead)
    segments = _segments(o, filters, dialect, params, tail)
    # A range filter on the order metric is answered by the walk itself (its bounds are in the
    # segment's condition), so its index size is no reason for the filters to drive.
    others = [c for c in filters if c not in _ranges_on(o, filters)]
    return KeysetPlan(
        dialect, segments, frag.joins, frag.where, params, _probes(others), order_joins, splits
    )


def _is_start_time(o: OrderBy) -> bool:
    column = run_column(o.entity, o.key)
    return column is not None and column.sql == "r.start_time"


def _then_keys(
    order: Sequence[OrderBy], params: dict[str, Any], dialect: str
) -> tuple[tuple[SortKey, ...], tuple[tuple[str, str], ...], _Lead | None]:
    """The sort keys of the order columns after the first, the left joins they read (by
    alias), and the table the second order column is read from (``None``: a run column). A
    param or tag sorts on PostgreSQL by its indexed prefix first, as the first column does."""
    keys: list[SortKey] = []
    joins: list[tuple[str, str]] = []
    lead = None
    for i, o in enumerate(order, start=1):
        column = run_column(o.entity, o.key)
        if column is not None:
            keys.append(SortKey(column.sql, o.ascending, column.nullable, column.text))
            continue
        if o.entity not in KEY_VALUE_TABLES:
            raise InvalidParameter(f"Cannot order runs by {o.entity} {o.key!r}")
        alias, key, table = f"kt{i}", f"k_key{i}", KEY_VALUE_TABLES[o.entity]
        params[key] = o.key
        on = f"{alias}.run_uuid = r.run_uuid AND {alias}.key = :{key}"
        joins.append((alias, f"LEFT JOIN {table} {alias} ON {on}"))
        metric = o.entity == "metric"
        if metric:  # values, then NaN (stored as 0), then runs without the key
            bucket = (
                f"CASE WHEN {alias}.run_uuid IS NULL THEN 2 WHEN {alias}.is_nan THEN 1 ELSE 0 END"
            )
            keys.append(SortKey(bucket, ascending=True, nullable=False, text=False))
        prefixed = not metric and dialect == "postgresql"
        if prefixed:
            prefix = f"left({alias}.value, {VALUE_PREFIX})"
            keys.append(SortKey(prefix, o.ascending, nullable=True, text=True))
        keys.append(SortKey(f"{alias}.value", o.ascending, nullable=True, text=not metric))
        if i == 1:
            lead = _Lead(f"{table} {alias}", alias, on, metric, 2 if prefixed else 1)
    return tuple(keys), tuple(joins), lead


@dataclass(frozen=True, slots=True)
class _Lead:
    """The table of the second order column, read through ``table alias`` joined ``on``."""

    walk: str
    alias: str
    on: str
    metric: bool
    #: Its sort keys: 2 for a value after its indexed prefix.
    width: int


def _lead_splits(keys: tuple[SortKey, ...], lead: _Lead | None) -> tuple[GroupSplit, ...]:
    """The buckets of ``keys[0]``, the first key after a group's (see :class:`GroupSplit`): a
    metric's (values walked along its ``(key, value)`` index, NaN, missing), a param's or
    tag's (values walked likewise, none), a run column's or the start time's (values, NULL)."""
    if lead is None:
        return _nullable_splits(keys, "")
    if not lead.metric:
        return _nullable_splits(keys, lead.walk, lead.on, lead.width)
    value, rest = keys[1], keys[2:]
    present = SortKey(value.expr, value.ascending, nullable=False, text=False)
    return (
        GroupSplit(f"NOT {lead.alias}.is_nan", (present, *rest), 1, 0, lead.walk, lead.on),
        GroupSplit(f"{lead.alias}.is_nan", rest, 2, 1),
        GroupSplit(f"{lead.alias}.run_uuid IS NULL", rest, 2, 2),
    )


def _nullable_splits(
    keys: tuple[SortKey, ...], walk: str, on: str = "", width: int = 1
) -> tuple[GroupSplit, ...]:
    """Buckets of a first column that may be NULL (its first ``width`` keys, NULL together):
    its values (walked), then its NULLs; one bucket for a column that may not."""
    first, rest = keys[0], keys[width:]
    if not first.nullable:
        return (GroupSplit("1=1", keys, 0, ANY, walk, on),)
    present = tuple(SortKey(k.expr, k.ascending, False, k.text) for k in keys[:width])
    return (
        GroupSplit(f"{first.expr} IS NOT NULL", (*present, *rest), 0, NOT_NULL, walk, on),
        GroupSplit(f"{first.expr} IS NULL", rest, width, None),
    )


def _ranges_on(o: OrderBy, filters: list[Comparison]) -> list[Comparison]:
    """The numeric comparisons of ``filters`` on the order column's metric."""
    if o.entity != "metric":
        return []
    return [
        c
        for c in filters
        if c.entity == "metric" and c.key == o.key and c.op in _PROBE_OPS
        and isinstance(c.value, (int, float))
    ]  # fmt: skip


def _segments(
    o: OrderBy,
    filters: list[Comparison],
    dialect: str,
    params: dict[str, Any],
    tail: tuple[SortKey, ...],
) -> tuple[Segment, ...]:
    """The segments of the first order column ``o``, each sorted by its keys, then ``tail``."""
    column = run_column(o.entity, o.key)
    if column is not None:
        return _run_column_segments(column, o.ascending, dialect, tail)
    if o.entity not in KEY_VALUE_TABLES:
        raise InvalidParameter(f"Cannot order runs by {o.entity} {o.key!r}")
    table = KEY_VALUE_TABLES[o.entity]
    params["k_key"] = o.key
    metric = o.entity == "metric"
    # What a filter on the same key already rules out (a comparison needs the key; only `!=`
    # lets NaN through; `IS NULL` keeps only runs without it).
    ops = {c.op for c in filters if c.entity == o.entity and c.key == o.key}
    only_missing = "IS NULL" in ops
    no_missing = bool(ops - {"IS NULL"})
    no_nan = bool(ops & {"=", "<", "<=", ">", ">=", "IN", "NOT IN", "LIKE", "ILIKE"})
    key = SortKey("o.value", o.ascending, nullable=False, text=not metric)
    keys: tuple[SortKey, ...] = (key,)
    if not metric and dialect == "postgresql":  # walk the value-prefix index (migration 0008)
        keys = (SortKey(f"left(o.value, {VALUE_PREFIX})", o.ascending, False, True), key)
    value_ok = "NOT o.is_nan" if metric else "o.value IS NOT NULL"
    if metric:  # the same key's range filters bound the walk of its index (o is sj's row)
        for i, c in enumerate(_ranges_on(o, filters)):
            params[f"k_r{i}"] = float(c.value)  # type: ignore[arg-type]
            value_ok += f" AND o.value {c.op} :k_r{i}"
    join = f"{table} o ON o.run_uuid = r.run_uuid AND o.key = :k_key"
    # SQLite: CROSS JOIN keeps the written order (the order index outermost); PostgreSQL's
    # planner weighs both sides from its statistics.
    cross = "CROSS JOIN" if dialect == "sqlite" else "JOIN"
    segments = []
    if not only_missing:
        segments.append(
            Segment(
                f"runs r JOIN {join}",
                value_ok,
                (*keys, *tail),
                # A (key, value) index to walk: latest_metrics, params and tags on SQLite
                # (migration 0006), params and tags by a value prefix on PostgreSQL (0008).
                indexed_source=(
                    f"{table} o {cross} runs r ON r.run_uuid = o.run_uuid AND o.key = :k_key"
                ),
                group_table="" if metric else table,
            )
        )
        if metric and not no_nan:
            segments.append(Segment(f"runs r JOIN {join}", "o.is_nan", tail))
    if not no_missing:
        missing = (
            f"NOT EXISTS (SELECT 1 FROM {table} x WHERE x.run_uuid = r.run_uuid "
            f"AND x.key = :k_key{'' if metric else ' AND x.value IS NOT NULL'})"
        )
        segments.append(Segment("runs r", missing, tail))
    return tuple(segments)


def _run_column_segments(
    column: Column, ascending: bool, dialect: str, tail: tuple[SortKey, ...]
) -> tuple[Segment, ...]:
    """Segments of an order on a ``runs`` column; those of an indexed column (migration 0008,
    ``ix_runs_experiment_stage_*``: experiment, stage, column, start_time) may walk the index."""
    key = SortKey(column.sql, ascending, nullable=False, text=column.text)
    walk = "runs r" if column.sql in _INDEXED_RUN_COLUMNS else ""
    if column.sql == "r.start_time":  # (the tail has no start_time then)
        present = Segment("runs r", "r.start_time IS NOT NULL", (key, *tail), walk)
        return (present, Segment("runs r", "r.start_time IS NULL", tail))
    if column.sql == "r.status":
        # Few values, many runs each: one segment per status walks (status =, start_time) in
        # order; sorting (status, start_time DESC) in one piece would sort a whole status.
        # Another status (none is written but these) would come last in either direction.
        # PostgreSQL compares in the index's collation, or it cannot seek the index.
        status = 'r.status COLLATE "C"' if dialect == "postgresql" else "r.status"
        known = sorted((s.value for s in RunStatus), reverse=not ascending)
        per_status = [Segment("runs r", f"{status} = '{value}'", tail, walk) for value in known]
        others = f"{status} NOT IN (" + ", ".join(f"'{value}'" for value in known) + ")"
        return (*per_status, Segment("runs r", others, (key, *tail)))
    if not column.nullable:
        return (Segment("runs r", "1=1", (key, *tail), walk),)
    return (
        Segment("runs r", f"{column.sql} IS NOT NULL", (key, *tail), walk),
        Segment("runs r", f"{column.sql} IS NULL", tail, walk),
    )


def _probes(filters: list[Comparison]) -> tuple[tuple[str, dict[str, Any]], ...]:
    """Capped counts of the rows each metric range filter's index holds."""
    probes = []
    for c in filters:
        if c.entity == "metric" and c.op in _PROBE_OPS and isinstance(c.value, (int, float)):
            probes.append(
                (
                    "SELECT COUNT(*) FROM (SELECT 1 FROM latest_metrics WHERE key = :k_pk "
                    f"AND value {c.op} :k_pv LIMIT :k_cap) p",
                    {"k_pk": c.key, "k_pv": float(c.value)},
                )
            )
    return tuple(probes)


# --------------------------------------------------------------------------------- tokens
def search_fingerprint(*parts: Any) -> str:
    """A short digest of what defines a search, so a token is not replayed on another one."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def encode_keyset_token(offset: int, segment: int, after: Sequence[Any], fingerprint: str) -> str:
    """A page token: MLflow's ``offset`` (rows already returned) and where the page ends."""
    import base64

    payload = {"offset": offset, "segment": segment, "after": list(after), "search": fingerprint}
    # UTF-8 rather than \u escapes: a long non-ASCII value stays under the token length cap.
    return base64.b64encode(json.dumps(payload, ensure_ascii=False).encode()).decode("ascii")


def decode_keyset_token(token: str | None) -> tuple[int, list[Any], str] | None:
    """``(segment, after, fingerprint)`` of a keyset token; ``None`` for an offset-only one.

    The token was already checked by :func:`~mlflowx.store.search.decode_page_token`.
    """
    import base64

    if not token:
        return None
    parsed = json.loads(base64.b64decode(token))
    if not isinstance(parsed, dict) or "after" not in parsed:
        return None
    segment, after, fingerprint = parsed.get("segment"), parsed["after"], parsed.get("search")
    if (
        not isinstance(segment, int)
        or isinstance(segment, bool)
        or segment < 0
        or not isinstance(after, list)
        or not isinstance(fingerprint, str)
    ):
        raise InvalidParameter(
            "Invalid page token: its keyset part is malformed; pass the next_page_token of "
            "the previous page unchanged"
        )
    return segment, after, fingerprint


def keyset_page(
    plan: KeysetPlan,
    execute: Execute,
    scope: str,
    scope_params: dict[str, Any],
    max_results: int,
    start: tuple[int, list[Any]] | None,
    probe_cap: int = FILTER_PROBE_CAP,
) -> tuple[list[str], tuple[int, list[Any]] | None]:
    """One page of run ids and where the next page starts (``None``: this was the last).

    ``start`` is ``(segment, after)`` from the previous page's token; ``probe_cap`` is the
    filter-index size under which a filter drives (0: always the order index). Reads
    ``max_results + 1`` rows across the segments, so a page that ends a segment still knows
    whether more follow.
    """
    index, after = start if start is not None else (0, None)
    if index >= len(plan.segments) or (after is not None and not plan.check_after(index, after)):
        raise _misfit_token()
    driven = not plan.prefer_filter_index(execute, probe_cap)
    rows: list[tuple[int, Sequence[Any]]] = []
    while index < len(plan.segments) and len(rows) <= max_results:
        need = max_results + 1 - len(rows)
        got: Sequence[Sequence[Any]]
        if driven and plan.segments[index].group_table:
            got = _grouped_rows(plan, index, execute, scope, scope_params, after, need)
        else:
            sql = plan.statement(index, scope, after, driven=driven)
            args = {**plan.params, **scope_params, **plan.bind_after(after), "k_limit": need}
            got = execute(sql, args)
        rows += [(index, row) for row in got]
        index, after = index + 1, None
    page = rows[:max_results]
    ids = [str(row[-1]) for _, row in page]
    if len(rows) <= max_results:
        return ids, None
    last_segment, last = page[-1]
    return ids, (last_segment, list(last))


def _grouped_rows(
    plan: KeysetPlan,
    index: int,
    execute: Execute,
    scope: str,
    scope_params: dict[str, Any],
    after: Sequence[Any] | None,
    need: int,
) -> list[Sequence[Any]]:
    """Up to ``need`` rows of a param/tag ``present`` segment after ``after``, group by group.

    A group is the rows sharing the first sort key: the value (SQLite) or its indexed prefix
    (PostgreSQL), in the order the value index holds them. At the current position, two probes
    of that index (all experiments, no filters) read the group key there and the one
    ``GROUP_WINDOW - 1`` rows on. The same key: its group is large, read by
    :func:`_large_group`, and the position moves past it. Another (or none): the plain walk
    reads the rest of the page (it still sorts a large group whole where a page crosses from
    small groups into one; the next page starts in it).
    """
    segment = plan.segments[index]
    b = SqlBuilder(plan.dialect)
    key = segment.keys[0]  # the group key: the value, or its indexed prefix
    # `{key} IS NOT NULL` (the value's, or its prefix's) rather than the segment's own
    # `o.value IS NOT NULL`: the same rows, and the index alone can tell.
    probe_head = (
        f"SELECT {key.expr} FROM {segment.group_table} o "
        f"WHERE o.key = :k_key AND {key.expr} IS NOT NULL"
    )
    probe_tail = (
        f" ORDER BY {b.order_item(key.expr, key.ascending, nullable=False, text=key.text)} "
        "LIMIT 1 OFFSET :k_off"
    )
    base = {**plan.params, **scope_params}
    low, inclusive = (after[0], True) if after is not None else (None, True)
    rows: list[Sequence[Any]] = []
    while len(rows) < need:
        bound: list[str] = []
        bound_params: dict[str, Any] = {}
        if low is not None:
            op = (">=" if inclusive else ">") if key.ascending else ("<=" if inclusive else "<")
            bound.append(f"{_collated(key, plan.dialect)} {op} :k_l0")
            bound_params = {"k_l0": low}
        probe = probe_head + "".join(f" AND {c}" for c in bound) + probe_tail
        probe_params = {"k_key": plan.params["k_key"], **bound_params}
        first = execute(probe, {**probe_params, "k_off": 0})
        if not first:
            break
        value = first[0][0]
        window = execute(probe, {**probe_params, "k_off": GROUP_WINDOW - 1})
        large = bool(window) and window[0][0] == value
        # A prefix as long as the index holds may stand for several values: only a shorter
        # one is the whole value, so that its group can be read by start time.
        if large and (plan.dialect == "sqlite" or len(value) < VALUE_PREFIX):
            split = plan.group_splits[0]
            group_keys = len(segment.keys) - split.skip - len(split.keys)
            within = after[group_keys:] if after is not None and after[0] == value else None
            rows += _large_group(plan, index, execute, scope, base, value, within,
                                 need - len(rows))  # fmt: skip
            low, inclusive, after = value, False, None
            continue
        # Small groups: the plain walk, to the end of the page. Bounding it to the window's
        # groups made PostgreSQL read and sort the whole window (2,000 rows) where the walk
        # stops after a page of matches: params.p2 at 100k runs, 290 ms instead of 30.
        sql = plan.statement(index, scope, after, driven=True, extra=bound)
        args = {**base, **bound_params, **plan.bind_after(after)}
        rows += execute(sql, {**args, "k_limit": need - len(rows)})
        break
    return rows


def _large_group(
    plan: KeysetPlan,
    index: int,
    execute: Execute,
    scope: str,
    base: dict[str, Any],
    value: Any,
    within: Sequence[Any] | None,
    need: int,
) -> list[Sequence[Any]]:
    """Up to ``need`` rows of one value's group after ``within`` (its sort key after the
    group's), bucket after bucket of the next order key (:attr:`KeysetPlan.group_splits`),
    each read in its own order by an index walk: with the value fixed, the rows of a group
    come in the order of what breaks their ties, so no page sorts the whole group (a param
    with 3 values at 1,000,000 runs, then a metric: ~330,000 rows per group)."""
    segment = plan.segments[index]
    equal = f"{_collated(segment.keys[0], plan.dialect)} = :k_g0"
    args = {**base, "k_g0": value}
    splits = plan.group_splits
    first = 0
    if within is not None:
        first = next((i for i, split in enumerate(splits) if split.holds(within[0])), -1)
        if first < 0:
            raise _misfit_token()
    rows: list[Sequence[Any]] = []
    for i in range(first, len(splits)):
        split = splits[i]
        after = within[split.skip :] if within is not None and i == first else None
        sql = plan.statement(index, scope, after, driven=False, extra=[equal], split=split)
        rows += execute(sql, {**args, **plan.bind_after(after), "k_limit": need - len(rows)})
        if len(rows) >= need:
            break
    return rows


def _misfit_token() -> InvalidParameter:
    return InvalidParameter(
        "Invalid page token: it does not fit this search's order; pass the "
        "next_page_token of the previous page unchanged"
    )
