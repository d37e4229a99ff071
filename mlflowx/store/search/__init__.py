"""MLflow's search language for runs and experiments: parse it, compile it to SQL, page it."""

from __future__ import annotations

from mlflowx.store.search.parser import (
    Comparison,
    OrderBy,
    decode_page_token,
    encode_page_token,
    parse_experiments_filter,
    parse_experiments_order_by,
    parse_order_by,
    parse_search_filter,
)
from mlflowx.store.search.sql import SqlFragment, compile_experiments_search, compile_runs_search

__all__ = [
    "Comparison",
    "OrderBy",
    "SqlFragment",
    "compile_experiments_search",
    "compile_runs_search",
    "decode_page_token",
    "encode_page_token",
    "parse_experiments_filter",
    "parse_experiments_order_by",
    "parse_order_by",
    "parse_search_filter",
]
