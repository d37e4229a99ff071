"""One metric's full history (``get_metric_history``) and its pages, on every backend (SQLite,
PostgreSQL; direct and through REST), against a reference computed in Python from MLflow's
order (timestamp, step, value) and against MLflow's own store."""

from __future__ import annotations

import base64
import json
import math
import random
import struct
from pathlib import Path

import pytest

from mlflowx.entities import Metric
from mlflowx.exceptions import InvalidParameter
from mlflowx.store.tracking.base import TrackingStore
from mlflowx.store.tracking.history import packed_history_entities
from mlflowx.tracking.client import MlflowxClient

Point = tuple[int, int, float]  # timestamp, step, value


def reference_history(points: list[Point]) -> list[Point]:
    """MLflow's order: timestamp, step, value (NaN is stored as 0 with a flag, as in MLflow, and
    sorts after a 0 of the same timestamp and step)."""
    return sorted(points, key=lambda p: (p[0], p[1], _stored(p[2]), math.isnan(p[2])))


def _stored(value: float) -> float:
    return 0.0 if math.isnan(value) else value


def _history(rng: random.Random, n: int) -> list[Point]:
    """Timestamps that go back and forth against the steps, repeated steps and timestamps,
    equal (timestamp, step) with other values, NaN, infinities and zero."""
    points = set()
    for i in range(n):
        step = i // 4 if i % 3 else rng.randrange(n)
        ts = 1_700_000_000_000 + (rng.randrange(50) if i % 7 == 0 else i // 2)
        value = rng.choice([0.0, float("nan"), float("inf"), -float("inf"), rng.uniform(-9, 9)])
        points.add((ts, step, value if not math.isnan(value) else float("nan")))
    unique = {(t, s, _stored(v), math.isnan(v)): (t, s, v) for t, s, v in points}
    return list(unique.values())


def _log(store: TrackingStore, points: list[Point], key: str = "loss") -> str:
    run = store.create_run("0", "u", 1, [], None)
    shuffled = random.Random(5).sample(points, len(points))
    metrics = [Metric(key, v, ts, step) for ts, step, v in shuffled]
    for i in range(0, len(metrics), 1000):
        store.log_batch(run.info.run_id, metrics=metrics[i : i + 1000])
    return run.info.run_id


def _points(metrics: list[Metric]) -> list[tuple[int, int, float | str]]:
    return [(m.timestamp, m.step, "nan" if math.isnan(m.value) else m.value) for m in metrics]


def _same(got: list[Metric], want: list[Point]) -> bool:
    return _points(got) == [(t, s, "nan" if math.isnan(v) else v) for t, s, v in want]


def _all_pages(store: TrackingStore, run_id: str, size: int) -> tuple[list[Metric], int]:
    points: list[Metric] = []
    token, pages = None, 0
    while True:
        page = store.get_metric_history(run_id, "loss", size, token)
        assert len(page) <= size
        points += page
        pages += 1
        token = page.token
        if not token:
            return points, pages


def test_full_history_matches_the_reference(store: TrackingStore) -> None:
    rng = random.Random(11)
    for n in (0, 1, 7, 2500):
        points = _history(rng, n)
        run_id = _log(store, points)
        got = store.get_metric_history(run_id, "loss")
        assert got.token is None
        assert _same(got, reference_history(points)), n
        assert {m.run_id for m in got} <= {run_id}
        assert {m.key for m in got} <= {"loss"}


@pytest.mark.parametrize("size", [1, 3, 100, 999, 5000])
def test_pages_join_into_the_full_history(store: TrackingStore, size: int) -> None:
    points = _history(random.Random(size), 1000)
    run_id = _log(store, points)
    got, pages = _all_pages(store, run_id, size)
    assert _same(got, reference_history(points))
    assert pages == max(1, math.ceil(len(points) / size))


def test_a_page_token_from_mlflow_is_an_offset(store: TrackingStore) -> None:
    """MLflow's tokens are ``{"offset": n}``: one replayed against mlflowx still works."""
    points = [(1000 + s, s, float(s)) for s in range(30)]
    run_id = _log(store, points)
    offset = base64.b64encode(json.dumps({"offset": 12}).encode()).decode()
    page = store.get_metric_history(run_id, "loss", 10, offset)
    assert [m.step for m in page] == list(range(12, 22))
    rest = store.get_metric_history(run_id, "loss", 100, page.token)
    assert [m.step for m in rest] == list(range(22, 30))
    assert rest.token is None
    assert [m.step for m in store.get_metric_history(run_id, "loss", None, offset)] == list(
        range(12, 30)
    )


def test_a_token_resumes_after_its_point_even_without_a_page_size(store: TrackingStore) -> None:
    run_id = _log(store, [(1000 - s, s, 0.5) for s in range(20)])  # timestamps run backwards
    first = store.get_metric_history(run_id, "loss", 5)
    assert [m.step for m in first] == [19, 18, 17, 16, 15]
    rest = store.get_metric_history(run_id, "loss", None, first.token)
    assert [m.step for m in rest] == list(range(14, -1, -1))


@pytest.mark.parametrize(
    "token",
    [
        "not base64!",
        base64.b64encode(b'{"after": [1, 2]}').decode(),
        base64.b64encode(b'{"after": [1, 2, "x", false]}').decode(),
        base64.b64encode(b'{"after": [1, 2, NaN, false]}').decode(),
        base64.b64encode(b'{"offset": -1}').decode(),
    ],
)
def test_a_bad_token_is_refused(store: TrackingStore, token: str) -> None:
    run_id = _log(store, [(1, 0, 1.0)])
    with pytest.raises(InvalidParameter, match="Invalid page token"):
        store.get_metric_history(run_id, "loss", 10, token)


def test_extreme_steps_and_timestamps_keep_their_order(store: TrackingStore) -> None:
    """The int64 ends, where a difference of two steps would overflow."""
    big, small = 2**63 - 1, -(2**63)
    points = [(0, big, 1.0), (0, small, 2.0), (big, 0, 3.0), (big, small, 4.0), (1, -1, 0.0)]
    run_id = _log(store, points)
    assert _same(store.get_metric_history(run_id, "loss"), reference_history(points))
    assert _same(_all_pages(store, run_id, 2)[0], reference_history(points))


def _packed(rows: list[tuple[int, int, float, bool]]) -> tuple[bytes, bytes, bytes, bytes]:
    """Rows packed as PostgreSQL's int8send/float8send/boolsend aggregates send them."""
    n = len(rows)
    ts, steps, values, nans = zip(*rows, strict=True) if rows else ((), (), (), ())
    return (
        struct.pack(f">{n}q", *ts),
        struct.pack(f">{n}q", *steps),
        struct.pack(f">{n}d", *values),
        bytes(nans),
    )


@pytest.mark.parametrize("seed", range(6))
def test_a_packed_history_comes_out_in_mlflows_order(seed: int) -> None:
    """Rows in any order, with ties on every column but the last, come out as Python sorts the
    row tuples (the order of the row-by-row reader); NaN values are stored as 0.0 and flagged."""
    rng = random.Random(seed)
    stored = {
        (rng.randrange(-3, 4), rng.choice([-(2**63), -1, 0, 1, 2**63 - 1]), v, v == 0.0 and nan)
        for _ in range(400)
        for v, nan in [(rng.choice([0.0, -1.5, 2.0, float("inf")]), rng.random() < 0.5)]
    }
    rows = list(stored)
    if seed % 2:
        rows.sort()  # already in order: nothing to sort
    else:
        rng.shuffle(rows)
    got = packed_history_entities("k", "r", *_packed(rows))
    want = sorted(rows)
    assert [(m.timestamp, m.step) for m in got] == [(t, s) for t, s, _, _ in want]
    assert [math.isnan(m.value) for m in got] == [nan for *_, nan in want]
    assert [m.value for m in got if not math.isnan(m.value)] == [v for _, _, v, n in want if not n]
    assert {(m.key, m.run_id) for m in got} == {("k", "r")}
    assert all(type(m.timestamp) is int and type(m.value) is float for m in got)


def test_a_packed_history_with_columns_of_different_lengths_is_refused() -> None:
    ts, steps, values, nans = _packed([(1, 1, 1.0, False), (2, 2, 2.0, False)])
    with pytest.raises(ValueError, match="different lengths"):
        packed_history_entities("k", "r", ts, steps, values, nans[:1])


def test_the_client_reads_the_whole_history(tracking_uri: str) -> None:
    client = MlflowxClient(tracking_uri)
    points = _history(random.Random(2), 3000)
    run_id = _log(client.store, points)
    got = client.get_metric_history(run_id, "loss")
    assert type(got) is list
    assert _same(got, reference_history(points))


# MLflow's own store, on SQLAlchemy 2.1, uses the deprecated ``noload`` option: theirs, checked.
@pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated")
def test_same_history_and_pages_as_mlflow(tmp_path: Path) -> None:
    """MLflow 3.17's SQL store and ours, given the same points, return the same history in the
    same order, whole and page by page."""
    from mlflow.entities import Metric as MlflowMetric
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    from mlflowx.store.tracking.sql import SqlTrackingStore

    theirs = SqlAlchemyStore(f"sqlite:///{tmp_path / 'mlflow.db'}", str(tmp_path / "a"))
    ours = SqlTrackingStore(f"sqlite:///{tmp_path / 'ours.db'}")
    # No infinities here: MLflow stores them as the largest finite float.
    rng = random.Random(4)
    points = [(t, s, v) for t, s, v in _history(rng, 1500) if not math.isinf(v)]
    their_run = theirs.create_run("0", "u", 1, [], "r").info.run_id
    batch = [MlflowMetric("loss", v, ts, step) for ts, step, v in points]
    for i in range(0, len(batch), 1000):
        theirs.log_batch(their_run, batch[i : i + 1000], [], [])
    our_run = _log(ours, points)

    def pages(store: object, run_id: str, size: int | None) -> list[list[Metric]]:
        out, token = [], None
        while True:
            page = store.get_metric_history(run_id, "loss", size, token)  # type: ignore[attr-defined]
            out.append(list(page))
            token = page.token
            if not token:
                return out

    for size in (None, 1, 7, 250, 5000):
        want = pages(theirs, their_run, size)
        got = pages(ours, our_run, size)
        assert [_points(p) for p in got] == [_points(p) for p in want], size
    ours.close()
