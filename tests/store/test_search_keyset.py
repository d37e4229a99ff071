"""Keyset page tokens through the store (directly and over REST): pages join up to the full
result, MLflow's offset tokens still work, and a token replayed on another search fails."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import pytest

from mlflowx.entities import Metric, Param, RunStatus, RunTag
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


def _seed_ended(store: SqlTrackingStore) -> tuple[str, dict[str, tuple[str, int | None]]]:
    """Runs of several statuses, some ended (end times with ties), some still running."""
    eid = store.create_experiment("ended")
    statuses = [RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED, RunStatus.RUNNING]
    ended: dict[str, tuple[str, int | None]] = {}
    for i in range(11):
        run_id = store.create_run(eid, None, 1000 + i % 5, [], f"e{i}").info.run_id
        status, end = statuses[i % 4], None if i % 4 == 3 else 2000 + i % 3
        store.update_run_info(run_id, status, end, None)
        ended[f"e{i}"] = (status.value, end)
    return eid, ended


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
    "order",
    [
        ["metrics.m DESC"],
        ["metrics.m"],
        ["params.p"],
        ["start_time"],
        ["run_name DESC"],
        ["params.p", "metrics.m DESC"],
        ["start_time", "metrics.m"],
        ["metrics.m DESC", "run_name"],
    ],
)
def test_pages_join_up_to_the_whole_result(store: SqlTrackingStore, order: list[str]) -> None:
    eid = _seed(store)
    whole = _names(store.search_runs([eid], "params.p = 'a'", order_by=order, max_results=100))
    assert len(whole) == 5
    for size in (1, 2, 4):
        assert _all_pages(store, eid, order, size) == whole


@pytest.mark.parametrize("key", ["status", "end_time"])
@pytest.mark.parametrize("ascending", [True, False])
def test_status_and_end_time_pages_follow_mlflow_order(
    store: SqlTrackingStore, key: str, ascending: bool
) -> None:
    """Ordered by an indexed run column (migration 0008): values, then runs without one; ties
    newest first, then by run id; the same in pages of any size."""
    eid, ended = _seed_ended(store)
    start = {f"e{i}": 1000 + i % 5 for i in range(11)}
    ids = {r.info.run_name: r.info.run_id for r in store.search_runs([eid], "", max_results=100)}
    ordered = sorted(ended, key=lambda n: ids[n])
    ordered.sort(key=lambda n: -start[n])
    value = {n: ended[n][0 if key == "status" else 1] for n in ended}
    present = sorted((n for n in ordered if value[n] is not None), key=lambda n: value[n],
                     reverse=not ascending)  # fmt: skip
    expected = present + [n for n in ordered if value[n] is None]
    order = [f"{key} {'ASC' if ascending else 'DESC'}"]
    for size in (1, 3, 100):
        names, token = [], None
        while True:
            page = store.search_runs([eid], "", order_by=order, max_results=size,
                                     page_token=token)  # fmt: skip
            names += _names(page)
            token = page.token
            if not token:
                break
        assert names == expected, size


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


def test_long_values_sharing_the_indexed_prefix_sort_by_the_whole_value(
    store: SqlTrackingStore,
) -> None:
    """PostgreSQL walks params by their first VALUE_PREFIX characters, then the whole value."""
    from mlflowx.store.search.keyset import VALUE_PREFIX
    from mlflowx.store.sql.tables import VALUE_PREFIX as INDEXED_PREFIX

    assert VALUE_PREFIX == INDEXED_PREFIX
    eid = store.create_experiment("long")
    stem = "x" * VALUE_PREFIX
    values = [stem + "b", stem + "a" * 900, stem[:-1] + "y", stem + "a", stem, "é" + stem, "Z"]
    for i, value in enumerate(values):
        run_id = store.create_run(eid, None, 1000 + i, [], f"v{i}").info.run_id
        store.log_batch(run_id, params=[Param("p", value)])
    by_value = {f"v{i}": value for i, value in enumerate(values)}
    for ascending in (True, False):
        expected = sorted(by_value, key=by_value.__getitem__, reverse=not ascending)
        order = [f"params.p {'ASC' if ascending else 'DESC'}"]
        names, token = [], None
        while True:
            page = store.search_runs([eid], "", order_by=order, max_results=2, page_token=token)
            names += _names(page)
            token = page.token
            if not token:
                break
        assert names == expected


@pytest.mark.parametrize("ascending", [True, False])
@pytest.mark.parametrize(
    ("where", "keep"),
    [
        ("metrics.m >= 0.3", lambda v: v >= 0.3),
        ("metrics.m < 0.5", lambda v: v < 0.5),
        ("metrics.m = 0.5", lambda v: v == 0.5),
        ("metrics.m > 0.2 AND metrics.m <= 0.5", lambda v: 0.2 < v <= 0.5),
    ],
)
def test_range_on_the_order_metric_bounds_the_walk(
    store: SqlTrackingStore, ascending: bool, where: str, keep: Any
) -> None:
    """A range filter on the metric the search is ordered by is answered by walking that
    metric's index within the range: the same runs, in order, page after page."""
    eid = _seed(store)
    runs = store.search_runs([eid], "", max_results=100)
    values = {r.info.run_name: r.data.metrics.get("m") for r in runs}
    kept = [n for n, v in values.items() if v is not None and not math.isnan(v) and keep(v)]
    assert kept
    order = [f"metrics.m {'ASC' if ascending else 'DESC'}"]
    names, token = [], None
    while True:
        page = store.search_runs([eid], where, order_by=order, max_results=1, page_token=token)
        names += _names(page)
        token = page.token
        if not token:
            break
    assert [values[n] for n in names] == sorted((values[n] for n in kept), reverse=not ascending)
    assert sorted(names) == sorted(kept)


def _seed_groups(store: SqlTrackingStore) -> tuple[str, dict[str, tuple[str | None, int | None]]]:
    """Runs tagged with few distinct values (long runs of ties, start times with ties, some
    without a start time), values longer than the indexed prefix that share it, and runs
    without the tag."""
    eid = store.create_experiment("groups")
    long = "x" * 200
    values = ["b", "a", "b", "b", None, "a", "c", "b", long + "2", "b", long + "1", "a", None,
              "b", long + "1", "b", "é", "b", long + "2", "c", "b", None, "b"]  # fmt: skip
    runs: dict[str, tuple[str | None, int | None]] = {}
    for i, value in enumerate(values):
        start = 1000 + i % 4
        run_id = store.create_run(eid, None, start, [], f"g{i}").info.run_id
        tags = [] if value is None else [RunTag("team", value)]
        store.log_batch(run_id, metrics=[Metric("m", i % 3, 1, 0)], tags=tags)
        runs[run_id] = (value, None if i % 7 == 2 else start)
    with store.db.write() as conn:  # MLflow's API always sets one; older rows may lack it
        for run_id, (_, start) in runs.items():
            if start is None:
                conn.execute("UPDATE runs SET start_time = NULL WHERE run_uuid = :r", {"r": run_id})
    return eid, runs


@pytest.mark.parametrize("window", [2, 3, 2_000])
@pytest.mark.parametrize("ascending", [True, False])
@pytest.mark.parametrize("where", ["", "metrics.m > 0"])
def test_tag_order_with_few_values_pages_group_by_group(
    tracking_uri: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    window: int,
    ascending: bool,
    where: str,
) -> None:
    """Ordered by a tag with few distinct values, read group by group (a group of at least
    GROUP_WINDOW rows by start time): MLflow's order (values by code point, ties newest first,
    then by run id, runs without the tag last) in pages of any size, tokens round-trip."""
    from mlflowx.store.search import keyset

    monkeypatch.setattr(keyset, "GROUP_WINDOW", window)
    store = SqlTrackingStore(tracking_uri, default_artifact_root=str(tmp_path / "artifacts"))
    eid, runs = _seed_groups(store)
    metric = {r.info.run_id: r.data.metrics["m"] for r in store.search_runs([eid], "")}
    kept = [i for i in runs if not where or metric[i] > 0]
    newest = sorted(sorted(kept), key=lambda i: (runs[i][1] is None, -(runs[i][1] or 0)))
    present = sorted((i for i in newest if runs[i][0] is not None),
                     key=lambda i: str(runs[i][0]), reverse=not ascending)  # fmt: skip
    expected = present + [i for i in newest if runs[i][0] is None]
    order = [f"tags.team {'ASC' if ascending else 'DESC'}"]
    for size in (1, 2, 5, 100):
        assert _run_ids_page_by_page(store, eid, where, order, size) == expected, size
    store.close()


def test_tag_order_with_a_second_column_reads_large_groups_in_its_order(
    tracking_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a second order column, ties of the tag are broken by it, not newest first: a large
    group is read in the second column's order (start times, oldest first, then none)."""
    from mlflowx.store.search import keyset

    monkeypatch.setattr(keyset, "GROUP_WINDOW", 2)
    store = SqlTrackingStore(tracking_uri, default_artifact_root=str(tmp_path / "artifacts"))
    eid, runs = _seed_groups(store)
    oldest = sorted(sorted(runs), key=lambda i: (runs[i][1] is None, runs[i][1] or 0))
    present = sorted((i for i in oldest if runs[i][0] is not None), key=lambda i: str(runs[i][0]))
    expected = present + [i for i in oldest if runs[i][0] is None]
    order = ["tags.team ASC", "attributes.start_time ASC"]
    for size in (1, 3, 100):
        assert _run_ids_page_by_page(store, eid, "", order, size) == expected, size
    store.close()


def _run_ids_page_by_page(
    store: SqlTrackingStore, eid: str, where: str, order: list[str], size: int
) -> list[str]:
    """Run ids of every page of a search, each page asked with the previous page's token."""
    ids: list[str] = []
    token = None
    while True:
        page = store.search_runs([eid], where, order_by=order, max_results=size,
                                 page_token=token)  # fmt: skip
        ids += [r.info.run_id for r in page]
        token = page.token
        if not token:
            return ids
