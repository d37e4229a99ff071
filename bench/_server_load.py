"""Many clients against a tracking server, for ``bench/server.py`` (issue #14).

Two workloads, meant for ``--backend postgres`` (they run on SQLite too):

* ``clients``: ``clients`` concurrent clients (64 by default), each with its own run and its own
  keep-alive connection, ``POST runs/log-metric`` one after another for a fixed time after a
  common start: req/s, p50/p99, errors, the server tree's RSS, and a count of what was stored.
* ``load``: ``load_runs`` runs x 10 params x 10 metrics loaded through the server by
  ``load_clients`` concurrent clients (16): per run ``runs/create`` then one ``runs/log-batch``
  with its 10 params and 10 metrics. req/s, runs/s, p50/p99, the server's memory, and a count
  check in the database itself (runs, params, metrics, latest metrics of the experiment) against
  what the clients were told was stored.

The load generator is aiohttp (asyncio, a well-kept client with a small per-request cost): on
this 2-core box the client shares the CPU with the server and PostgreSQL, so its CPU per request
is reported next to the server's and the database's. The clients are
spread over ``client_procs`` forked processes, each running an event loop with its share of the
clients (one ``ClientSession`` with a one-connection pool per client). The orchestrator samples
the server tree's RSS every 0.25 s while a workload runs.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import threading
import time
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psutil

API = "/api/2.0/mlflow"
MiB = 2**20
PARAMS_PER_RUN = 10
METRICS_PER_RUN = 10
_MAX_ERROR_SAMPLES = 5


# ------------------------------------------------------------------------------ PostgreSQL
def pg_url(base: str, database: str) -> str:
    """``base`` (a ``postgresql://`` URI) pointing at ``database`` instead."""
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))


def fresh_pg_database(base: str, database: str) -> str:
    """Drop and create ``database`` on the server of ``base``; returns its URI."""
    import psycopg

    with psycopg.connect(pg_url(base, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    return pg_url(base, database)


def drop_pg_database(base: str, database: str) -> None:
    import psycopg

    with psycopg.connect(pg_url(base, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


_COUNTS = {
    "runs": "SELECT count(*) FROM runs WHERE experiment_id = %(e)s",
    "params": "SELECT count(*) FROM params p JOIN runs r USING (run_uuid) "
    "WHERE r.experiment_id = %(e)s",
    "metrics": "SELECT count(*) FROM metrics m JOIN runs r USING (run_uuid) "
    "WHERE r.experiment_id = %(e)s",
    "latest_metrics": "SELECT count(*) FROM latest_metrics m JOIN runs r USING (run_uuid) "
    "WHERE r.experiment_id = %(e)s",
}


def pg_counts(uri: str, experiment_id: str) -> dict[str, int]:
    """Rows of the experiment's runs in each table, counted in the database itself (the same
    schema on both sides: MLflow's table and column names)."""
    import psycopg

    uri = uri.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(uri) as conn:
        return {
            table: int(conn.execute(sql, {"e": int(experiment_id)}).fetchone()[0])  # type: ignore[index]
            for table, sql in _COUNTS.items()
        }


def pg_backend_cpu(uri: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to the database of ``uri``
    (the server runs on this machine here): what the database spends on the server's work.
    Backends that exit in between are missed, so this is a lower bound."""
    import psycopg

    if not uri.startswith("postgres"):
        return {}
    uri = uri.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(uri, autocommit=True) as conn:
        own = conn.info.backend_pid
        pids = [
            int(row[0])
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            ).fetchall()
            if int(row[0]) != own
        ]
    out = {}
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        out[pid] = times.user + times.system
    return out


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(v - before.get(pid, 0.0) for pid, v in after.items())


# ---------------------------------------------------------------------------------- memory
@contextmanager
def rss_sampler(pid: int, every_s: float = 0.25) -> Iterator[dict[str, float]]:
    """Samples the RSS summed over the server's process tree while the block runs; the dict
    gets ``rss_start_mib``, ``rss_peak_mib`` and ``rss_end_mib``."""
    out: dict[str, float] = {}
    stop = threading.Event()
    peak = [0.0]

    def tree_rss() -> float:
        root = psutil.Process(pid)
        total = 0
        for proc in [root, *root.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                continue
        return total / MiB

    def loop() -> None:
        while not stop.wait(every_s):
            peak[0] = max(peak[0], tree_rss())

    out["rss_start_mib"] = tree_rss()
    peak[0] = out["rss_start_mib"]
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield out
    finally:
        stop.set()
        thread.join()
        out["rss_end_mib"] = tree_rss()
        out["rss_peak_mib"] = max(peak[0], out["rss_end_mib"])


# ---------------------------------------------------------------------------------- client
class _Tally:
    """One client process's latencies (per request kind) and errors."""

    def __init__(self) -> None:
        self.times: dict[str, array[float]] = {}
        self.errors = 0
        self.error_samples: list[str] = []

    def ok(self, kind: str, seconds: float) -> None:
        self.times.setdefault(kind, array("d")).append(seconds)

    def fail(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < _MAX_ERROR_SAMPLES:
            self.error_samples.append(what[:300])

    def as_dict(self) -> dict[str, Any]:
        return {
            "times": {k: v.tolist() for k, v in self.times.items()},
            "errors": self.errors,
            "error_samples": self.error_samples,
        }


async def _post(session: Any, tally: _Tally, kind: str, path: str, body: bytes) -> Any:
    """POST a JSON body; the parsed answer, or None after counting an error."""
    t0 = time.perf_counter()
    try:
        async with session.post(API + path, data=body) as response:
            raw = await response.read()
            status = response.status
    except Exception as exc:
        tally.fail(f"{kind}: {exc!r}")
        return None
    if status != 200:
        tally.fail(f"{kind}: HTTP {status}: {raw[:200]!r}")
        return None
    tally.ok(kind, time.perf_counter() - t0)
    return json.loads(raw)


def _session(url: str) -> Any:
    import aiohttp

    return aiohttp.ClientSession(
        base_url=url,
        connector=aiohttp.TCPConnector(limit=1),  # one keep-alive connection per client
        headers={"content-type": "application/json"},
        timeout=aiohttp.ClientTimeout(total=120),
    )


def _metric_body(run_id: str, step: int) -> bytes:
    body = {
        "run_id": run_id,
        "key": "m",
        "value": step * 0.001,
        "timestamp": int(time.time() * 1000),
        "step": step,
    }
    return json.dumps(body).encode()


#: How often a client waiting for the common start uses its connection (under the server's
#: 5 s keep-alive timeout).
_KEEP_ALIVE_PING_S = 2.0


async def _metric_client(
    url: str, run_id: str, warmup: int, start_at: float, seconds: float, tally: _Tally
) -> tuple[int, float, float]:
    """One client: ``warmup`` calls, wait for the common start, then log-metric until the end."""
    async with _session(url) as session:
        for step in range(warmup):
            await _post(
                session, tally, "warmup", "/runs/log-metric", _metric_body(run_id, -1 - step)
            )
        # Wait for the common start without leaving the connection idle for long: the server
        # closes keep-alive connections idle for 5 s (uvicorn's default), and a close racing the
        # first timed request would count as an error of the server's.
        while (wait := start_at - time.time()) > 0:
            await asyncio.sleep(min(wait, _KEEP_ALIVE_PING_S))
            if start_at - time.time() > 0.2:
                await _post(session, tally, "warmup", "/runs/log-metric", _metric_body(run_id, -1))
        tally.times.pop("warmup", None)
        t_start = time.perf_counter()
        stop = t_start + seconds
        step, t1 = 0, t_start
        while t1 < stop:
            await _post(
                session, tally, "log-metric", "/runs/log-metric", _metric_body(run_id, step)
            )
            step += 1
            t1 = time.perf_counter()
        return step, t_start, t1


def _clients_proc(
    url: str, run_ids: list[str], warmup: int, start_at: float, seconds: float, queue: Any
) -> None:
    tally = _Tally()

    async def main() -> list[tuple[int, float, float]]:
        jobs = [_metric_client(url, r, warmup, start_at, seconds, tally) for r in run_ids]
        return list(await asyncio.gather(*jobs))

    try:
        cpu0 = time.process_time()
        spans = asyncio.run(main())
        queue.put({**tally.as_dict(), "spans": spans, "cpu": time.process_time() - cpu0})
    except Exception as exc:  # reported by the parent
        queue.put({"error": repr(exc), **tally.as_dict()})


def _run_body(eid: str, i: int) -> bytes:
    body = {
        "experiment_id": eid,
        "run_name": f"load-{i}",
        "start_time": int(time.time() * 1000),
        "user_id": "bench",
    }
    return json.dumps(body).encode()


def _batch_body(run_id: str, i: int) -> bytes:
    ts = int(time.time() * 1000)
    body = {
        "run_id": run_id,
        "params": [{"key": f"p{k}", "value": str(i * 31 + k)} for k in range(PARAMS_PER_RUN)],
        "metrics": [
            {"key": f"m{k}", "value": (i % 1000) * 0.001 + k, "timestamp": ts, "step": 0}
            for k in range(METRICS_PER_RUN)
        ],
    }
    return json.dumps(body).encode()


async def _load_client(
    url: str, eid: str, indices: range, deadline: float, tally: _Tally
) -> tuple[int, int]:
    """Runs ``indices`` one after another (create + log-batch) until done or the deadline;
    returns (runs created, runs whose batch was stored)."""
    created = complete = 0
    async with _session(url) as session:
        for i in indices:
            if time.time() > deadline:
                break
            answer = await _post(session, tally, "runs/create", "/runs/create", _run_body(eid, i))
            if answer is None:
                continue
            created += 1
            run_id = answer["run"]["info"]["run_id"]
            if (
                await _post(
                    session, tally, "runs/log-batch", "/runs/log-batch", _batch_body(run_id, i)
                )
                is not None
            ):
                complete += 1
    return created, complete


def _load_proc(url: str, eid: str, slices: list[range], deadline: float, queue: Any) -> None:
    tally = _Tally()

    async def main() -> list[tuple[int, int]]:
        return list(
            await asyncio.gather(*(_load_client(url, eid, s, deadline, tally) for s in slices))
        )

    try:
        cpu0 = time.process_time()
        done = asyncio.run(main())
        queue.put({
            **tally.as_dict(),
            "created": sum(c for c, _ in done),
            "complete": sum(k for _, k in done),
            "cpu": time.process_time() - cpu0,
        })  # fmt: skip
    except Exception as exc:  # reported by the parent
        queue.put({"error": repr(exc), **tally.as_dict()})


def _spread(items: list[Any], procs: int) -> list[list[Any]]:
    return [items[i::procs] for i in range(procs) if items[i::procs]]


def _gather(queue: Any, procs: list[Any], timeout: float) -> list[dict[str, Any]]:
    parts = [queue.get(timeout=timeout) for _ in procs]
    for proc in procs:
        proc.join(30)
    failed = [p["error"] for p in parts if "error" in p]
    if failed:
        raise RuntimeError(f"a client process failed: {failed[0]}")
    return parts


def _latencies(parts: list[dict[str, Any]], kind: str) -> list[float]:
    return [t for p in parts for t in p["times"].get(kind, [])]


# -------------------------------------------------------------------------------- workloads
Summary = Callable[[list[float]], dict[str, float]]


def w_clients(
    url: str,
    sizes: dict[str, Any],
    cpu: Callable[[], float],
    pid: int,
    backend: str,
    call: Callable[..., dict[str, Any]],
    history_len: Callable[..., int],
    summary: Summary,
) -> dict[str, Any]:
    """``clients`` concurrent log-metric clients for ``clients_seconds`` after a common start."""
    import httpx

    n, procs = sizes["many_clients"], min(sizes["client_procs"], sizes["many_clients"])
    with httpx.Client(base_url=url, timeout=60) as client:
        eid = call(client, "/experiments/create", {"name": "clients"})["experiment_id"]
        run_ids = [
            call(client, "/runs/create", {"experiment_id": eid, "run_name": f"c{i}"})["run"][
                "info"
            ]["run_id"]
            for i in range(n)
        ]
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    # The start is far enough ahead for every process to fork, connect and warm up.
    start_at = time.time() + sizes["clients_start_s"]
    workers = [
        ctx.Process(
            target=_clients_proc,
            args=(url, ids, sizes["clients_warmup"], start_at, sizes["clients_seconds"], queue),
        )
        for ids in _spread(run_ids, procs)
    ]
    for w in workers:
        w.start()
    time.sleep(max(0.0, start_at - time.time()))
    with rss_sampler(pid) as memory:
        cpu0, db0 = cpu(), pg_backend_cpu(backend)
        parts = _gather(queue, workers, sizes["clients_seconds"] + 300)
        cpu1, db1 = cpu(), pg_backend_cpu(backend)
    times = _latencies(parts, "log-metric")
    spans = [s for p in parts for s in p["spans"]]
    window = max(e for _, _, e in spans) - min(s for _, s, _ in spans)
    late = [s for _, s, _ in spans]
    with httpx.Client(base_url=url, timeout=120) as client:
        stored = sum(history_len(client, rid, "m") for rid in run_ids)
    errors = sum(p["errors"] for p in parts)
    return {
        "clients": n,
        "client_procs": len(workers),
        "n": len(times),
        "errors": errors,
        "error_samples": [e for p in parts for e in p["error_samples"]][:_MAX_ERROR_SAMPLES],
        "stored": stored,
        "seconds": window,
        "start_spread_s": max(late) - min(late),
        "req_per_s": len(times) / window,
        "per_client_min_max": [min(c for c, _, _ in spans), max(c for c, _, _ in spans)],
        "server_cpu_s": cpu1 - cpu0,
        "server_cpu_ms_per_req": (cpu1 - cpu0) * 1000 / max(len(times), 1),
        "db_cpu_ms_per_req": cpu_delta(db0, db1) * 1000 / max(len(times), 1),
        "client_cpu_ms_per_req": sum(p["cpu"] for p in parts) * 1000 / max(len(times), 1),
        **memory,
        **summary(times),
    }


def w_load(
    url: str,
    sizes: dict[str, Any],
    cpu: Callable[[], float],
    pid: int,
    backend: str,
    call: Callable[..., dict[str, Any]],
    summary: Summary,
) -> dict[str, Any]:
    """``load_runs`` runs x 10 params x 10 metrics from ``load_clients`` concurrent clients,
    for at most ``load_max_s`` (then the runs done so far count), then the count check."""
    import httpx

    n, c = sizes["load_runs"], sizes["load_clients"]
    procs = min(sizes["client_procs"], c)
    with httpx.Client(base_url=url, timeout=60) as client:
        eid = call(client, "/experiments/create", {"name": "load"})["experiment_id"]
    slices = [range(i, n, c) for i in range(c)]  # client i: runs i, i + c, i + 2c, ...
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    t0 = time.perf_counter()
    deadline = time.time() + sizes["load_max_s"]
    workers = [
        ctx.Process(target=_load_proc, args=(url, eid, part, deadline, queue))
        for part in _spread(slices, procs)
    ]
    with rss_sampler(pid) as memory:
        cpu0, db0 = cpu(), pg_backend_cpu(backend)
        for w in workers:
            w.start()
        parts = _gather(queue, workers, sizes["load_max_s"] + 600)
        cpu1, db1 = cpu(), pg_backend_cpu(backend)
    seconds = time.perf_counter() - t0
    created = sum(p["created"] for p in parts)
    complete = sum(p["complete"] for p in parts)
    t_count = time.perf_counter()
    counts = pg_counts(backend, eid) if backend.startswith("postgres") else {}
    expected = {
        "runs": created,
        "params": complete * PARAMS_PER_RUN,
        "metrics": complete * METRICS_PER_RUN,
        "latest_metrics": complete * METRICS_PER_RUN,
    }
    creates, batches = _latencies(parts, "runs/create"), _latencies(parts, "runs/log-batch")
    requests = len(creates) + len(batches)
    return {
        "runs_asked": n,
        "n": requests,
        "clients": c,
        "client_procs": len(workers),
        "runs_created": created,
        "runs_complete": complete,
        "capped": created < n,
        "seconds": seconds,
        "runs_per_s": complete / seconds,
        "req_per_s": requests / seconds,
        "rows_per_s": complete * (1 + PARAMS_PER_RUN + 2 * METRICS_PER_RUN) / seconds,
        "errors": sum(p["errors"] for p in parts),
        "error_samples": [e for p in parts for e in p["error_samples"]][:_MAX_ERROR_SAMPLES],
        "counts": counts,
        "expected_counts": expected,
        "counts_ok": counts == expected if counts else None,
        "count_s": time.perf_counter() - t_count,
        "server_cpu_s": cpu1 - cpu0,
        "server_cpu_ms_per_req": (cpu1 - cpu0) * 1000 / max(requests, 1),
        "db_cpu_ms_per_req": cpu_delta(db0, db1) * 1000 / max(requests, 1),
        "client_cpu_ms_per_req": sum(p["cpu"] for p in parts) * 1000 / max(requests, 1),
        "create": summary(creates) if creates else {},
        "log_batch": summary(batches) if batches else {},
        **memory,
        **summary(creates + batches),
    }
