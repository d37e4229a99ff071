"""Bulk metric histories for charts: ``get_metric_history_bulk`` and the downsampled
``get_metric_history_bulk_interval``, on every backend (SQLite, PostgreSQL; direct and REST),
against a reference written from MLflow's documented rule, and against MLflow's own store."""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from mlflowx.entities import Metric
from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.store.tracking.base import TrackingStore

Point = tuple[int, int, float]  # step, timestamp, value


def reference_sample(points: list[Point], buckets: int) -> list[Point]:
    """MLflow's rule, spelled out: rows ordered by (step, timestamp, value, is_nan) are cut into
    ``buckets`` NTILE buckets, the first row of each is kept, and the last row always is (in the
    last place when the sample is full)."""
    ordered = sorted(points, key=lambda p: (p[0], p[1], _order_value(p[2]), math.isnan(p[2])))
    n = len(ordered)
    if n <= buckets:
        return ordered
    q, r = divmod(n, buckets)
    starts, i = [], 0
    for b in range(buckets):
        starts.append(i)
        i += q + 1 if b < r else q
    sample = [ordered[s] for s in starts]
    if starts[-1] != n - 1:
        sample[-1] = ordered[-1]
    return sample


def _order_value(value: float) -> float:
    return 0.0 if math.isnan(value) else value  # NaN is stored as 0 with a flag, as in MLflow


def _same(a: list[Point], b: list[Point]) -> bool:
    return len(a) == len(b) and all(
        x[:2] == y[:2] and (x[2] == y[2] or (math.isnan(x[2]) and math.isnan(y[2])))
        for x, y in zip(a, b, strict=True)
    )


def _clamp(value: float) -> float:
    if math.isnan(value):
        return value
    return max(-sys.float_info.max, min(sys.float_info.max, value))


def _history(rng: random.Random, n: int) -> list[Point]:
    points = []
    for i in range(n):
        step = i // 3 if i % 5 == 0 else i  # some steps repeat
        value = (
            rng.choice([rng.uniform(-5, 5), float("nan"), float("inf"), 0.0])
            if i % 17 == 3
            else rng.uniform(-5, 5)
        )
        points.append((step, 1_700_000_000_000 + rng.randrange(10_000), value))
    return points


def _log(store: TrackingStore, points: list[Point], key: str = "loss") -> str:
    run = store.create_run("0", "u", 1, [], None)
    metrics = [Metric(key, v, ts, step) for step, ts, v in points]
    for i in range(0, len(metrics), 1000):
        store.log_batch(run.info.run_id, metrics=metrics[i : i + 1000])
    return run.info.run_id


def _points(metrics: list[Metric]) -> list[Point]:
    return [(m.step, m.timestamp, m.value) for m in metrics]


def test_interval_sampling_matches_the_reference(store: TrackingStore) -> None:
    rng = random.Random(7)
    histories = {_log(store, h): h for h in (_history(rng, n) for n in (0, 1, 5, 333, 2600))}
    run_ids = list(histories)
    for buckets in (1, 2, 7, 320, 2500):
        got = store.get_metric_history_bulk_interval(run_ids, "loss", buckets)
        for run_id, points in histories.items():
            mine = [m for m in got if m.run_id == run_id]
            assert _same(_points(mine), reference_sample(points, buckets)), (buckets, len(points))
        # Runs come back in the order asked, each run's points together.
        order = [m.run_id for m in got]
        assert order == sorted(order, key=run_ids.index)


def test_interval_with_a_step_range(store: TrackingStore) -> None:
    points = [(s, 1000 + s, float(s)) for s in range(1000)]
    run_id = _log(store, points)
    got = store.get_metric_history_bulk_interval([run_id], "loss", 10, 100, 199)
    assert _points(got) == reference_sample([p for p in points if 100 <= p[0] <= 199], 10)
    assert got[0].step == 100
    assert got[-1].step == 199
    assert store.get_metric_history_bulk_interval([run_id], "loss", 10, 5000, 6000) == []
    assert store.get_metric_history_bulk_interval([run_id], "other", 10) == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"run_ids": []}, "run_ids"),
        ({"run_ids": ["a"] * 1 + [f"r{i}" for i in range(100)]}, "at most 100 run_ids"),
        ({"metric_key": ""}, "metric_key"),
        ({"max_results": 0}, "between 1 and 2500"),
        ({"max_results": 2501}, "between 1 and 2500"),
        ({"start_step": 1}, "both must be specified"),
        ({"start_step": 5, "end_step": 1}, "start_step=5 and end_step=1"),
    ],
)
def test_interval_refuses_bad_requests(
    store: TrackingStore, kwargs: dict[str, Any], match: str
) -> None:
    args: dict[str, Any] = {"run_ids": ["0" * 32], "metric_key": "m", "max_results": 10}
    with pytest.raises(InvalidParameter, match=match):
        store.get_metric_history_bulk_interval(**{**args, **kwargs})


def test_interval_of_an_unknown_run_is_not_found(store: TrackingStore) -> None:
    with pytest.raises(NotFound, match="f" * 32):
        store.get_metric_history_bulk_interval(["f" * 32], "m", 10)


def test_bulk_history(store: TrackingStore) -> None:
    a = _log(store, [(s, 5000 - s, float(s)) for s in range(30)])
    b = _log(store, [(s, s, -float(s)) for s in range(10)])
    got = store.get_metric_history_bulk([b, a], "loss")
    # Runs in id order; each run's points by timestamp (then step and value).
    first, second = sorted([a, b])
    assert [m.run_id for m in got] == [first] * (30 if first == a else 10) + [second] * (
        10 if first == a else 30
    )
    assert [m.timestamp for m in got if m.run_id == a] == sorted(5000 - s for s in range(30))
    assert len(store.get_metric_history_bulk([a, b], "loss", 15)) == 15
    with pytest.raises(InvalidParameter, match="at least one run_id"):
        store.get_metric_history_bulk([], "loss")
    with pytest.raises(InvalidParameter, match="metric_key"):
        store.get_metric_history_bulk([a], "")


# MLflow's own store, on SQLAlchemy 2.1, uses the deprecated ``noload`` option: theirs, checked.
@pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated")
def test_same_sample_as_mlflow(tmp_path: Path) -> None:
    """MLflow 3.17's SQL store and ours, given the same points, choose the same points."""
    from mlflow.entities import Metric as MlflowMetric
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    from mlflowx.store.tracking.sql import SqlTrackingStore

    theirs = SqlAlchemyStore(f"sqlite:///{tmp_path / 'mlflow.db'}", str(tmp_path / "a"))
    ours = SqlTrackingStore(f"sqlite:///{tmp_path / 'ours.db'}")
    rng = random.Random(3)
    pairs = []
    for n in (3, 400, 2700):
        points = _history(rng, n)
        their_run = theirs.create_run("0", "u", 1, [], "r").info.run_id
        batch = [MlflowMetric("loss", v, ts, step) for step, ts, v in points]
        for i in range(0, len(batch), 1000):
            theirs.log_batch(their_run, batch[i : i + 1000], [], [])
        pairs.append((their_run, _log(ours, points)))
    for buckets in (1, 3, 50, 320):
        want = theirs.get_metric_history_bulk_interval(
            [t for t, _ in pairs], "loss", buckets, None, None
        )
        got = ours.get_metric_history_bulk_interval([o for _, o in pairs], "loss", buckets)
        for their_run, our_run in pairs:
            w = [(m.step, m.timestamp, m.value) for m in want if m.run_id == their_run]
            # MLflow stores +-inf as the largest finite float; the sample is what is compared.
            g = [(s, t, _clamp(v)) for s, t, v in _points([m for m in got if m.run_id == our_run])]
            assert _same(g, w), (buckets, len(w), len(g))
    ours.close()


def test_interval_ranges_with_repeated_steps_match_the_reference(store: TrackingStore) -> None:
    points = _history(random.Random(9), 3000)  # steps repeat, timestamps out of step order
    run_id = _log(store, points)
    for start, end, buckets in ((0, 0, 5), (100, 900, 7), (333, 2999, 320), (2000, 10**9, 50)):
        got = store.get_metric_history_bulk_interval([run_id], "loss", buckets, start, end)
        inside = [p for p in points if start <= p[0] <= end]
        assert _same(_points(got), reference_sample(inside, buckets)), (start, end, buckets)
