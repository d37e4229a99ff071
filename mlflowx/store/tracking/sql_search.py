"""Searching runs in the SQL tracking store (keyset pages; offsets for MLflow's page tokens): a
mixin of ``SqlTrackingStore``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlflowx.entities import PagedList, Run, ViewType
from mlflowx.exceptions import InvalidParameter
from mlflowx.store.search import (
    KeysetPlan,
    compile_runs_search,
    decode_keyset_token,
    decode_page_token,
    encode_keyset_token,
    encode_page_token,
    keyset_page,
    parse_order_by,
    parse_search_filter,
    plan_runs_keyset,
    search_fingerprint,
)
from mlflowx.store.tracking.base import SEARCH_MAX_RESULTS_DEFAULT
from mlflowx.store.tracking.sql_runs import RunsMixin
from mlflowx.utils import validation as v

__all__ = ["SearchMixin"]

#: PostgreSQL: plan every search statement for the values it is run with. psycopg prepares a
#: statement on its fifth run, and PostgreSQL may then keep a generic plan that ignores the
#: bound values (the page's start, the filter's constants): measured at 100,000 runs, page 50 of
#: ``metrics.m1 > 0.5`` ordered by ``tags.team`` took 952 ms with the generic plan, 35 ms with
#: its own. ``LOCAL``: only for the search's read transaction.
CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan"


class SearchMixin(RunsMixin):
    """``search_runs``."""

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        if isinstance(experiment_ids, str):
            experiment_ids = [experiment_ids]
        eids = [self._experiment_int(e) for e in experiment_ids]
        view_type = ViewType.parse(run_view_type)
        max_results = v.validate_max_results(max_results, v.MAX_RESULTS_SEARCH_RUNS)
        offset = decode_page_token(page_token)
        filters, order = parse_search_filter(filter_string), parse_order_by(order_by)
        frag = compile_runs_search(filters, order, self.db.dialect)
        if not eids:
            return PagedList([], None)
        stages = view_type.stages()
        params: dict[str, Any] = {f"e{i}": e for i, e in enumerate(eids)}
        params.update({f"ls{i}": s.value for i, s in enumerate(stages)})
        scope = (
            f"r.experiment_id IN ({', '.join(f':e{i}' for i in range(len(eids)))}) "
            f"AND r.lifecycle_stage IN ({', '.join(f':ls{i}' for i in range(len(stages)))})"
        )
        keyset = decode_keyset_token(page_token)
        if keyset is not None or offset == 0:
            plan = plan_runs_keyset(filters, order, self.db.dialect)
            return self._search_runs_keyset(
                plan, scope, params, max_results, offset, keyset, (eids, stages, filters, order)
            )
        # An offset token: from MLflow, or from an mlflowx that paged several order columns so.
        params.update(frag.params)
        params.update({"limit": max_results + 1, "offset": offset})
        sql = (
            f"SELECT r.run_uuid FROM runs r {frag.joins} WHERE {scope} "
            f"AND ({frag.where}) ORDER BY {frag.order_by} LIMIT :limit OFFSET :offset"
        )
        with self.db.read() as conn:
            if conn.dialect == "postgresql":
                conn.execute(CUSTOM_PLANS)
            ids = [r[0] for r in conn.execute(sql, params)]
            page = ids[:max_results]
            loaded = self._load_runs(conn, page)
        token = encode_page_token(offset + max_results) if len(ids) > max_results else None
        return PagedList([loaded[i] for i in page], token)

    def _search_runs_keyset(
        self,
        plan: KeysetPlan,
        scope: str,
        scope_params: dict[str, Any],
        max_results: int,
        offset: int,
        keyset: tuple[int, list[Any], str] | None,
        search: tuple[Any, ...],
    ) -> PagedList[Run]:
        fingerprint = search_fingerprint(*search)
        start = None
        if keyset is not None:
            segment, after, made_for = keyset
            if made_for != fingerprint:
                raise InvalidParameter(
                    "Invalid page token: it was made for another search (experiments, filter, "
                    "order or view type differ); start again without a page token"
                )
            start = (segment, after)
        with self.db.read() as conn:
            if conn.dialect == "postgresql":
                conn.execute(CUSTOM_PLANS)
            ids, following = keyset_page(
                plan, conn.execute, scope, scope_params, max_results, start
            )
            loaded = self._load_runs(conn, ids)
        token = None
        if following is not None:
            token = encode_keyset_token(offset + len(ids), *following, fingerprint)
        return PagedList([loaded[i] for i in ids], token)
