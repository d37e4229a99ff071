"""MLflow's search language for runs and experiments: parse it, compile it to SQL, page it."""

from __future__ import annotations

from mlflowx.store.search.keyset import (
    KeysetPlan,
    decode_keyset_token,
    encode_keyset_token,
    keyset_page,
    plan_runs_keyset,
    search_fingerprint,
)
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
    "KeysetPlan",
    "OrderBy",
    "SqlFragment",
    "compile_experiments_search",
    "compile_runs_search",
    "decode_keyset_token",
    "decode_page_token",
    "encode_keyset_token",
    "encode_page_token",
    "keyset_page",
    "parse_experiments_filter",
    "parse_experiments_order_by",
    "parse_order_by",
    "parse_search_filter",
    "plan_runs_keyset",
    "search_fingerprint",
]
