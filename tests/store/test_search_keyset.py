"""Keyset page tokens through the store (directly and over REST): pages join up to the full
result, MLflow's offset tokens still work, and a token replayed on another search fails."""

from __future__ import annotations

import base64
import json
import math

import pytest

from mlflowx.entities import Metric, Param
from mlflowx.exceptions import InvalidParameter
from mlflowx.store.search import encode_page_token
from mlflowx.store.tracking.sql import SqlTrackingStore


def _seed(store: SqlTrackingStore) -> str:
    eid = store.create_experiment("keyset")
    values = [0.5, math.nan, None, 0.1, 0.5, None, 0.9, math.nan, 0.3]
    for i, value in enumerate(values):
        run_id = store.create_run(eid, None, 1000 + i % 4, [], f"r{i}").info.run_id
        metrics = [] if value is None else [Metric("m", value, 1, 0)]
        store.log_batch(run_id, metrics=metrics, params=[Param("p", "ab"[i % 2])])
    return eid


def _names(runs: object) -> list[str]:
    return [r.info.run_name for r in runs]  # type: ignore[attr-defined]


def _all_pages(store: SqlTrackingStore, eid: str, order: list[str], size: int) -> list[str]:
    names, token = [], None
    for _ in range(20):
        page = store.search_runs([eid], "params.p = 'a'", order_by=order, max_results=size,
                                 page_token=token)  # fmt: skip
        names += _names(page)
        token = page.token
        if not token:
            return names
    raise AssertionError("paging does not end")


@pytest.mark.parametrize(
    "order", [["metrics.m DESC"], ["metrics.m"], ["params.p"], ["start_time"], ["run_name DESC"]]
)
def test_pages_join_up_to_the_whole_result(store: SqlTrackingStore, order: list[str]) -> None:
    eid = _seed(store)
    whole = _names(store.search_runs([eid], "params.p = 'a'", order_by=order, max_results=100))
    assert len(whole) == 5
    for size in (1, 2, 4):
        assert _all_pages(store, eid, order, size) == whole


def test_nan_then_missing_last_in_both_directions(store: SqlTrackingStore) -> None:
    eid = _seed(store)
    # r1, r7 NaN (start 1001, 1003); r2, r5 missing (1002, 1001): newest first within each.
    expected_tail = ["r7", "r1", "r2", "r5"]
    for order in (["metrics.m DESC"], ["metrics.m ASC"]):
        every = store.search_runs([eid], "", order_by=order, max_results=2)
        pages = _names(every)
        token = every.token
        while token:
            more = store.search_runs([eid], "", order_by=order, max_results=2, page_token=token)
            pages += _names(more)
            token = more.token
        assert pages[-4:] == expected_tail


def test_offset_token_from_mlflow_still_pages(store: SqlTrackingStore) -> None:
    eid = _seed(store)
    whole = _names(store.search_runs([eid], "", order_by=["metrics.m DESC"]))
    page = store.search_runs(
        [eid], "", order_by=["metrics.m DESC"], max_results=3, page_token=encode_page_token(4)
    )
    assert _names(page) == whole[4:7]
    assert page.token


def test_token_of_another_search_is_refused(store: SqlTrackingStore) -> None:
    eid = _seed(store)
    page = store.search_runs([eid], "", order_by=["metrics.m DESC"], max_results=2)
    assert page.token
    with pytest.raises(InvalidParameter, match="made for another search"):
        store.search_runs([eid], "", order_by=["metrics.m ASC"], max_results=2,
                          page_token=page.token)  # fmt: skip


def test_tampered_keyset_token_fails_clearly(store: SqlTrackingStore) -> None:
    eid = _seed(store)
    page = store.search_runs([eid], "", order_by=["metrics.m DESC"], max_results=2)
    assert page.token
    payload = json.loads(base64.b64decode(page.token))
    payload["after"] = ["not a number", 1, "x"]
    bad = base64.b64encode(json.dumps(payload).encode()).decode()
    with pytest.raises(InvalidParameter, match="does not fit this search's order"):
        store.search_runs([eid], "", order_by=["metrics.m DESC"], max_results=2, page_token=bad)
