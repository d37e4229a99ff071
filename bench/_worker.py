"""One workload on one side (mlflowx or MLflow), inside a fresh process started by tracking.py.

Usage (normally only called by ``bench/tracking.py``)::

    python bench/_worker.py '{"side": "mlflowx", "workload": "log_metric", "tmp": "/tmp/x",
                              "out": "/tmp/x/result.json", "sizes": {...}}'

The client code is the same for both sides: ``import mlflowx as mlflow`` vs ``import mlflow``,
``MlflowxClient`` vs ``MlflowClient``. Only seeding the big search databases reaches below the
public API (bulk inserts into each side's own tables), and only for speed.
"""

from __future__ import annotations

import cProfile
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from _server_seed import SeedRun, seed_data

SEARCH_FILTER = "metrics.acc > 0.5 AND params.model = 'tree'"
SEARCH_ORDER = ["metrics.acc DESC"]
SEARCH_MAX_RESULTS = 100
_BULK_CHUNK = 5_000  # runs per bulk-insert transaction


@dataclass
class Side:
    name: str
    mlflow: ModuleType
    client_cls: type
    metric_cls: type
    param_cls: type
    uri: str
    tmp: Path


def load_side(name: str, tmp: Path) -> Side:
    if name == "mlflowx":
        import mlflowx as mlflow
        from mlflowx import MlflowxClient as Client
        from mlflowx.entities import Metric, Param
    elif name == "mlflow":
        import mlflow  # type: ignore[no-redef]
        from mlflow import MlflowClient as Client  # type: ignore[assignment]
        from mlflow.entities import Metric, Param  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown side {name!r}")
    return Side(name, mlflow, Client, Metric, Param, f"sqlite:///{tmp / name}.db", tmp)


def setup(side: Side) -> tuple[Any, str]:
    """Tracking URI, client and a fresh experiment whose artifacts live in the temp dir."""
    side.mlflow.set_tracking_uri(side.uri)
    client = side.client_cls(side.uri)
    eid = client.create_experiment("bench", artifact_location=str(side.tmp / "artifacts"))
    side.mlflow.set_experiment(experiment_id=eid)
    return client, eid


@contextmanager
def maybe_profile(path: str | None) -> Iterator[None]:
    if not path:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(path)


def now_ms() -> int:
    return int(time.time() * 1000)


def history_len(client: Any, run_id: str, key: str) -> int:
    return len(client.get_metric_history(run_id, key))


# ------------------------------------------------------------------------------- workloads
def w_log_metric(side: Side, sizes: dict[str, Any], profile: str | None) -> dict[str, Any]:
    """Sequential synchronous fluent log_metric calls in one run; median of ``rounds``."""
    n, rounds = int(sizes["log_metric_n"]), int(sizes["rounds"])
    mlflow = side.mlflow
    client, _ = setup(side)
    run = mlflow.start_run()
    for i in range(5):  # first-call set-up (connections, caches) is not what we measure
        mlflow.log_metric("warmup", float(i), step=i)
    times = []
    with maybe_profile(profile):
        for r in range(rounds):
            key = f"m{r}"
            t0 = time.perf_counter()
            for i in range(n):
                mlflow.log_metric(key, i * 0.001, step=i)
            times.append(time.perf_counter() - t0)
    mlflow.end_run()
    stored = min(history_len(client, run.info.run_id, f"m{r}") for r in range(rounds))
    seconds = statistics.median(times)
    return {"n": n, "stored": stored, "seconds": seconds, "round_seconds": times,
            "calls_per_s": n / seconds}  # fmt: skip


def w_log_batch(side: Side, sizes: dict[str, Any], profile: str | None) -> dict[str, Any]:
    """runs x (one log_batch of params + steps metrics in log_batch calls of per_call).

    Repeated ``rounds`` times (new runs each time); rates are from the median round.
    """
    n_runs, n_params = int(sizes["batch_runs"]), int(sizes["batch_params"])
    steps, per_call = int(sizes["batch_steps"]), int(sizes["batch_per_call"])
    client, eid = setup(side)
    metric, param = side.metric_cls, side.param_cls
    ts = now_ms()
    # Entities are built up front: the measurement is the library, not the caller's loop.
    chunks = [
        [
            metric("loss", 1.0 / (s + 1), ts + s, s)
            for s in range(start, min(start + per_call, steps))
        ]
        for start in range(0, steps, per_call)
    ]
    params = [param(f"p{j}", str(j * 0.1)) for j in range(n_params)]
    batch_times, total_times = [], []
    run_ids = []
    with maybe_profile(profile):
        for _ in range(int(sizes["rounds"])):
            in_batch = 0.0
            t0 = time.perf_counter()
            for _ in range(n_runs):
                run_id = client.create_run(eid).info.run_id
                run_ids.append(run_id)
                t1 = time.perf_counter()
                # MLflow allows 1000 entities per call: params get their own batch.
                client.log_batch(run_id, params=params)
                for chunk in chunks:
                    client.log_batch(run_id, metrics=chunk)
                in_batch += time.perf_counter() - t1
                client.set_terminated(run_id)
            total_times.append(time.perf_counter() - t0)
            batch_times.append(in_batch)
    n_metrics = n_runs * steps
    return {
        "metrics": n_metrics,
        "stored_first_run": history_len(client, run_ids[0], "loss"),
        "params_first_run": len(client.get_run(run_ids[0]).data.params),
        "log_batch_seconds": batch_times,
        "total_seconds": total_times,
        "metrics_per_s": n_metrics / statistics.median(batch_times),
        "metrics_per_s_end_to_end": n_metrics / statistics.median(total_times),
    }


def w_async(side: Side, sizes: dict[str, Any], profile: str | None) -> dict[str, Any]:
    """log_metric(synchronous=False) calls, timed up to the end of end_run (the final flush)."""
    n = int(sizes["async_n"])
    mlflow = side.mlflow
    client, _ = setup(side)
    run = mlflow.start_run()
    mlflow.log_metric("warmup", 0.0)
    with maybe_profile(profile):
        t0 = time.perf_counter()
        for i in range(n):
            mlflow.log_metric("m", i * 0.001, step=i, synchronous=False)
        submitted = time.perf_counter() - t0
        mlflow.end_run()
        total = time.perf_counter() - t0
    stored = history_len(client, run.info.run_id, "m")
    return {
        "n": n,
        "stored": stored,
        "submit_seconds": submitted,
        "total_seconds": total,
        "metrics_per_s": n / total,
        "submit_per_s": n / submitted,
    }


# ----------------------------------------------------------------------------------- search
def seed_api(side: Side, client: Any, eid: str, runs: list[SeedRun]) -> None:
    """The public API: create_run (tags, name) + one log_batch (2 metrics, 3 params) per run."""
    metric, param = side.metric_cls, side.param_cls
    for r in runs:
        run_id = client.create_run(eid, tags={"team": r.team}, run_name=r.name).info.run_id
        ts = now_ms()
        client.log_batch(
            run_id,
            metrics=[metric("acc", r.acc, ts, 0), metric("loss", r.loss, ts, 0)],
            params=[param("model", r.model), param("lr", r.lr), param("depth", r.depth)],
        )


def _bulk_rows(
    runs: list[SeedRun], eid: str, artifact_root: str, start: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    run_rows, tag_rows, param_rows, metric_rows = [], [], [], []
    for i, r in enumerate(runs):
        rid = uuid.uuid4().hex
        t = start + i
        run_rows.append(
            {"run_uuid": rid, "name": r.name, "experiment_id": int(eid), "status": "RUNNING",
             "start_time": t, "lifecycle_stage": "active",
             "artifact_uri": f"{artifact_root}/{rid}/artifacts"}
        )  # fmt: skip
        tag_rows += [
            {"run_uuid": rid, "key": "team", "value": r.team},
            {"run_uuid": rid, "key": "mlflow.runName", "value": r.name},
        ]
        param_rows += [
            {"run_uuid": rid, "key": "model", "value": r.model},
            {"run_uuid": rid, "key": "lr", "value": r.lr},
            {"run_uuid": rid, "key": "depth", "value": r.depth},
        ]
        metric_rows += [
            {"run_uuid": rid, "key": "acc", "value": r.acc, "timestamp": t, "step": 0,
             "is_nan": False},
            {"run_uuid": rid, "key": "loss", "value": r.loss, "timestamp": t, "step": 0,
             "is_nan": False},
        ]  # fmt: skip
    return run_rows, tag_rows, param_rows, metric_rows


def seed_bulk_mlflowx(client: Any, eid: str, runs: list[SeedRun], artifact_root: str) -> None:
    """Bulk rows straight into mlflowx's own tables, through its store's connection."""
    db = client.store.db
    base = now_ms()
    for start in range(0, len(runs), _BULK_CHUNK):
        run_rows, tag_rows, param_rows, metric_rows = _bulk_rows(
            runs[start : start + _BULK_CHUNK], eid, artifact_root, base + start
        )
        with db.write() as conn:
            conn.executemany(
                "INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time, "
                "end_time, lifecycle_stage, artifact_uri) VALUES (:run_uuid, :name, "
                ":experiment_id, NULL, :status, :start_time, NULL, :lifecycle_stage, "
                ":artifact_uri)",
                run_rows,
            )
            conn.executemany(
                "INSERT INTO tags (run_uuid, key, value) VALUES (:run_uuid, :key, :value)",
                tag_rows,
            )
            conn.executemany(
                "INSERT INTO params (run_uuid, key, value) VALUES (:run_uuid, :key, :value)",
                param_rows,
            )
            for table in ("metrics", "latest_metrics"):
                conn.executemany(
                    f"INSERT INTO {table} (run_uuid, key, value, timestamp, step, is_nan) "
                    "VALUES (:run_uuid, :key, :value, :timestamp, :step, :is_nan)",
                    metric_rows,
                )


def seed_bulk_mlflow(client: Any, eid: str, runs: list[SeedRun], artifact_root: str) -> None:
    """Bulk rows into MLflow's tables through its own SQLAlchemy models and session."""
    from mlflow.store.tracking.dbmodels.models import (
        SqlLatestMetric,
        SqlMetric,
        SqlParam,
        SqlRun,
        SqlTag,
    )

    store = client._tracking_client.store
    base = now_ms()
    for start in range(0, len(runs), _BULK_CHUNK):
        run_rows, tag_rows, param_rows, metric_rows = _bulk_rows(
            runs[start : start + _BULK_CHUNK], eid, artifact_root, base + start
        )
        for row in run_rows:  # what MlflowClient.create_run stores besides
            row.update(
                source_type="LOCAL", source_name="", entry_point_name="", user_id="unknown",
                end_time=None, deleted_time=None, source_version="",
            )  # fmt: skip
        with store.ManagedSessionMaker(read_only=False) as session:
            session.execute(SqlRun.__table__.insert(), run_rows)
            session.execute(SqlTag.__table__.insert(), tag_rows)
            session.execute(SqlParam.__table__.insert(), param_rows)
            session.execute(SqlMetric.__table__.insert(), metric_rows)
            session.execute(SqlLatestMetric.__table__.insert(), metric_rows)


def time_queries(query: Callable[[], Any], warmup: int, repeats: int) -> tuple[list[float], Any]:
    result = None
    for _ in range(warmup):
        result = query()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = query()
        times.append(time.perf_counter() - t0)
    return times, result


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "p50_s": statistics.median(ordered),
        "p90_s": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],
        "min_s": ordered[0],
    }


def _search(side: Side, sizes: dict[str, Any], profile: str | None, n: int) -> dict[str, Any]:
    client, eid = setup(side)
    runs = seed_data(n)
    api_runs = min(n, int(sizes["search_api_runs"]))
    t0 = time.perf_counter()
    seed_api(side, client, eid, runs[:api_runs])
    api_seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    if api_runs < n:
        bulk = seed_bulk_mlflowx if side.name == "mlflowx" else seed_bulk_mlflow
        bulk(client, eid, runs[api_runs:], str(side.tmp / "artifacts"))
    bulk_seconds = time.perf_counter() - t1

    def client_query() -> Any:
        return client.search_runs(
            [eid], filter_string=SEARCH_FILTER, order_by=SEARCH_ORDER,
            max_results=SEARCH_MAX_RESULTS,
        )  # fmt: skip

    def fluent_query() -> Any:
        return side.mlflow.search_runs(
            experiment_ids=[eid], filter_string=SEARCH_FILTER, order_by=SEARCH_ORDER,
            max_results=SEARCH_MAX_RESULTS, output_format="list",
        )  # fmt: skip

    warmup, repeats = int(sizes["search_warmup"]), int(sizes["search_queries"])
    with maybe_profile(profile):
        client_times, result = time_queries(client_query, warmup, repeats)
    fluent_times, fluent_result = time_queries(fluent_query, 1, max(5, repeats // 2))
    accs = [r.data.metrics["acc"] for r in result]
    expected = sorted((r.acc for r in runs if r.acc > 0.5 and r.model == "tree"), reverse=True)[
        :SEARCH_MAX_RESULTS
    ]
    return {
        "runs": n,
        "seed_api_runs": api_runs,
        "seed_api_seconds": api_seconds,
        "seed_api_runs_per_s": api_runs / api_seconds if api_runs else None,
        "seed_bulk_seconds": bulk_seconds,
        "results": len(result),
        "results_correct": accs == expected
        and all(r.data.params.get("model") == "tree" for r in result)
        and [r.info.run_id for r in fluent_result] == [r.info.run_id for r in result],
        "top_accs": accs[:5],
        **_summary(client_times),
        "fluent": _summary(fluent_times),
    }


def w_search(side: Side, sizes: dict[str, Any], profile: str | None) -> dict[str, Any]:
    return _search(side, sizes, profile, int(sizes["search_runs"]))


def w_search_big(side: Side, sizes: dict[str, Any], profile: str | None) -> dict[str, Any]:
    return _search(side, sizes, profile, int(sizes["search_big_runs"]))


WORKLOADS: dict[str, Callable[[Side, dict[str, Any], str | None], dict[str, Any]]] = {
    "log_metric": w_log_metric,
    "log_batch": w_log_batch,
    "async": w_async,
    "search": w_search,
    "search_big": w_search_big,
}


def main() -> None:
    spec = json.loads(sys.argv[1])
    tmp = Path(spec["tmp"])
    t0 = time.perf_counter()
    side = load_side(spec["side"], tmp)
    import_seconds = time.perf_counter() - t0
    result = WORKLOADS[spec["workload"]](side, spec["sizes"], spec.get("profile"))
    result["import_seconds_in_worker"] = import_seconds
    Path(spec["out"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
