"""search_runs filtered on some columns and ordered by another: mlflowx vs MLflow, page 1 and 50.

Usage::

    .venv/bin/python bench/search.py --runs 100000                  # both sides, SQLite
    .venv/bin/python bench/search.py --runs 1000000 --sides mlflowx
    .venv/bin/python bench/search.py --runs 100000 --postgres postgresql://u:p@host/db

Each side runs in its own subprocess (``--worker``) on its own database. Both get the same rows
(fixed seed): per run 3 params (p1 in a/b/c, p2, p3), 3 metrics (m1..m3, ~5% missing each, ~1% of
m2 NaN), tag ``team``, a name, start/end times (10% without end). Seeding goes by bulk SQL into
each side's own schema (MLflow through its SQLAlchemy tables): at 1M runs the public API would
take hours on the MLflow side; mlflowx on PostgreSQL is seeded by ``COPY`` (1M runs in minutes).
``--reuse`` times an already seeded PostgreSQL database again. Each shape is timed on page 1
and on page 50 (reached by passing each next_page_token back, untimed); p50 of ``--repeats``
after one warm-up. Every page is checked against a reference computed in Python (filter, then
MLflow's order: values, NaN, missing; ties by start_time DESC, run id).
Results: ``bench/results/search-<UTC>.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

PAGE = 100
SHAPES: list[tuple[str, str, str]] = [  # name, filter, order
    ("metric>metric", "metrics.m1 > 0.5 AND params.p1 = 'a'", "metrics.m2 DESC"),
    ("selective>metric", "metrics.m1 > 0.995", "metrics.m2 ASC"),
    ("metric>param", "metrics.m1 > 0.5 AND params.p1 = 'a'", "params.p2 ASC"),
    ("tag>end_time", "metrics.m1 > 0.5 AND tags.team = 'a'", "attributes.end_time DESC"),
    ("param>run_name", "params.p1 = 'a'", "attributes.run_name ASC"),
    ("tag>start_time", "tags.team = 'b'", "attributes.start_time DESC"),
    ("metric>tag", "metrics.m1 > 0.5", "tags.team ASC"),  # 4 distinct values: long runs of ties
    # Two order columns: the first has 3 values, so the second decides within each.
    ("metric>param,metric", "metrics.m1 > 0.5", "params.p1 ASC, metrics.m2 DESC"),
    # ... then a run column (end time: 10% none), or a param of 1,000 values (5% none).
    ("metric>tag,end_time", "metrics.m1 > 0.5", "tags.team ASC, attributes.end_time DESC"),
    ("metric>tag,param", "metrics.m1 > 0.5", "tags.team DESC, params.p2 ASC"),
]
_CHUNK = 20_000


# ------------------------------------------------------------------------------------ data
def make_runs(n: int) -> list[dict[str, Any]]:
    rng = random.Random(14)
    base = 1_700_000_000_000
    runs = []
    for _ in range(n):
        start = base + rng.randrange(10**9)
        metrics: dict[str, float] = {}
        for key in ("m1", "m2", "m3"):
            if rng.random() < 0.95:
                metrics[key] = math.nan if key == "m2" and rng.random() < 0.01 else rng.random()
        params = {"p1": rng.choice("abc"), "p2": f"{rng.randrange(1000)}", "p3": "x"}
        if rng.random() < 0.05:
            del params["p2"]
        runs.append(
            {
                "run_uuid": uuid.UUID(int=rng.getrandbits(128)).hex,
                "name": f"run-{rng.randrange(10**6):06d}",
                "start_time": start,
                "end_time": None if rng.random() < 0.1 else start + rng.randrange(10**6),
                "team": rng.choice("abcd"),
                "params": params,
                "metrics": metrics,
            }
        )
    return runs


def _value(run: dict[str, Any], item: str) -> Any:
    entity, key = item.split(".", 1)
    if entity == "metrics":
        return run["metrics"].get(key)
    if entity == "params":
        return run["params"].get(key)
    if entity == "tags":
        return run["team"] if key == "team" else None
    return run[{"run_name": "name"}.get(key, key)]


def _matches(run: dict[str, Any], clause: str) -> bool:
    lhs, op, rhs = clause.split(" ", 2)
    value = _value(run, lhs)
    if value is None:
        return False
    if rhs.startswith("'"):
        return bool(value == rhs.strip("'")) if op == "=" else False
    return bool(value > float(rhs)) if op == ">" else False  # NaN > x is False


def reference(runs: list[dict[str, Any]], filter_string: str, order: str) -> list[str]:
    """MLflow's order of each column (``order``: comma-separated): values, then NaN, then
    missing, either direction; ties newest first, then by run id."""
    found = [r for r in runs if all(_matches(r, c) for c in filter_string.split(" AND "))]
    found.sort(key=lambda r: r["run_uuid"])
    found.sort(key=lambda r: -r["start_time"])
    for column in reversed(order.split(", ")):  # stable sorts, least significant first
        item, direction = column.split(" ")
        values = [
            r for r in found if _value(r, item) is not None and _value(r, item) == _value(r, item)
        ]
        values.sort(key=lambda r: _value(r, item), reverse=direction == "DESC")
        nans = [
            r for r in found if isinstance(_value(r, item), float) and math.isnan(_value(r, item))
        ]
        found = values + nans + [r for r in found if _value(r, item) is None]
    return [r["run_uuid"] for r in found]


def _rows(runs: list[dict[str, Any]], eid: int, mlflow: bool) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {"runs": [], "tags": [], "params": [], "metrics": []}
    for r in runs:
        rid = r["run_uuid"]
        row = {"run_uuid": rid, "name": r["name"], "experiment_id": eid, "status": "FINISHED",
               "start_time": r["start_time"], "end_time": r["end_time"],
               "lifecycle_stage": "active", "artifact_uri": f"/tmp/a/{rid}",
               "user_id": "u"}  # fmt: skip
        if mlflow:
            row.update(source_type="LOCAL", source_name="", entry_point_name="",
                       deleted_time=None, source_version="")  # fmt: skip
        out["runs"].append(row)
        out["tags"] += [{"run_uuid": rid, "key": "team", "value": r["team"]},
                        {"run_uuid": rid, "key": "mlflow.runName", "value": r["name"]}]  # fmt: skip
        out["params"] += [{"run_uuid": rid, "key": k, "value": v} for k, v in r["params"].items()]
        out["metrics"] += [
            {"run_uuid": rid, "key": k, "value": 0.0 if math.isnan(v) else v,
             "timestamp": r["start_time"], "step": 0, "is_nan": math.isnan(v)}
            for k, v in r["metrics"].items()
        ]  # fmt: skip
    return out


def seed_mlflowx(uri: str, runs: list[dict[str, Any]]) -> tuple[Any, str]:
    from mlflowx import MlflowxClient

    client = MlflowxClient(uri)
    eid = client.create_experiment("bench")
    if uri.startswith("postgresql"):
        _copy_mlflowx(uri, runs, int(eid))
        return client, eid
    db = client.store.db
    for start in range(0, len(runs), _CHUNK):
        rows = _rows(runs[start : start + _CHUNK], int(eid), mlflow=False)
        with db.write() as conn:
            conn.executemany(
                "INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time, "
                "end_time, lifecycle_stage, artifact_uri) VALUES (:run_uuid, :name, "
                ":experiment_id, :user_id, :status, :start_time, :end_time, :lifecycle_stage, "
                ":artifact_uri)",
                rows["runs"],
            )
            for table in ("tags", "params"):
                conn.executemany(
                    f"INSERT INTO {table} (run_uuid, key, value) VALUES (:run_uuid, :key, :value)",
                    rows[table],
                )
            for table in ("metrics", "latest_metrics"):
                conn.executemany(
                    f"INSERT INTO {table} (run_uuid, key, value, timestamp, step, is_nan) "
                    "VALUES (:run_uuid, :key, :value, :timestamp, :step, :is_nan)",
                    rows["metrics"],
                )
            conn.executemany(  # every point at step 0: one point in block 0
                "INSERT INTO metric_step_blocks (run_uuid, key, step_block, points) "
                "VALUES (:run_uuid, :key, 0, 1)",
                [{"run_uuid": m["run_uuid"], "key": m["key"]} for m in rows["metrics"]],
            )
    return client, eid


#: The columns COPY fills, per table of mlflowx's schema (mlflowx/store/sql/tables.py).
_COPY_COLUMNS = {
    "runs": ("run_uuid", "name", "experiment_id", "user_id", "status", "start_time", "end_time",
             "lifecycle_stage", "artifact_uri"),
    "tags": ("run_uuid", "key", "value"),
    "params": ("run_uuid", "key", "value"),
    "metrics": ("run_uuid", "key", "value", "timestamp", "step", "is_nan"),
    "latest_metrics": ("run_uuid", "key", "value", "timestamp", "step", "is_nan"),
    "metric_step_blocks": ("run_uuid", "key", "step_block", "points"),
}  # fmt: skip


def _copy_mlflowx(uri: str, runs: list[dict[str, Any]], eid: int) -> None:
    """PostgreSQL: the same rows as the executemany path, by ``COPY ... FROM STDIN`` (1M runs in
    minutes instead of ~40). Besides ``metrics`` it fills what the store derives from it on each
    write: ``latest_metrics`` (one point per key, so the point itself) and ``metric_step_blocks``
    (every point at step 0: one point in block 0)."""
    import psycopg

    with psycopg.connect(uri) as conn, conn.cursor() as cur:
        for start in range(0, len(runs), _CHUNK * 5):
            rows = _rows(runs[start : start + _CHUNK * 5], eid, mlflow=False)
            rows["latest_metrics"] = rows["metrics"]
            rows["metric_step_blocks"] = [
                {"run_uuid": m["run_uuid"], "key": m["key"], "step_block": 0, "points": 1}
                for m in rows["metrics"]
            ]
            for table, columns in _COPY_COLUMNS.items():
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows[table]:
                        copy.write_row(tuple(row[c] for c in columns))
            conn.commit()


def seed_mlflow(uri: str, runs: list[dict[str, Any]]) -> tuple[Any, str]:
    from mlflow import MlflowClient
    from mlflow.store.tracking.dbmodels.models import (
        SqlLatestMetric,
        SqlMetric,
        SqlParam,
        SqlRun,
        SqlTag,
    )

    client = MlflowClient(uri)
    eid = client.create_experiment("bench")
    store = client._tracking_client.store
    for start in range(0, len(runs), _CHUNK):
        rows = _rows(runs[start : start + _CHUNK], int(eid), mlflow=True)
        with store.ManagedSessionMaker() as session:
            session.execute(SqlRun.__table__.insert(), rows["runs"])
            session.execute(SqlTag.__table__.insert(), rows["tags"])
            session.execute(SqlParam.__table__.insert(), rows["params"])
            session.execute(SqlMetric.__table__.insert(), rows["metrics"])
            session.execute(SqlLatestMetric.__table__.insert(), rows["metrics"])
    return client, eid


# ---------------------------------------------------------------------------------- worker
def _client(side: str, uri: str) -> Any:
    if side == "mlflowx":
        from mlflowx import MlflowxClient

        return MlflowxClient(uri)
    from mlflow import MlflowClient

    return MlflowClient(uri)


def worker(
    side: str, uri: str, n: int, repeats: int, out: str, reuse: bool, only: str, pages: int = 50
) -> None:
    runs = make_runs(n)
    t0 = time.perf_counter()
    if reuse:
        client = _client(side, uri)
        eid = client.get_experiment_by_name("bench").experiment_id
    else:
        client, eid = (seed_mlflowx if side == "mlflowx" else seed_mlflow)(uri, runs)
        if uri.startswith("postgresql"):
            _analyze(uri)
    result: dict[str, Any] = {"seed_s": None if reuse else time.perf_counter() - t0, "shapes": {}}
    for name, filter_string, order in SHAPES:
        if only and name not in only.split(";"):
            continue
        expected = reference(runs, filter_string, order)

        def page(token: str | None, f: str = filter_string, o: str = order) -> Any:
            return client.search_runs(
                [eid], f, order_by=o.split(", "), max_results=PAGE, page_token=token
            )

        timings: dict[str, Any] = {"matches": len(expected)}
        token, correct = None, True
        for number in range(1, pages + 1):
            if number in (1, 50):
                times = []
                for _ in range(repeats + 1):
                    t = time.perf_counter()
                    got = page(token)
                    times.append(time.perf_counter() - t)
                timings[f"page{number}_p50_ms"] = statistics.median(times[1:]) * 1e3
            else:
                got = page(token)
            ids = [r.info.run_id for r in got]
            correct &= ids == expected[(number - 1) * PAGE : number * PAGE]
            token = got.token
            if not token:
                break
        timings["correct"] = correct
        result["shapes"][name] = timings
        print(f"  {side} {name}: {timings}", file=sys.stderr, flush=True)
    Path(out).write_text(json.dumps(result))


# ---------------------------------------------------------------------------- orchestrator
def run_side(side: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    if args.postgres:
        uri = args.postgres
        if not args.reuse:
            _reset_postgres(uri)
    else:
        uri = f"sqlite:///{tmp / side}.db"
    out = tmp / f"{side}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLFLOWX_"))}
    env.update(DO_NOT_TRACK="true", MLFLOW_DISABLE_TELEMETRY="true", MLFLOWX_HOME=str(tmp))
    cmd = [sys.executable, __file__, "--worker", side, "--uri", uri, "--runs", str(args.runs),
           "--repeats", str(args.repeats), "--out", str(out), "--shapes", args.shapes,
           "--pages", str(args.pages)]  # fmt: skip
    if args.reuse:
        cmd.append("--reuse")
    subprocess.run(cmd, env=env, cwd=tmp, check=True)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _analyze(uri: str) -> None:
    """Planner statistics for the bulk-loaded tables, as autovacuum would gather within a minute
    or so: without them PostgreSQL plans the first searches blind."""
    import sqlalchemy as sa

    engine = sa.create_engine(uri.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        for table in ("runs", "tags", "params", "metrics", "latest_metrics", "metric_step_blocks"):
            conn.execute(sa.text(f"ANALYZE {table}"))
    engine.dispose()


def _reset_postgres(uri: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(uri.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--sides", default="mlflowx,mlflow")
    parser.add_argument("--postgres", help="a PostgreSQL URI (its public schema is reset)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="PostgreSQL: the database already holds this bench's rows for --runs (a previous "
        "run seeded it): no reset, no seeding",
    )
    parser.add_argument(
        "--shapes",
        default="",
        help="only these shapes (names separated by semicolons: a name may hold a comma)",
    )
    parser.add_argument(
        "--pages",
        type=int,
        default=50,
        help="pages read per shape (page 1 and page 50 are timed): 1 times page 1 only, e.g. "
        "for MLflow at 100,000 runs, which takes about a minute per query",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--uri", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.uri, args.runs, args.repeats, args.out, args.reuse, args.shapes,
               args.pages)  # fmt: skip
        return 0
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        for side in args.sides.split(","):
            results[side] = run_side(side, args, Path(tmp))
    goal = 50.0 if args.runs <= 100_000 else 300.0
    db = "postgresql" if args.postgres else "sqlite"
    print(f"\nsearch_runs @{args.runs:,} runs ({db}), {PAGE} per page, p50 ms; goal <= {goal:g}")
    print("shape | page | mlflowx | mlflow | ratio | met? | correct")
    ok = True
    for name, _, _ in SHAPES:
        for number in (1, 50):
            cells = [
                results.get(s, {}).get("shapes", {}).get(name, {}) for s in ("mlflowx", "mlflow")
            ]
            x, m = (c.get(f"page{number}_p50_ms") for c in cells)
            correct = all(c.get("correct", True) for c in cells)
            ok &= correct
            ratio = f"{m / x:.0f}x" if x and m else "-"
            met = "-" if x is None else "yes" if x <= goal else "NO"
            fx, fm = (f"{v:.1f}" if v is not None else "-" for v in (x, m))
            print(f"{name} | {number} | {fx} | {fm} | {ratio} | {met} | {correct}")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = Path(__file__).with_name("results") / f"search-{stamp}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"runs": args.runs, "db": db, "results": results}, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
