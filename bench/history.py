"""Metric histories of many points: mlflowx and MLflow side by side (issue #14).

    .venv/bin/python bench/history.py                      # 200k and 1M points, SQLite + PostgreSQL
    .venv/bin/python bench/history.py --quick              # 20k and 100k points
    .venv/bin/python bench/history.py --sizes 200000 --backends sqlite --sides mlflowx

One run, one metric of N points (step i; timestamps shared by 3 consecutive steps, as when a
loop logs faster than the clock ticks), per side, backend and size, each in its own fresh
subprocess (this file with ``--worker``) and its own temp dir / database. Timed:

* ``write``: ``client.log_batch`` of 1,000 points per call over the first ``WRITE_POINTS``
  points (the rest are bulk-inserted into each side's own tables, outside the timing: MLflow
  writes a few thousand points/s);
* ``full read``: ``client.get_metric_history(run_id, key)``: every point as entities (MLflow's
  client pages it by 25,000 with offsets; mlflowx reads it in one call);
* ``page``: ``store.get_metric_history(run_id, key, 25000, token)`` for the page in the
  middle of the history (what a tracking server does per ``metrics/get-history`` page);
* ``interval``: ``store.get_metric_history_bulk_interval([run_id], key, 320)`` (the chart's
  downsampled history; 320 is what MLflow's UI asks for), whole history and a step range
  ``[N/4, N/2]``: p50 of ``reps`` after one warm-up.

Every read is checked against the other side: the same points in the same order (a digest of
``(timestamp, step, value)``), printed as ``same?``. Results go to
``bench/results/history-<UTC timestamp>.json``. PostgreSQL: a fresh database per side and size
on ``--pg-uri`` (default ``$MLFLOWX_TEST_POSTGRES_URI``' server); MLflow reaches it through
``postgresql+psycopg``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tracking import RESULTS_DIR, Row, TempDir, below, fmt_value, render, run_process, side_env

SIDES = ("mlflowx", "mlflow")
BACKENDS = ("sqlite", "postgresql")
KEY = "loss"
BASE_TS = 1_700_000_000_000
CHUNK = 1_000
PAGE = 25_000
#: Points of the history logged at one step (its chart: ``interval 320, one step``).
ONE_STEP_POINTS = 100_000
#: Points written through ``log_batch`` (timed), per side and backend; the rest are bulk-inserted.
WRITE_POINTS = {
    ("mlflowx", "sqlite"): 200_000,
    ("mlflowx", "postgresql"): 50_000,
    ("mlflow", "sqlite"): 20_000,
    ("mlflow", "postgresql"): 20_000,
}


# ------------------------------------------------------------------------------ worker side
def point(i: int) -> tuple[int, int, float]:
    """(timestamp, step, value) of point ``i``."""
    return BASE_TS + i // 3, i, ((i * 7919) % 10_007) / 10_007


def point_at_step_0(i: int) -> tuple[int, int, float]:
    """Point ``i`` of a history logged without steps (MLflow's ``log_metric`` logs at 0)."""
    ts, _, value = point(i)
    return ts + i, 0, value


def digest(points: list[tuple[int, int, float]]) -> str:
    return hashlib.sha256(repr(points).encode()).hexdigest()[:16]


def timed(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    """p50 seconds of ``reps`` calls after one warm-up, and the last result. The previous
    result is let go before the clock starts: freeing a million entities is the caller's
    cost, not the read's (both sides alike)."""
    result = fn()
    times = []
    for _ in range(reps):
        del result
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def bulk_insert(
    side: str,
    client: Any,
    run_id: str,
    start: int,
    n: int,
    make: Callable[[int], tuple[int, int, float]] = point,
) -> None:
    """Points ``start..n-1`` into the side's own tables (not timed). mlflowx: through the
    store's own batch insert (``metrics`` and its step-block counts, ``latest_metrics``) in
    chunks of 50,000, without ``log_batch``'s validation and its 1,000-point limit; MLflow:
    straight into its ``metrics`` table."""
    if side == "mlflowx":
        store = client.store
        for i in range(start, n, 50_000):
            chunk = [
                (run_id, KEY, v, ts, s, False)
                for ts, s, v in map(make, range(i, min(n, i + 50_000)))
            ]
            with store.db.write() as conn:
                store._insert_metric_rows(conn, run_id, chunk)
        return
    rows = [
        {"r": run_id, "k": KEY, "v": v, "t": ts, "s": s, "n": False}
        for ts, s, v in map(make, range(start, n))
    ]
    sql = (
        "INSERT INTO metrics (run_uuid, key, value, timestamp, step, is_nan) "
        "VALUES (:r, :k, :v, :t, :s, :n)"
    )
    from sqlalchemy import text

    engine = client._tracking_client.store.engine
    for i in range(0, len(rows), 50_000):
        with engine.begin() as conn:
            conn.execute(text(sql), rows[i : i + 50_000])


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    side, n, reps = spec["side"], spec["n"], spec["reps"]
    if side == "mlflowx":
        from mlflowx.entities import Metric
        from mlflowx.tracking.client import MlflowxClient as Client
    else:
        from mlflow.entities import Metric
        from mlflow.tracking import MlflowClient as Client
    client = Client(spec["uri"])
    eid = client.create_experiment("history", artifact_location=spec["artifacts"])
    run_id = client.create_run(eid).info.run_id
    store = client._tracking_client.store if side == "mlflow" else client.store
    out: dict[str, Any] = {"n": n}

    written = min(n, spec["write_points"])
    batches = [
        [Metric(KEY, v, ts, s) for ts, s, v in map(point, range(i, min(i + CHUNK, written)))]
        for i in range(0, written, CHUNK)
    ]
    t0 = time.perf_counter()
    for batch in batches:
        client.log_batch(run_id, metrics=batch)
    out["write_per_s"] = written / (time.perf_counter() - t0)
    out["write_points"] = written
    bulk_insert(side, client, run_id, written, n)

    reads = spec["full_reps"]
    out["full_s"], history = timed(lambda: client.get_metric_history(run_id, KEY), reads)
    out["full_digest"] = digest([(m.timestamp, m.step, m.value) for m in history])
    out["full_len"] = len(history)
    del history

    middle = None  # the token of the page in the middle of the history
    if n > 2 * PAGE:
        before = PAGE * (n // PAGE // 2)
        if side == "mlflowx":
            middle = store.get_metric_history(run_id, KEY, before).token
        else:  # MLflow's tokens are offsets
            middle = base64.b64encode(json.dumps({"offset": before}).encode()).decode()
    out["page_s"], page = timed(lambda: store.get_metric_history(run_id, KEY, PAGE, middle), reps)
    out["page_digest"] = digest([(m.timestamp, m.step, m.value) for m in page])

    def interval(start: int | None, end: int | None, run: str = run_id) -> list[Any]:
        got = store.get_metric_history_bulk_interval([run], KEY, 320, start, end)
        return [getattr(m, "metric", m) for m in got]  # MLflow: MetricWithRunId

    for name, (start, end) in {"interval": (None, None), "range": (n // 4, n // 2)}.items():
        out[f"{name}_s"], sample = timed(lambda s=start, e=end: interval(s, e), reps)
        out[f"{name}_digest"] = digest([(m.timestamp, m.step, m.value) for m in sample])
        out[f"{name}_len"] = len(sample)

    # The same chart of a history logged without steps: every point at step 0.
    one_step_run = client.create_run(eid).info.run_id
    out["one_step_points"] = one_step = min(n, ONE_STEP_POINTS)
    bulk_insert(side, client, one_step_run, 0, one_step, point_at_step_0)
    out["one_step_s"], sample = timed(lambda: interval(None, None, one_step_run), reps)
    out["one_step_digest"] = digest([(m.timestamp, m.step, m.value) for m in sample])
    return out


# ------------------------------------------------------------------------------ orchestrator
def pg_database(base: str, name: str) -> str:
    """A fresh database ``name`` on the server of ``base``; returns its URI."""
    import psycopg

    parts = urlsplit(base)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def run_side(side: str, backend: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    with TempDir(side, args.keep) as tmp:
        if backend == "sqlite":
            uri = f"sqlite:///{tmp / side}.db"
        else:
            uri = pg_database(args.pg_uri, f"bench_history_{side}_{n}")
            if side == "mlflow":
                uri = uri.replace("postgresql://", "postgresql+psycopg://", 1)
        spec = {
            "side": side,
            "n": n,
            "uri": uri,
            "artifacts": str(tmp / "artifacts"),
            "reps": args.reps,
            # MLflow's full read of 1M points takes ~30 s: once after the warm-up.
            "full_reps": 1 if side == "mlflow" and n > 200_000 else args.reps,
            "write_points": WRITE_POINTS[side, backend],
        }
        out = tmp / "result.json"
        env = side_env(side, tmp) | {"MLFLOW_TRACKING_URI": uri}
        cmd = [sys.executable, __file__, "--worker", json.dumps(spec), str(out)]
        seconds, _ = run_process(cmd, env, tmp)
        result: dict[str, Any] = json.loads(out.read_text())
        result["process_seconds"] = seconds
        return result


def build_rows(results: dict[str, dict[str, dict[str, Any]]]) -> tuple[list[Row], list[str]]:
    rows, same = [], []
    for label, sides in results.items():
        x, m = sides.get("mlflowx", {}), sides.get("mlflow", {})
        n = (x or m).get("n", 0)
        big = n >= 1_000_000

        def pair(
            key: str, scale: float = 1.0, x: dict[str, Any] = x, m: dict[str, Any] = m
        ) -> tuple[float | None, float | None]:
            return tuple(  # type: ignore[return-value]
                None if s.get(key) is None else s[key] * scale for s in (x, m)
            )

        rows += [
            Row(f"{label} write", "metrics/s", *pair("write_per_s"), True, ">= 250k (SQLite)",
                (lambda v, _r: None if v is None else v >= 250_000)
                if label.startswith("sqlite") else None),
            Row(f"{label} full read", "ms", *pair("full_s", 1000), False,
                "<= 1 s at 1M" if big else "-", below(1000.0) if big else None),
            Row(f"{label} page 25k (middle)", "ms", *pair("page_s", 1000), False, "-"),
            Row(f"{label} interval 320", "ms", *pair("interval_s", 1000), False,
                "<= 50 ms at 1M" if big else "-", below(50.0) if big else None),
            Row(f"{label} interval 320, range", "ms", *pair("range_s", 1000), False,
                "<= 50 ms at 1M" if big else "-", below(50.0) if big else None),
            Row(f"{label} interval 320, {(x or m).get('one_step_points', 0):,} at one step",
                "ms", *pair("one_step_s", 1000), False, "-"),
        ]  # fmt: skip
        if x and m:
            for key in ("full", "page", "interval", "range", "one_step"):
                ok = x[f"{key}_digest"] == m[f"{key}_digest"]
                same.append(f"{label} {key}: {'same points' if ok else '!! DIFFERENT'}")
    return rows, same


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    import os

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20k and 100k points")
    parser.add_argument("--sizes", help="comma-separated point counts (default 200000,1000000)")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--sides", default=",".join(SIDES))
    parser.add_argument("--reps", type=int, default=5, help="timed repetitions of each read")
    parser.add_argument(
        "--pg-uri",
        default=os.environ.get(
            "MLFLOWX_TEST_POSTGRES_URI", "postgresql://mlflowx:mlflowx@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-json", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    default = "20000,100000" if args.quick else "200000,1000000"
    sizes = [int(s) for s in (args.sizes or default).split(",")]
    results: dict[str, dict[str, dict[str, Any]]] = {}
    failed = False
    for backend in args.backends.split(","):
        for n in sizes:
            label = f"{backend} {fmt_value(float(n))}"
            for side in args.sides.split(","):
                print(f"... {label} {side}", file=sys.stderr, flush=True)
                try:
                    results.setdefault(label, {})[side] = run_side(side, backend, n, args)
                except Exception as exc:  # report it and go on with the others
                    print(f"!! {label} {side}: {exc}", file=sys.stderr)
                    failed = True
    rows, same = build_rows(results)
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    print(f"\nmetric history (load average {' '.join(load)})\n")
    print(render(rows))
    print("\n" + "\n".join(same))
    if not args.no_json:
        RESULTS_DIR.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = RESULTS_DIR / f"history-{stamp}.json"
        rows_json = [r.as_dict() for r in rows]
        path.write_text(json.dumps({"results": results, "rows": rows_json, "same": same}, indent=2))
        print(f"\nresults: {path}")
    return 1 if failed or any("DIFFERENT" in s for s in same) else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        Path(sys.argv[3]).write_text(json.dumps(worker(json.loads(sys.argv[2]))))
    else:
        sys.exit(main())
