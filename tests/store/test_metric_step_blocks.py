"""The step blocks' counts (``metric_step_blocks``) behind the downsampled history: exact after
every kind of write (duplicates, single points, batches, logged models' metrics), purges and the
migration that backfills them; and the samples read through them equal MLflow's rule on awkward
histories (many points per step, negative and huge steps, ranges cut mid-block), on SQLite and
PostgreSQL."""

from __future__ import annotations

import importlib
import math
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlflowx.entities import Metric
from mlflowx.store.sql.schema import migrate
from mlflowx.store.tracking.sql import SqlTrackingStore
from mlflowx.store.tracking.step_blocks import STEP_BLOCK_SHIFT
from tests.store.test_metric_history_bulk import Point, reference_sample

B = 1 << STEP_BLOCK_SHIFT  # steps per block


@pytest.fixture
def sql(tracking_uri: str, tmp_path: Path) -> Iterator[SqlTrackingStore]:
    store = SqlTrackingStore(tracking_uri, default_artifact_root=str(tmp_path / "artifacts"))
    yield store
    store.close()


def _counts(store: SqlTrackingStore) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The stored counts, and the counts computed from ``metrics``."""
    with store.db.read() as conn:
        stored = conn.execute(
            "SELECT run_uuid, key, step_block, points FROM metric_step_blocks "
            "ORDER BY run_uuid, key, step_block"
        )
        block = f"step >> {STEP_BLOCK_SHIFT}"
        truth = conn.execute(
            f"SELECT run_uuid, key, {block}, COUNT(*) FROM metrics "
            f"GROUP BY run_uuid, key, {block} ORDER BY 1, 2, 3"
        )
    return [tuple(r) for r in stored], [tuple(r) for r in truth]


def _assert_exact(store: SqlTrackingStore) -> None:
    stored, truth = _counts(store)
    assert stored == truth


def _run(store: SqlTrackingStore) -> str:
    return store.create_run("0", "u", 1, [], None).info.run_id


def _log(store: SqlTrackingStore, run_id: str, points: list[Point], key: str = "loss") -> None:
    metrics = [Metric(key, v, ts, step) for step, ts, v in points]
    for i in range(0, len(metrics), 1000):
        store.log_batch(run_id, metrics=metrics[i : i + 1000])


def _sample(
    store: SqlTrackingStore, run_id: str, buckets: int, start: int | None, end: int | None
) -> list[Point]:
    got = store.get_metric_history_bulk_interval([run_id], "loss", buckets, start, end)
    return [(m.step, m.timestamp, m.value) for m in got]


def _assert_samples(store: SqlTrackingStore, run_id: str, points: list[Point]) -> None:
    """Every range below matches MLflow's rule over the distinct points inside it."""
    unique = sorted(set(points))
    steps = sorted({p[0] for p in unique})
    lo, hi = steps[0], steps[-1]
    ranges: list[tuple[int | None, int | None]] = [(None, None), (lo, hi), (lo - 1, hi + 1)]
    rng = random.Random(len(points))
    for _ in range(12):
        a, b = sorted(rng.choice(steps) + rng.randrange(-3, 4) for _ in range(2))
        ranges.append((a, b))
    ranges += [(s, s) for s in steps[:2]]
    for start, end in ranges:
        inside = [p for p in unique if start is None or end is None or start <= p[0] <= end]
        for buckets in (1, 3, 50, 320):
            want = reference_sample(inside, buckets)
            assert _sample(store, run_id, buckets, start, end) == want, (start, end, buckets)


def test_duplicates_are_counted_once(sql: SqlTrackingStore) -> None:
    run_id = _run(sql)
    points = [(s, 1_000 + s, float(s % 7)) for s in range(3 * B + 17)]
    _log(sql, run_id, points)
    _log(sql, run_id, points[: B + 5])  # a retried batch: every point stored already
    mixed = points[B : 2 * B] + [(s, 9, 0.5) for s in range(B, B + 40)]  # half new
    _log(sql, run_id, mixed)
    _log(sql, run_id, [(7, 7, 7.0)] * 5)  # the same point five times in one batch
    for _ in range(3):
        sql.log_metric(run_id, Metric("loss", 1.0, 1_001, 1))  # stored already
        sql.log_metric(run_id, Metric("loss", 2.0, 5, 3 * B + 100))  # new once
    _assert_exact(sql)
    stored, _ = _counts(sql)
    assert sum(int(str(r[3])) for r in stored) == len(set(points + mixed + [(7, 7, 7.0)])) + 1
    _assert_samples(sql, run_id, [*points, *mixed, (7, 7, 7.0), (3 * B + 100, 5, 2.0)])


def test_many_points_per_step(sql: SqlTrackingStore) -> None:
    run_id = _run(sql)
    rng = random.Random(5)
    # 900 points on step 0 (a loop logging without steps), then a few steps with hundreds each.
    points = [(0, 1_000 + i, rng.uniform(-1, 1)) for i in range(900)]
    points += [
        (s, rng.randrange(50), rng.uniform(-1, 1)) for s in (1, 2, B, B + 1) for _ in range(300)
    ]
    _log(sql, run_id, points)
    _assert_exact(sql)
    _assert_samples(sql, run_id, points)


def test_a_history_logged_at_few_steps_is_walked_once(sql: SqlTrackingStore) -> None:
    """Blocks of thousands of points (``log_metric`` without a step logs every point at 0) are
    walked once, hopping from pick to pick: the same samples as MLflow's rule, with ties on the
    timestamp, NaN, and blocks of one point per step around them."""
    run_id = _run(sql)
    rng = random.Random(9)
    points = [
        (0, 1_000 + i // 3, math.nan if i % 3 == 0 and rng.random() < 0.3 else rng.uniform(-1, 1))
        for i in range(5_000)
    ]
    points += [(s, 5, 1.0) for s in range(-B, 0)] + [(1, 3, 2.0)]
    points += [(B + 2, 7 + i, 0.0) for i in range(2_000)]
    points += [(s, 9, 3.0) for s in range(3 * B, 4 * B)]
    _log(sql, run_id, points)

    def comparable(sample: list[Point]) -> list[tuple[int, int, float | str]]:
        return [(s, t, "nan" if math.isnan(v) else v) for s, t, v in sample]

    ranges = [(None, None), (0, 0), (-3, 0), (0, B + 2), (B + 2, B + 2), (1, 4 * B)]
    for start, end in ranges:
        inside = [p for p in points if start is None or end is None or start <= p[0] <= end]
        for buckets in (7, 320):
            got = _sample(sql, run_id, buckets, start, end)
            want = reference_sample(inside, buckets)
            assert comparable(got) == comparable(want), (start, end, buckets)


def test_negative_and_huge_steps(sql: SqlTrackingStore) -> None:
    run_id = _run(sql)
    steps = [*range(-3 * B - 5, -2 * B + 9), *range(-10, 10), *range(5 * B - 3, 5 * B + 300)]
    steps += [-(2**62), -(2**40) - 1, 2**40 + 1, 2**62, 2**63 - 1, -(2**63)]
    points = [(s, 7, float(i)) for i, s in enumerate(steps)]
    random.Random(1).shuffle(points)
    _log(sql, run_id, points)
    for s in (-1, -B, -B - 1, 2**63 - 2):
        sql.log_metric(run_id, Metric("loss", 0.25, 3, s))
        points.append((s, 3, 0.25))
    _assert_exact(sql)
    _assert_samples(sql, run_id, points)


def test_ranges_cut_blocks_and_empty_ones(sql: SqlTrackingStore) -> None:
    run_id = _run(sql)
    points = [(s, s // 3, float(s)) for s in range(0, 6 * B, 3)]  # sparse inside each block
    points += [(s, 0, -1.0) for s in range(20 * B, 20 * B + 10)]  # after 13 empty blocks
    _log(sql, run_id, points)
    _assert_samples(sql, run_id, points)
    for start, end in (
        (B + 1, B + 2),
        (7 * B, 19 * B),
        (2 * B - 1, 2 * B - 1),
        (5 * B + 1, 20 * B),
    ):
        inside = [p for p in points if start <= p[0] <= end]
        assert _sample(sql, run_id, 320, start, end) == reference_sample(inside, 320)


def test_several_keys_and_runs_are_apart(sql: SqlTrackingStore) -> None:
    runs = [_run(sql) for _ in range(2)]
    for n, run_id in enumerate(runs):
        batch = [Metric(k, float(s), 1, s) for s in range(0, 2 * B, 2 + n) for k in ("a", "b")]
        for i in range(0, len(batch), 1000):
            sql.log_batch(run_id, metrics=batch[i : i + 1000])
    _assert_exact(sql)
    got = sql.get_metric_history_bulk_interval(runs, "b", 10)
    assert [m.run_id for m in got] == [runs[0]] * 10 + [runs[1]] * 10


def test_logged_model_metrics_are_counted(sql: SqlTrackingStore) -> None:
    run_id = _run(sql)
    model_id = sql.create_logged_model("0", "m", source_run_id=run_id).model_id
    for _ in range(2):
        sql.log_metric(run_id, Metric("acc", 0.9, 10, 1, model_id=model_id))
        sql.log_batch(run_id, metrics=[Metric("acc", 0.8, 11, B + 1, model_id=model_id)])
    _assert_exact(sql)
    stored, _ = _counts(sql)
    assert [r[2:] for r in stored] == [(0, 1), (1, 1)]


def test_purged_runs_lose_their_counts(sql: SqlTrackingStore) -> None:
    keep, drop = _run(sql), _run(sql)
    for run_id in (keep, drop):
        _log(sql, run_id, [(s, 1, 0.0) for s in range(3 * B)])
    sql.delete_run(drop)
    sql.purge_run(drop)
    _assert_exact(sql)
    stored, _ = _counts(sql)
    assert {r[0] for r in stored} == {keep}
    eid = sql.create_experiment("gone")
    gone = sql.create_run(eid, "u", 1, [], None).info.run_id
    _log(sql, gone, [(1, 1, 1.0)])
    sql.delete_experiment(eid)
    sql.purge_experiment(eid)
    _assert_exact(sql)


def test_migration_counts_existing_points(tracking_uri: str, tmp_path: Path) -> None:
    """0008 -> head counts the points stored before the table existed, with the shift the
    store uses."""
    from sqlalchemy import create_engine, text

    from mlflowx.store.sql.db import sqlalchemy_url

    version = importlib.import_module(
        "mlflowx.store.sql.migrations.versions.0009_metric_step_blocks"
    )
    assert version.SHIFT == STEP_BLOCK_SHIFT
    engine = create_engine(sqlalchemy_url(tracking_uri))
    if tracking_uri.startswith("postgresql"):  # the fixture truncates; start from no schema
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    assert migrate(tracking_uri, "0008_run_order_indexes")[1] == "0008_run_order_indexes"
    rows = [
        {"r": r, "k": k, "s": s, "t": t}
        for r in ("a" * 32, "b" * 32)
        for k in ("x", "y")
        for s in (-B - 1, -1, 0, 1, B - 1, B, 7 * B + 3)
        for t in range(3 if k == "x" else 1)
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO experiments (experiment_id, name, artifact_location, "
                "lifecycle_stage) VALUES (0, 'Default', '', 'active')"
            )
        )
        for r in ("a" * 32, "b" * 32):
            conn.execute(
                text(
                    "INSERT INTO runs (run_uuid, experiment_id, user_id, status, start_time, "
                    "lifecycle_stage, artifact_uri) VALUES (:r, 0, 'u', 'RUNNING', 1, 'active', '')"
                ),
                {"r": r},
            )
        conn.execute(
            text(
                "INSERT INTO metrics (run_uuid, key, value, timestamp, step, is_nan) "
                "VALUES (:r, :k, 0.5, :t, :s, false)"
            ),
            rows,
        )
    engine.dispose()
    assert migrate(tracking_uri)[1] == "0009_metric_step_blocks"
    store = SqlTrackingStore(tracking_uri, default_artifact_root=str(tmp_path / "artifacts"))
    try:
        stored, truth = _counts(store)
        assert stored == truth
        assert sum(int(str(r[3])) for r in stored) == len(rows)
    finally:
        store.close()


def test_block_counts_of_a_batch_match_a_plain_tally() -> None:
    """The bisection fast path (one key in step order) and the tally agree on any batch."""
    from collections import Counter

    from mlflowx.store.tracking.step_blocks import _block_counts

    rng = random.Random(11)
    for _ in range(500):
        keys = rng.choice([["a"], ["a", "b"]])
        steps = [
            rng.randrange(-(2**63), 2**63) if rng.random() < 0.05 else rng.randrange(-3 * B, 3 * B)
            for _ in range(rng.randrange(1, 60))
        ]
        if rng.random() < 0.6:
            steps.sort()
        rows = [("r", rng.choice(keys), 0.0, 0, step, False) for step in steps]
        tally = Counter((row[1], row[4] >> STEP_BLOCK_SHIFT) for row in rows)
        assert _block_counts(rows) == [(k, b, n) for (k, b), n in sorted(tally.items())]
