"""Search over logged models (MLflow 3's ``SearchLoggedModels``), compiled to SQL.

Filters: ``name``, ``model_id``, ``source_run_id``, ``status``, ``model_type`` (string
comparisons, ``IN``), ``creation_timestamp`` / ``last_updated_timestamp`` (numeric), and
``tags.<key>`` / ``params.<key>``. Order by those attributes; newest first by default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlflowx.store.search.parser import (
    LIST_OPS,
    NULL_OPS,
    NUMERIC_OPS,
    STRING_OPS,
    Grammar,
    OrderBy,
    parse_filter_with,
    parse_order_by_with,
)
from mlflowx.store.search.sql import Column, SqlBuilder, SqlFragment

__all__ = ["compile_logged_models_search"]

LOGGED_MODELS = Grammar(
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
        "tag": STRING_OPS | LIST_OPS | NULL_OPS,
        "param": STRING_OPS | LIST_OPS | NULL_OPS,
        "attribute:string": STRING_OPS | LIST_OPS,
        "attribute:number": NUMERIC_OPS,
    },
    order_entities=frozenset({"attribute"}),
)

_COLUMNS = {
    "name": Column("m.name", nullable=False, text=True),
    "model_id": Column("m.model_id", nullable=False, text=True),
    "source_run_id": Column("m.source_run_id", nullable=True, text=True),
    "status": Column("m.status", nullable=False, text=True),
    "model_type": Column("m.model_type", nullable=True, text=True),
    "creation_timestamp": Column("m.creation_timestamp_ms", nullable=False, text=False),
    "last_updated_timestamp": Column("m.last_updated_timestamp_ms", nullable=False, text=False),
}
_KV_TABLES = {"tag": "logged_model_tags", "param": "logged_model_params"}


def compile_logged_models_search(
    filter_string: str | None, order_by: Sequence[str] | None, dialect: str
) -> SqlFragment:
    """Parse and compile a logged-models search against ``logged_models m``."""
    b = SqlBuilder(dialect)
    for c in parse_filter_with(filter_string, LOGGED_MODELS):
        if c.entity == "attribute":
            value: Any = c.value
            b.where.append(b.compare(_COLUMNS[c.key].sql, c.op, value))
            continue
        b.key_value(_KV_TABLES[c.entity], "model_id", "m.model_id", c)
    order = parse_order_by_with(order_by, LOGGED_MODELS) or [
        OrderBy("attribute", "creation_timestamp", ascending=False)
    ]
    for o in order:
        column = _COLUMNS[o.key]
        b.order.append(
            b.order_item(column.sql, o.ascending, nullable=column.nullable, text=column.text)
        )
    b.order.append(b.order_item("m.model_id", True, nullable=False, text=True))
    return b.fragment()
