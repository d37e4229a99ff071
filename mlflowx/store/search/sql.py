"""Compile parsed searches to SQL that SQLite and PostgreSQL answer from their indexes.

The runs fragment plugs into the store's query::

    SELECT r.run_uuid FROM runs r {joins}
    WHERE r.experiment_id IN (...) AND r.lifecycle_stage IN (...) AND ({where})
    ORDER BY {order_by} LIMIT :limit OFFSET :offset

Semantics (MLflow's, see ``tests/store/test_search_sql.py`` for the reference evaluator):

* A metric, param or tag comparison is an inner join on the (run_uuid, key) primary key, so a
  run lacking the key matches nothing but ``IS NULL`` (``params.x != 'a'`` excludes runs
  without ``x``). A metric filter can also be answered from ``ix_latest_metrics_key_value``.
* NaN metrics are stored as ``value = 0, is_nan = true``. Every comparison with NaN is false
  except ``!=``, which is true (Python's float semantics); ``IS NOT NULL`` is true.
* ``LIKE`` is case-sensitive, ``ILIKE`` is ``LOWER(col) LIKE LOWER(pattern)``; both use
  ``ESCAPE '\\'``. (SQLite's ``LOWER`` folds ASCII letters only.)
* Dataset clauses match when any of the run's dataset inputs matches.
* ``tags.mlflow.runName`` and ``attributes.run_name`` both mean ``runs.name``.
* Sorting: values ascending or descending, then runs whose value is NaN (metrics only), then
  runs lacking the key or with a NULL attribute, in both directions, as MLflow does. Strings
  sort by code point (``COLLATE "C"`` on PostgreSQL). The list always ends with
  ``start_time DESC`` (unless ordered on already) and ``run_uuid ASC`` so pages are stable.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mlflowx.exceptions import InvalidParameter, NotImplementedByBackend
from mlflowx.store.search.parser import (
    RUN_NAME_TAG,
    Comparison,
    OrderBy,
    parse_experiments_filter,
    parse_experiments_order_by,
)

__all__ = [
    "KEY_VALUE_TABLES",
    "SqlBuilder",
    "SqlFragment",
    "compile_experiments_search",
    "compile_runs_search",
    "run_column",
]

SUPPORTED_DIALECTS = frozenset({"sqlite", "postgresql"})

#: ``input_tags`` key holding a dataset input's context ("training", "eval" ...).
DATASET_CONTEXT_TAG = "mlflow.data.context"


@dataclass(frozen=True, slots=True)
class SqlFragment:
    """The pieces of a search statement; parameter names all start with ``s_``."""

    joins: str
    where: str
    order_by: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Column:
    sql: str
    nullable: bool
    text: bool


_RUN_COLUMNS = {
    "run_id": Column("r.run_uuid", nullable=False, text=True),
    "run_name": Column("r.name", nullable=True, text=True),
    "status": Column("r.status", nullable=False, text=True),
    "user_id": Column("r.user_id", nullable=True, text=True),
    "artifact_uri": Column("r.artifact_uri", nullable=True, text=True),
    "start_time": Column("r.start_time", nullable=True, text=False),
    "end_time": Column("r.end_time", nullable=True, text=False),
}

_EXPERIMENT_COLUMNS = {
    "experiment_id": Column("e.experiment_id", nullable=False, text=False),
    "name": Column("e.name", nullable=False, text=True),
    "creation_time": Column("e.creation_time", nullable=True, text=False),
    "last_update_time": Column("e.last_update_time", nullable=True, text=False),
}

KEY_VALUE_TABLES = {"metric": "latest_metrics", "param": "params", "tag": "tags"}
_PYTHON_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_BINARY_OPS = frozenset(_PYTHON_OPS)


class SqlBuilder:
    def __init__(self, dialect: str) -> None:
        if dialect not in SUPPORTED_DIALECTS:
            raise NotImplementedByBackend(
                f"Search is not implemented for the {dialect!r} SQL dialect "
                f"(supported: {', '.join(sorted(SUPPORTED_DIALECTS))})"
            )
        self.dialect = dialect
        self.params: dict[str, Any] = {}
        self.joins: list[str] = []
        self.where: list[str] = []
        self.order: list[str] = []
        self._aliases = 0

    def bind(self, value: Any) -> str:
        name = f"s_{len(self.params)}"
        self.params[name] = value
        return ":" + name

    def alias(self, stem: str) -> str:
        self._aliases += 1
        return f"s{stem}{self._aliases}"

    def compare(self, column: str, op: str, value: Any) -> str:
        if op in ("IS NULL", "IS NOT NULL"):
            return f"{column} {op}"
        if op in ("IN", "NOT IN"):
            if not isinstance(value, tuple) or not value:
                raise InvalidParameter(f"{op} needs a non-empty list of values, got {value!r}")
            return f"{column} {op} ({', '.join(self.bind(v) for v in value)})"
        if isinstance(value, tuple) or value is None:
            raise InvalidParameter(f"Comparator {op!r} needs a single value, got {value!r}")
        if op == "LIKE":
            return f"{column} LIKE {self.bind(value)} ESCAPE '\\'"
        if op == "ILIKE":
            return f"LOWER({column}) LIKE LOWER({self.bind(value)}) ESCAPE '\\'"
        if op in _BINARY_OPS:
            return f"{column} {op} {self.bind(value)}"
        raise InvalidParameter(f"Invalid comparator {op!r}")

    def key_value(
        self, table: str, link: str, owner: str, c: Comparison, *, compare: bool = True
    ) -> str | None:
        """A condition on a key/value side table (tags, params, metrics) of the searched rows.

        ``table.link`` points at the searched row's ``owner`` column (e.g. ``tags.run_uuid``
        at ``r.run_uuid``). ``IS [NOT] NULL`` tests whether the key is there (an ``EXISTS``;
        returns ``None``); any other comparison joins the key's row and, unless ``compare`` is
        false (the caller writes its own test), compares its ``value``. Returns the join alias.
        """
        if c.op in ("IS NULL", "IS NOT NULL"):
            alias = self.alias("x")
            exists = (
                f"EXISTS (SELECT 1 FROM {table} {alias} "
                f"WHERE {alias}.{link} = {owner} AND {alias}.key = {self.bind(c.key)})"
            )
            self.where.append(exists if c.op == "IS NOT NULL" else f"NOT {exists}")
            return None
        alias = self.alias("j")
        self.joins.append(
            f"JOIN {table} {alias} ON {alias}.{link} = {owner} AND {alias}.key = {self.bind(c.key)}"
        )
        if compare:
            self.where.append(self.compare(f"{alias}.value", c.op, c.value))
        return alias

    def order_item(self, expr: str, ascending: bool, *, nullable: bool, text: bool) -> str:
        """``expr`` in the direction asked, NULLs last either way, strings by code point."""
        if text and self.dialect == "postgresql":
            expr = f'{expr} COLLATE "C"'
        item = f"{expr} {'ASC' if ascending else 'DESC'}"
        # Spell out NULLS LAST only where the dialect's default differs, so SQLite can still walk
        # an index for `start_time DESC` (NULLs sort first there, hence last when descending).
        if nullable and ascending == (self.dialect == "sqlite"):
            item += " NULLS LAST"
        return item

    def fragment(self) -> SqlFragment:
        return SqlFragment(
            joins=" ".join(self.joins),
            where=" AND ".join(self.where) or "1=1",
            order_by=", ".join(self.order),
            params=self.params,
        )


# -------------------------------------------------------------------------------------- runs
def run_column(entity: str, key: str) -> Column | None:
    """The ``runs`` column an attribute (or the run-name tag) means; ``None`` for other keys."""
    if entity == "attribute":
        column = _RUN_COLUMNS.get(key)
        if column is None:
            raise InvalidParameter(f"Invalid run attribute {key!r}")
        return column
    if entity == "tag" and key == RUN_NAME_TAG:
        return _RUN_COLUMNS["run_name"]
    return None


def compile_runs_search(
    filters: list[Comparison], order: list[OrderBy], dialect: str
) -> SqlFragment:
    """Compile parsed runs filters and order-by items against ``runs r``.

    Args:
        filters: from :func:`~mlflowx.store.search.parse_search_filter` (AND-ed).
        order: from :func:`~mlflowx.store.search.parse_order_by`.
        dialect: ``"sqlite"`` or ``"postgresql"``.
    """
    b = SqlBuilder(dialect)
    # Inner joins made for filters, reused for sorting: key -> alias (and whether NaN can pass).
    metric_joins: dict[str, tuple[str, bool]] = {}
    value_joins: dict[tuple[str, str], str] = {}
    for c in filters:
        column = run_column(c.entity, c.key)
        if column is not None:
            b.where.append(b.compare(column.sql, c.op, c.value))
        elif c.entity in KEY_VALUE_TABLES:
            _compile_key_value(b, c, metric_joins, value_joins)
        elif c.entity == "dataset":
            _compile_dataset(b, c)
        else:
            raise InvalidParameter(f"Invalid search entity {c.entity!r}")

    ordered_on_start_time = False
    for o in order:
        column = run_column(o.entity, o.key)
        if column is not None:
            ordered_on_start_time |= column.sql == "r.start_time"
            b.order.append(
                b.order_item(column.sql, o.ascending, nullable=column.nullable, text=column.text)
            )
        elif o.entity == "metric":
            alias, nan_possible = metric_joins.get(o.key, ("", True))
            if not alias:
                alias = b.alias("o")
                b.joins.append(_left_join("latest_metrics", alias, b.bind(o.key)))
                b.order.append(
                    f"CASE WHEN {alias}.run_uuid IS NULL THEN 2 WHEN {alias}.is_nan THEN 1 "
                    "ELSE 0 END"
                )
            elif nan_possible:
                b.order.append(f"CASE WHEN {alias}.is_nan THEN 1 ELSE 0 END")
            b.order.append(f"{alias}.value {'ASC' if o.ascending else 'DESC'}")
        elif o.entity in ("param", "tag"):
            alias = value_joins.get((o.entity, o.key), "")
            if not alias:
                alias = b.alias("o")
                b.joins.append(_left_join(KEY_VALUE_TABLES[o.entity], alias, b.bind(o.key)))
            # Filter joins guarantee a (non-NULL, since it compared) value; left joins do not.
            nullable = alias not in value_joins.values()
            b.order.append(
                b.order_item(f"{alias}.value", o.ascending, nullable=nullable, text=True)
            )
        else:
            raise InvalidParameter(f"Cannot order runs by {o.entity} {o.key!r}")
    if not ordered_on_start_time:
        b.order.append(b.order_item("r.start_time", False, nullable=True, text=False))
    b.order.append(b.order_item("r.run_uuid", True, nullable=False, text=True))
    return b.fragment()


def _left_join(table: str, alias: str, key_param: str) -> str:
    return (
        f"LEFT JOIN {table} {alias} ON {alias}.run_uuid = r.run_uuid AND {alias}.key = {key_param}"
    )


def _compile_key_value(
    b: SqlBuilder,
    c: Comparison,
    metric_joins: dict[str, tuple[str, bool]],
    value_joins: dict[tuple[str, str], str],
) -> None:
    metric = c.entity == "metric"  # compared below: NaN is stored as 0 with a flag
    table = KEY_VALUE_TABLES[c.entity]
    alias = b.key_value(table, "run_uuid", "r.run_uuid", c, compare=not metric)
    if alias is None:
        return
    if not metric:
        value_joins.setdefault((c.entity, c.key), alias)
        return
    if c.op not in _BINARY_OPS or isinstance(c.value, (str, tuple)) or c.value is None:
        raise InvalidParameter(f"Invalid metric comparison {c.op} {c.value!r}")
    value = float(c.value)
    condition = b.compare(f"{alias}.value", c.op, value)
    # NaN is stored as 0: keep the placeholder from matching, and let NaN satisfy `!=`. Only
    # when 0 itself decides the outcome does is_nan need reading; otherwise the (key, value)
    # index answers the clause alone.
    placeholder_matches = _PYTHON_OPS[c.op](0.0, value)
    if c.op == "!=":
        b.where.append(condition if placeholder_matches else f"({condition} OR {alias}.is_nan)")
    else:
        b.where.append(f"{condition} AND NOT {alias}.is_nan" if placeholder_matches else condition)
    nan_possible = c.op == "!="
    if c.key not in metric_joins or (metric_joins[c.key][1] and not nan_possible):
        metric_joins[c.key] = (alias, nan_possible)


def _compile_dataset(b: SqlBuilder, c: Comparison) -> None:
    inputs = b.alias("i")
    if c.key == "context":
        tags = b.alias("t")
        b.where.append(
            f"EXISTS (SELECT 1 FROM inputs {inputs} JOIN input_tags {tags} "
            f"ON {tags}.input_uuid = {inputs}.input_uuid AND {tags}.key = "
            f"{b.bind(DATASET_CONTEXT_TAG)} WHERE {inputs}.run_uuid = r.run_uuid AND "
            f"{b.compare(f'{tags}.value', c.op, c.value)})"
        )
    elif c.key in ("name", "digest"):
        datasets = b.alias("d")
        b.where.append(
            f"EXISTS (SELECT 1 FROM inputs {inputs} JOIN datasets {datasets} "
            f"ON {datasets}.dataset_uuid = {inputs}.dataset_uuid "
            f"WHERE {inputs}.run_uuid = r.run_uuid AND "
            f"{b.compare(f'{datasets}.{c.key}', c.op, c.value)})"
        )
    else:
        raise InvalidParameter(f"Invalid dataset key {c.key!r}")


# ------------------------------------------------------------------------------- experiments
def compile_experiments_search(
    filter_string: str | None, order_by: Sequence[str] | None, dialect: str
) -> SqlFragment:
    """Parse and compile an experiments search against ``experiments e``.

    Filters: ``name`` (``=``, ``!=``, ``LIKE``, ``ILIKE``), ``experiment_id`` (``=``, ``!=``,
    ``IN``, ``NOT IN``), ``creation_time`` and ``last_update_time`` (numeric comparisons) and
    ``tags.<key>`` (string comparisons, ``IN``, ``IS [NOT] NULL``). Order: ``name``,
    ``experiment_id``, ``creation_time``, ``last_update_time``; by default
    ``creation_time DESC, experiment_id ASC``. As in MLflow, ``experiment_id DESC`` breaks ties
    when the order does not name it.
    """
    b = SqlBuilder(dialect)
    for c in parse_experiments_filter(filter_string):
        if c.entity == "attribute":
            column = _EXPERIMENT_COLUMNS[c.key]
            value: Any = c.value
            if c.key == "experiment_id":  # an INTEGER column; the parser checked the digits
                value = tuple(map(int, value)) if isinstance(value, tuple) else int(str(value))
            b.where.append(b.compare(column.sql, c.op, value))
        else:
            b.key_value("experiment_tags", "experiment_id", "e.experiment_id", c)
    order = parse_experiments_order_by(order_by) or [
        OrderBy("attribute", "creation_time", ascending=False),
        OrderBy("attribute", "experiment_id", ascending=True),
    ]
    for o in order:
        column = _EXPERIMENT_COLUMNS[o.key]
        b.order.append(
            b.order_item(column.sql, o.ascending, nullable=column.nullable, text=column.text)
        )
    if not any(o.key == "experiment_id" for o in order):
        b.order.append("e.experiment_id DESC")
    return b.fragment()
