"""Search over logged models (MLflow 3's ``SearchLoggedModels``), compiled to SQL.

Filters: ``name``, ``model_id``, ``source_run_id``, ``status``, ``model_type`` (string
comparisons, ``IN``), ``creation_timestamp`` / ``last_updated_timestamp`` (numeric), and
``tags.<key>`` / ``params.<key>``. Order by those attributes; newest first by default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlflowx.store.search.parser import (
    _LIST_OPS,
    _NULL_OPS,
    _NUMERIC_OPS,
    _STRING_OPS,
    OrderBy,
    _Grammar,
    _parse_filter,
    _parse_order_by,
)
from mlflowx.store.search.sql import SqlFragment, _Builder, _Column

__all__ = ["compile_logged_models_search"]

LOGGED_MODELS = _Grammar(
    what="logged models",
    entities={
        "attribute": "attribute",
        "attributes": "attribute",
        "tag": "tag",
        "tags": "tag",
        "param": "param",
        "params": "param",
    },
    attributes={
        "name": "string",
        "model_id": "string",
        "source_run_id": "string",
        "status": "string",
        "model_type": "string",
        "creation_timestamp": "number",
        "last_updated_timestamp": "number",
    },
    attribute_aliases={
        "creation_time": "creation_timestamp",
        "last_updated_time": "last_updated_timestamp",
    },
    comparators={
        "tag": _STRING_OPS | _LIST_OPS | _NULL_OPS,
        "param": _STRING_OPS | _LIST_OPS | _NULL_OPS,
        "attribute:string": _STRING_OPS | _LIST_OPS,
        "attribute:number": _NUMERIC_OPS,
    },
    order_entities=frozenset({"attribute"}),
)

_COLUMNS = {
    "name": _Column("m.name", nullable=False, text=True),
    "model_id": _Column("m.model_id", nullable=False, text=True),
    "source_run_id": _Column("m.source_run_id", nullable=True, text=True),
    "status": _Column("m.status", nullable=False, text=True),
    "model_type": _Column("m.model_type", nullable=True, text=True),
    "creation_timestamp": _Column("m.creation_timestamp_ms", nullable=False, text=False),
    "last_updated_timestamp": _Column("m.last_updated_timestamp_ms", nullable=False, text=False),
}
_KV_TABLES = {"tag": "logged_model_tags", "param": "logged_model_params"}


def compile_logged_models_search(
    filter_string: str | None, order_by: Sequence[str] | None, dialect: str
) -> SqlFragment:
    """Parse and compile a logged-models search against ``logged_models m``."""
    b = _Builder(dialect)
    for c in _parse_filter(filter_string, LOGGED_MODELS):
        if c.entity == "attribute":
            value: Any = c.value
            b.where.append(b.compare(_COLUMNS[c.key].sql, c.op, value))
            continue
        table = _KV_TABLES[c.entity]
        if c.op in ("IS NULL", "IS NOT NULL"):
            alias = b.alias("x")
            exists = (
                f"EXISTS (SELECT 1 FROM {table} {alias} WHERE {alias}.model_id = m.model_id "
                f"AND {alias}.key = {b.bind(c.key)})"
            )
            b.where.append(exists if c.op == "IS NOT NULL" else f"NOT {exists}")
        else:
            alias = b.alias("j")
            b.joins.append(
                f"JOIN {table} {alias} ON {alias}.model_id = m.model_id "
                f"AND {alias}.key = {b.bind(c.key)}"
            )
            b.where.append(b.compare(f"{alias}.value", c.op, c.value))
    order = _parse_order_by(order_by, LOGGED_MODELS) or [
        OrderBy("attribute", "creation_timestamp", ascending=False)
    ]
    for o in order:
        column = _COLUMNS[o.key]
        b.order.append(
            b.order_item(column.sql, o.ascending, nullable=column.nullable, text=column.text)
        )
    b.order.append(b.order_item("m.model_id", True, nullable=False, text=True))
    return b.fragment()
