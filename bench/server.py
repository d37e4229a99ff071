"""Tracking-server benchmark: the same HTTP workload on ``mlflowx server`` and ``mlflow server``.

    .venv/bin/python bench/server.py                 # full run (~10 min on this shared 2-core box)
    .venv/bin/python bench/server.py --quick         # smoke run with small sizes
    .venv/bin/python bench/server.py --only log_metric,concurrent --sides mlflowx

Each server gets its own fresh temp dir and SQLite store. All start up front, but only the one
being measured runs (the others are paused with SIGSTOP), and each workload goes through every
side back to back, so the sides of a workload see about the same machine load. The client (this
process, plus forked processes for the concurrent workload) is the same plain httpx code for
every side and imports neither mlflow nor mlflowx. Sides: ``mlflowx`` (``--workers 1``),
``mlflowx-w2`` (``--workers 2``, an extra row) and ``mlflow`` (``mlflow server --workers 1``).
See bench/README.md ("Server benchmark") for what each workload measures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _server_load
import _server_profile
from _server_seed import SEED_USER, SeedRun, seed_data

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
SEEDER = BENCH_DIR / "_server_seed.py"
BIN = Path(sys.executable).parent
API = "/api/2.0/mlflow"
SIDES = ("mlflowx", "mlflowx-w2", "mlflow", "mlflow-w2")
WORKLOADS = (
    "log_metric", "concurrent", "log_batch", "search", "clients", "load", "memory", "ready",
)  # fmt: skip
PROFILED = (
    "log_metric",
    "concurrent",
    "log_batch",
    "clients",
    "load",
)  # with --profile, on the mlflowx sides
PROFILE_RATE = 250
SEARCH_FILTER = "metrics.acc > 0.5 AND params.model = 'tree'"
SEARCH_ORDER = ["metrics.acc DESC"]
MiB = 2**20

FULL_SIZES: dict[str, Any] = {
    "seq_warmup": 200,
    "seq_n": 3_000,
    "seq_max_s": 90,  # stop early (and say so) if a side is slower than this allows
    "clients": 8,
    "conc_warmup": 10,
    "conc_seconds": 15,
    "batch_metrics": 1_000,
    "batch_keys": 100,  # 100 keys x 10 steps per request
    "batch_warmup": 1,
    "batch_n": 30,
    "batch_max_s": 90,
    "search_runs": 10_000,
    "search_api_runs": 300,  # seeded through REST on every side; mlflow's rest is bulk-inserted
    "seed_api_max_s": 60,  # ... or fewer if that takes longer (MLflow on a loaded box)
    "seed_procs": 4,  # mlflowx: the rest through REST from this many client processes at once
    "seed_rest_max_s": 120,  # ... for at most this long (then mlflowx's store API, see w_search)
    "search_warmup": 3,
    "search_queries": 20,
    "search_max_s": 90,
    "ready_fresh": 3,  # time-to-ready samples on a fresh dir (the first is the workload server)
    "ready_timeout_s": 180,
    # clients / load (bench/_server_load.py): client processes, each an event loop
    "client_procs": 4,
    "many_clients": 64,
    "clients_warmup": 20,
    "clients_start_s": 8,  # the common start, after every client process has warmed up
    "clients_seconds": 20,
    "load_runs": 100_000,  # x 10 params x 10 metrics (--load-runs)
    "load_clients": 16,
    "load_max_s": 600,  # then the runs loaded so far count (the JSON says capped)
    "load_runs_mlflow": 10_000,  # MLflow's REST API is much slower: a smaller load, ...
    "load_max_s_mlflow": 240,  # ... and a shorter cap
}
QUICK_SIZES: dict[str, Any] = {
    **FULL_SIZES,
    "seq_warmup": 50,
    "seq_n": 300,
    "seq_max_s": 30,
    "conc_warmup": 5,
    "conc_seconds": 3,
    "batch_n": 5,
    "batch_max_s": 30,
    "search_runs": 1_000,
    "search_api_runs": 100,
    "seed_api_max_s": 30,
    "seed_rest_max_s": 30,
    "search_warmup": 1,
    "search_queries": 5,
    "search_max_s": 30,
    "ready_fresh": 1,
    "clients_seconds": 5,
    "clients_warmup": 5,
    "load_runs": 2_000,
    "load_max_s": 60,
    "load_runs_mlflow": 500,
    "load_max_s_mlflow": 60,
}


# ------------------------------------------------------------------------------- servers
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(home: Path) -> dict[str, str]:
    """No inherited MLFLOW_*/MLFLOWX_* settings; telemetry off for both."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLFLOWX_"))}
    env.update(DO_NOT_TRACK="true", MLFLOW_DISABLE_TELEMETRY="true", MLFLOWX_HOME=str(home))
    return env


@dataclass
class Backend:
    """Where the servers keep their runs: a SQLite file in each server's dir, or a fresh
    PostgreSQL database per server (``<prefix>_<side>_<dir>``) on the server of ``pg_base``."""

    kind: str = "sqlite"
    pg_base: str = ""
    prefix: str = "bench_server"
    created: list[str] = field(default_factory=list)

    def uri(self, side: str, home: Path) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{home / (side.split('-')[0] + '.db')}"
        name = f"{self.prefix}_{side}_{home.name}".replace("-", "_").lower()
        uri = _server_load.fresh_pg_database(self.pg_base, name)
        self.created.append(name)
        # MLflow's SQLAlchemy would pick psycopg2 for postgresql://; psycopg 3 is what is here.
        return uri if side.startswith("mlflowx") else uri.replace("://", "+psycopg://", 1)

    def drop_all(self) -> None:
        for name in self.created:
            _server_load.drop_pg_database(self.pg_base, name)
        self.created.clear()


BACKEND = Backend()


def server_cmd(side: str, home: Path, port: int) -> list[str]:
    workers = "2" if side.endswith("-w2") else "1"
    exe = [str(BIN / ("mlflowx" if side.startswith("mlflowx") else "mlflow"))]
    return [
        *exe,
        "server",
        "--backend-store-uri",
        BACKEND.uri(side, home),
        "--artifacts-destination",
        str(home / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        workers,
    ]


@dataclass
class Server:
    side: str
    home: Path
    proc: subprocess.Popen[bytes]
    url: str
    backend: str
    ready_s: float = 0.0
    ready_cpu_s: float = 0.0  # CPU the server tree had used by then: steadier under load
    log: Path = field(default_factory=Path)

    def pause(self) -> None:
        """Freeze the whole process tree (no CPU at all until resume())."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGCONT)

    def stop(self, timeout: float = 30) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            os.killpg(self.proc.pid, signal.SIGCONT)  # a paused tree handles SIGTERM once resumed
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout)

    def tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def start_server(side: str, home: Path, timeout: float) -> Server:
    """Start a server; ``ready_s`` is from just before the process starts to the first 200 on
    ``GET /health`` (polled every 10 ms over one client)."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cmd = server_cmd(side, home, port)
    log = home / f"server-{int(time.time() * 1000)}.log"
    url = f"http://127.0.0.1:{port}"
    with httpx.Client(timeout=1) as poll, open(log, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=server_env(home),
            cwd=home,
            start_new_session=True,
        )
        backend = cmd[cmd.index("--backend-store-uri") + 1]
        server = Server(side, home, proc, url, backend, log=log)
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            try:
                if poll.get(url + "/health").status_code == 200:
                    server.ready_s = time.perf_counter() - t0
                    server.ready_cpu_s = tree_cpu(proc.pid)
                    return server
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"{side} server exited early:\n{server.tail(60)}")
            time.sleep(0.01)
    server.stop()
    raise RuntimeError(f"{side} server not ready in {timeout}s:\n{server.tail()}")


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its live descendants."""
    return sum(tree_cpu_by_process(pid).values())


def tree_cpu_by_process(pid: int) -> dict[str, float]:
    """CPU seconds so far of each process in the tree, keyed ``"<pid> <command>"``."""
    root = psutil.Process(pid)
    out = {}
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
            out[f"{proc.pid} {' '.join(proc.cmdline()[1:3])[:60]}"] = times.user + times.system
        except psutil.Error:
            continue
    return out


Cpu = Callable[[], float]


def cpu_fields(server_s: float, client_s: float, requests: int) -> dict[str, float]:
    """CPU per request: much steadier than wall time when the machine is shared."""
    return {
        "server_cpu_s": server_s,
        "client_cpu_s": client_s,
        "server_cpu_ms_per_req": server_s * 1000 / max(requests, 1),
        "client_cpu_ms_per_req": client_s * 1000 / max(requests, 1),
    }


def tree_memory(pid: int) -> dict[str, Any]:
    """PSS (and RSS) of a process and all its descendants."""
    root = psutil.Process(pid)
    procs = []
    for proc in [root, *root.children(recursive=True)]:
        try:
            info = proc.memory_full_info()
            cmd = " ".join(proc.cmdline()[1:4])
        except psutil.Error:
            continue
        procs.append(
            {"pid": proc.pid, "cmd": cmd, "pss_mib": info.pss / MiB, "rss_mib": info.rss / MiB}
        )
    return {
        "pss_mib": sum(p["pss_mib"] for p in procs),
        "rss_mib": sum(p["rss_mib"] for p in procs),
        "processes": procs,
    }


# ------------------------------------------------------------------------------- client
def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def latency_summary(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "p50_ms": pct(ms, 50),
        "p90_ms": pct(ms, 90),
        "p99_ms": pct(ms, 99),
        "max_ms": max(ms),
        "mean_ms": statistics.fmean(ms),
    }


def call(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(API + path, json=body)
    if response.status_code != 200:
        raise RuntimeError(f"POST {path} -> {response.status_code}: {response.text[:300]}")
    result: dict[str, Any] = response.json()
    return result


def new_run(client: httpx.Client, eid: str, name: str) -> str:
    body = {"experiment_id": eid, "run_name": name, "start_time": now_ms(), "user_id": SEED_USER}
    run_id: str = call(client, "/runs/create", body)["run"]["info"]["run_id"]
    return run_id


def new_experiment(client: httpx.Client, name: str) -> str:
    eid: str = call(client, "/experiments/create", {"name": name})["experiment_id"]
    return eid


def now_ms() -> int:
    return int(time.time() * 1000)


def history_len(client: httpx.Client, run_id: str, key: str) -> int:
    """How many values of ``key`` the server stored (following pages)."""
    count, token = 0, None
    while True:
        params: dict[str, str | int] = {"run_id": run_id, "metric_key": key, "max_results": 25_000}
        if token:
            params["page_token"] = token
        response = client.get(API + "/metrics/get-history", params=params)
        response.raise_for_status()
        data = response.json()
        count += len(data.get("metrics", []))
        token = data.get("next_page_token")
        if not token:
            return count


def log_metric_body(run_id: str, key: str, step: int) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "key": key,
        "value": step * 0.001,
        "timestamp": now_ms(),
        "step": step,
    }


# ----------------------------------------------------------------------------- workloads
WARMUP_MAX_S = 10.0  # warm-ups stop after this long even if short of their count


def warm_up(client: httpx.Client, run_id: str, n: int) -> None:
    """``n`` log-metric calls (key ``warm``), or fewer if they take over WARMUP_MAX_S."""
    stop = time.perf_counter() + WARMUP_MAX_S
    for step in range(n):
        client.post(API + "/runs/log-metric", json=log_metric_body(run_id, "warm", step))
        if time.perf_counter() > stop:
            break


def w_log_metric(url: str, sizes: dict[str, Any], cpu: Cpu) -> dict[str, Any]:
    """One keep-alive client, POST runs/log-metric one after another."""
    with httpx.Client(base_url=url, timeout=60) as client:
        eid = new_experiment(client, "seq")
        run_id = new_run(client, eid, "seq")
        path = API + "/runs/log-metric"
        warm_up(client, run_id, sizes["seq_warmup"])
        times: list[float] = []
        errors = 0
        cpu0, ccpu0 = cpu(), time.process_time()
        t_start = time.perf_counter()
        stop = t_start + sizes["seq_max_s"]
        for step in range(sizes["seq_n"]):
            t0 = time.perf_counter()
            status = client.post(path, json=log_metric_body(run_id, "m", step)).status_code
            t1 = time.perf_counter()
            times.append(t1 - t0)
            errors += status != 200
            if t1 > stop:
                break
        total = time.perf_counter() - t_start
        cpu1, ccpu1 = cpu(), time.process_time()
        stored = history_len(client, run_id, "m")
    return {
        **cpu_fields(cpu1 - cpu0, ccpu1 - ccpu0, len(times)),
        "n": len(times),
        "errors": errors,
        "stored": stored,
        "seconds": total,
        "capped": len(times) < sizes["seq_n"],
        "req_per_s": (len(times) - errors) / total,
        **latency_summary(times),
    }


def _conc_client(
    url: str, run_id: str, warmup: int, seconds: float, barrier: Any, queue: Any
) -> None:
    """One of the concurrent clients (a forked process with its own keep-alive connection)."""
    path = API + "/runs/log-metric"
    times: list[float] = []
    errors = 0
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            warm_up(client, run_id, warmup)
            barrier.wait()
            ccpu0 = time.process_time()
            t_start = time.perf_counter()
            stop = t_start + seconds
            step = 0
            while True:
                t0 = time.perf_counter()
                status = client.post(path, json=log_metric_body(run_id, "m", step)).status_code
                t1 = time.perf_counter()
                step += 1
                if status == 200:
                    times.append(t1 - t0)
                else:
                    errors += 1
                if t1 >= stop:
                    break
        cpu_s = time.process_time() - ccpu0
        queue.put({"times": times, "errors": errors, "start": t_start, "end": t1, "cpu": cpu_s})
    except Exception as exc:  # reported by the parent
        queue.put({"error": repr(exc), "times": times, "errors": errors})


def w_concurrent(url: str, sizes: dict[str, Any], cpu: Cpu) -> dict[str, Any]:
    """N forked client processes, each its own run and keep-alive connection, for a fixed
    duration after a common start (a barrier once every client has warmed up)."""
    n = sizes["clients"]
    with httpx.Client(base_url=url, timeout=60) as client:
        eid = new_experiment(client, "concurrent")
        run_ids = [new_run(client, eid, f"client-{i}") for i in range(n)]
    ctx = mp.get_context("fork")
    barrier, queue = ctx.Barrier(n + 1), ctx.Queue()  # + this process, to read the server CPU
    procs = [
        ctx.Process(
            target=_conc_client,
            args=(url, rid, sizes["conc_warmup"], sizes["conc_seconds"], barrier, queue),
        )
        for rid in run_ids
    ]
    for proc in procs:
        proc.start()
    barrier.wait(timeout=600)
    cpu0 = cpu()
    parts = [queue.get(timeout=sizes["conc_seconds"] + 300) for _ in procs]
    cpu1 = cpu()
    for proc in procs:
        proc.join(30)
    failed = [p["error"] for p in parts if "error" in p]
    if failed:
        raise RuntimeError(f"concurrent client failed: {failed[0]}")
    times = [t for p in parts for t in p["times"]]
    window = max(p["end"] for p in parts) - min(p["start"] for p in parts)
    with httpx.Client(base_url=url, timeout=60) as client:
        stored = sum(history_len(client, rid, "m") for rid in run_ids)
    return {
        **cpu_fields(cpu1 - cpu0, sum(p.get("cpu", 0.0) for p in parts), len(times)),
        "clients": n,
        "n": len(times),
        "errors": sum(p["errors"] for p in parts),
        "stored": stored,
        "seconds": window,
        "req_per_s": len(times) / window,
        "per_client": [len(p["times"]) for p in parts],
        **latency_summary(times),
    }


def batch_body(run_id: str, batch: int, metrics: int, keys: int) -> dict[str, Any]:
    steps = metrics // keys
    ts = now_ms()
    return {
        "run_id": run_id,
        "metrics": [
            {
                "key": f"m{k}",
                "value": (batch * steps + s) * 0.5 + k,
                "timestamp": ts,
                "step": batch * steps + s,
            }
            for s in range(steps)
            for k in range(keys)
        ],
    }


def w_log_batch(url: str, sizes: dict[str, Any], cpu: Cpu) -> dict[str, Any]:
    """POST runs/log-batch with 1,000 metrics each (100 keys x 10 steps), one after another."""
    metrics, keys = sizes["batch_metrics"], sizes["batch_keys"]
    with httpx.Client(base_url=url, timeout=300) as client:
        eid = new_experiment(client, "batch")
        run_id = new_run(client, eid, "batch")
        warm = sizes["batch_warmup"]
        for b in range(warm):
            call(client, "/runs/log-batch", batch_body(run_id, b, metrics, keys))
        bodies = [batch_body(run_id, warm + b, metrics, keys) for b in range(sizes["batch_n"])]
        payloads = [json.dumps(b).encode() for b in bodies]  # encoded outside the timing
        headers = {"content-type": "application/json"}
        times: list[float] = []
        cpu0, ccpu0 = cpu(), time.process_time()
        t_start = time.perf_counter()
        stop = t_start + sizes["batch_max_s"]
        for payload in payloads:
            t0 = time.perf_counter()
            response = client.post(API + "/runs/log-batch", content=payload, headers=headers)
            t1 = time.perf_counter()
            if response.status_code != 200:
                raise RuntimeError(f"log-batch -> {response.status_code}: {response.text[:300]}")
            times.append(t1 - t0)
            if t1 > stop:
                break
        total = time.perf_counter() - t_start
        cpu1, ccpu1 = cpu(), time.process_time()
        stored = history_len(client, run_id, "m0")
    expected_m0 = (warm + len(times)) * (metrics // keys)
    return {
        **cpu_fields(cpu1 - cpu0, ccpu1 - ccpu0, len(times)),
        "requests": len(times),
        "metrics": len(times) * metrics,
        "seconds": total,
        "metrics_per_s": len(times) * metrics / total,
        "stored_m0": stored,
        "expected_m0": expected_m0,
        "capped": len(times) < sizes["batch_n"],
        **latency_summary(times),
    }


def seed_rest(
    client: httpx.Client, eid: str, runs: list[SeedRun], max_s: float | None = None
) -> int:
    """runs/create (name, user, team tag) + one log-batch (2 metrics, 3 params) per run;
    returns how many runs were seeded (fewer than ``len(runs)`` once ``max_s`` is up)."""
    stop = time.perf_counter() + max_s if max_s is not None else None
    done = 0
    for r in runs:
        if stop is not None and time.perf_counter() > stop:
            break
        done += 1
        body = {
            "experiment_id": eid,
            "run_name": r.name,
            "start_time": now_ms(),
            "user_id": SEED_USER,
            "tags": [{"key": "team", "value": r.team}],
        }
        run_id = call(client, "/runs/create", body)["run"]["info"]["run_id"]
        ts = now_ms()
        call(
            client,
            "/runs/log-batch",
            {
                "run_id": run_id,
                "metrics": [
                    {"key": "acc", "value": r.acc, "timestamp": ts, "step": 0},
                    {"key": "loss", "value": r.loss, "timestamp": ts, "step": 0},
                ],
                "params": [
                    {"key": "model", "value": r.model},
                    {"key": "lr", "value": r.lr},
                    {"key": "depth", "value": r.depth},
                ],
            },
        )
    return done


def _seed_proc(
    url: str, eid: str, runs: list[SeedRun], indices: list[int], deadline: float, queue: Any
) -> None:
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            mine = [runs[i] for i in indices]
            done = seed_rest(client, eid, mine, max(0.0, deadline - time.monotonic()))
        queue.put({"left": indices[done:]})
    except Exception as exc:  # reported by the parent
        queue.put({"error": repr(exc)})


def seed_rest_parallel(
    url: str, eid: str, runs: list[SeedRun], indices: list[int], procs: int, max_s: float
) -> list[int]:
    """seed_rest of ``runs[i] for i in indices`` from ``procs`` forked client processes, each
    on its own slice, for at most ``max_s``; returns the indices left unseeded."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    deadline = time.monotonic() + max_s
    workers = [
        ctx.Process(target=_seed_proc, args=(url, eid, runs, indices[i::procs], deadline, queue))
        for i in range(procs)
    ]
    for w in workers:
        w.start()
    parts = [queue.get(timeout=max_s + 600) for _ in workers]
    for w in workers:
        w.join(30)
    failed = [p["error"] for p in parts if "error" in p]
    if failed:
        raise RuntimeError(f"REST seeding failed: {failed[0]}")
    return sorted(i for p in parts for i in p["left"])


def run_seeder(server: Server, spec: dict[str, Any]) -> dict[str, Any]:
    """``_server_seed.py`` next to the live server (its DB, its environment)."""
    proc = subprocess.run(
        [sys.executable, str(SEEDER), json.dumps(spec)],
        capture_output=True,
        text=True,
        env=server_env(server.home),
        cwd=server.home,
        timeout=900,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def w_search(url: str, sizes: dict[str, Any], server: Server, cpu: Cpu) -> dict[str, Any]:
    """runs/search with a filter and an order over ``search_runs`` runs.

    Seeding: the first ``search_api_runs`` runs go through the REST API on every side, from one
    client (that rate is reported; fewer runs if it takes over ``seed_api_max_s``). mlflowx gets
    the rest through REST too, from ``seed_procs`` client processes at once, for at most
    ``seed_rest_max_s`` (whatever is left then goes through mlflowx's own store API in a
    subprocess: only on a heavily loaded machine); MLflow gets the rest bulk-inserted through its
    own SQLAlchemy table models in a subprocess (``_server_seed.py``) while its server idles.
    """
    n, api_n = sizes["search_runs"], min(sizes["search_api_runs"], sizes["search_runs"])
    runs = seed_data(n)
    with httpx.Client(base_url=url, timeout=600) as client:
        eid = new_experiment(client, "search")
        t0 = time.perf_counter()
        api_n = seed_rest(client, eid, runs[:api_n], sizes["seed_api_max_s"])
        api_s = time.perf_counter() - t0
        rest = list(range(api_n, n))
        experiment = client.get(API + "/experiments/get", params={"experiment_id": eid})
        spec = {
            "side": "mlflowx" if server.side.startswith("mlflowx") else "mlflow",
            "db": server.backend,
            "experiment_id": eid,
            "artifact_location": experiment.json()["experiment"]["artifact_location"],
            "total": n,
        }
        t1 = time.perf_counter()
        bulk: dict[str, Any] = {}
        if spec["side"] == "mlflowx":
            rest_mode = "rest"
            left = seed_rest_parallel(
                url, eid, runs, rest, sizes["seed_procs"], sizes["seed_rest_max_s"]
            )
            rest_rest = len(rest) - len(left)
            if left:
                rest_mode = "rest+store"
                bulk = run_seeder(server, {**spec, "indices": left})
        else:
            rest_mode, rest_rest = "bulk", 0
            bulk = run_seeder(server, {**spec, "indices": rest})
        rest_s = time.perf_counter() - t1

        body = {
            "experiment_ids": [eid],
            "filter": SEARCH_FILTER,
            "order_by": SEARCH_ORDER,
            "max_results": 100,
            "run_view_type": "ACTIVE_ONLY",
        }
        result: dict[str, Any] = {}
        for _ in range(sizes["search_warmup"]):
            result = call(client, "/runs/search", body)
        times: list[float] = []
        cpu0, ccpu0 = cpu(), time.process_time()
        stop = time.perf_counter() + sizes["search_max_s"]
        for _ in range(sizes["search_queries"]):
            t0 = time.perf_counter()
            result = call(client, "/runs/search", body)
            times.append(time.perf_counter() - t0)
            if time.perf_counter() > stop and len(times) >= 5:
                break
        cpu1, ccpu1 = cpu(), time.process_time()
    found = result.get("runs", [])
    accs = [next(m["value"] for m in r["data"]["metrics"] if m["key"] == "acc") for r in found]
    expected = sorted((r.acc for r in runs if r.acc > 0.5 and r.model == "tree"), reverse=True)
    return {
        "runs": n,
        "api_runs": api_n,
        "seed_api_s": api_s,
        "seed_api_runs_per_s": api_n / api_s,
        "seed_rest_mode": rest_mode,
        "seed_rest_runs_via_rest": rest_rest,
        "seed_rest_s": rest_s,
        "seed_total_s": api_s + rest_s,
        "seed_bulk": bulk,
        "queries": len(times),
        **cpu_fields(cpu1 - cpu0, ccpu1 - ccpu0, len(times)),
        "results": len(found),
        "results_correct": accs == expected[:100],
        "next_page_token": bool(result.get("next_page_token")),
        **latency_summary(times),
    }


# ---------------------------------------------------------------------------------- sides
def profiled(
    side: str, name: str, pid: int, step: Callable[[], dict[str, Any]], sizes: dict[str, Any]
) -> dict[str, Any]:
    """Run ``step`` under py-spy; print and return the summary next to its result."""
    out = RESULTS_DIR / f"pyspy-{side}-{name}.txt"
    spy = _server_profile.start(pid, out, PROFILE_RATE)
    time.sleep(1.0)  # let py-spy attach
    t0 = time.perf_counter()
    try:
        result = step()
    finally:
        seconds = time.perf_counter() - t0
        _server_profile.stop(spy)
    warm = {
        "log_metric": sizes["seq_warmup"],
        "log_batch": sizes["batch_warmup"],
        "concurrent": sizes["conc_warmup"] * sizes["clients"],
    }.get(name, 0)
    requests = result.get("n", result.get("requests", 0)) + warm
    summary = _server_profile.summarize(out, PROFILE_RATE, seconds, requests)
    result["profile"] = {"file": str(out), **summary}
    PROFILES.append(_server_profile.render(summary, f"{side} {name}"))
    return result


PROFILES: list[str] = []


def run_all(
    sides: list[str], workloads: list[str], sizes: dict[str, Any], keep: bool, profile: bool
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Every side's server stays up for the whole run, but only the one being measured runs:
    the others are paused (SIGSTOP on their process group, so MLflow's job consumers stop
    polling too). Workloads go one at a time, each through every side back to back (the side
    order alternating), so the sides of one workload see about the same machine load."""
    results: dict[str, dict[str, Any]] = {side: {} for side in sides}
    errors: dict[str, str] = {}
    roots = {side: Path(tempfile.mkdtemp(prefix=f"bench-server-{side}-")) for side in sides}
    servers: dict[str, Server] = {}
    try:
        for side in sides:
            print(f"[{side:<10}] starting server ...", end="", flush=True)
            try:
                server = start_server(side, roots[side] / "main", sizes["ready_timeout_s"])
            except Exception as exc:
                errors[f"start/{side}"] = str(exc)
                print(f" FAILED: {exc}")
                continue
            server.pause()
            servers[side] = server
            results[side]["ready_first_s"] = server.ready_s
            print(f" ready in {server.ready_s:.2f}s (server CPU {server.ready_cpu_s:.2f}s)")
        timed = ("log_metric", "concurrent", "log_batch", "search", "clients", "load")
        steps = [w for w in timed if w in workloads]
        for i, name in enumerate(steps):
            order = list(servers) if i % 2 == 0 else list(reversed(servers))
            for side in order:
                run_step(servers[side], name, sizes, profile, results[side], errors)
        if "memory" in workloads:
            for side, server in servers.items():
                results[side]["memory"] = tree_memory(server.proc.pid)
                print(f"[{side:<10}]   memory      {brief('memory', results[side]['memory'])}")
    finally:
        for server in servers.values():
            server.stop()
    if "ready" in workloads:
        ready_all(sides, servers, roots, sizes, results, errors)
    if not keep:
        BACKEND.drop_all()
    for side, root in roots.items():
        if keep:
            print(f"[{side:<10}] kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return results, errors


def run_step(
    server: Server,
    name: str,
    sizes: dict[str, Any],
    profile: bool,
    results: dict[str, Any],
    errors: dict[str, str],
) -> None:
    side, pid = server.side, server.proc.pid

    def cpu() -> float:
        return tree_cpu(pid)

    steps: dict[str, Callable[[], dict[str, Any]]] = {
        "log_metric": lambda: w_log_metric(server.url, sizes, cpu),
        "concurrent": lambda: w_concurrent(server.url, sizes, cpu),
        "log_batch": lambda: w_log_batch(server.url, sizes, cpu),
        "search": lambda: w_search(server.url, sizes, server, cpu),
        "clients": lambda: _server_load.w_clients(
            server.url, sizes, cpu, pid, server.backend, call, history_len, latency_summary
        ),
        "load": lambda: _server_load.w_load(
            server.url, load_sizes(side, sizes), cpu, pid, server.backend, call, latency_summary
        ),
    }
    print(f"[{side:<10}]   {name:<11}", end="", flush=True)
    server.resume()
    t0 = time.perf_counter()
    load = os.getloadavg()[0]
    try:
        before = tree_cpu_by_process(pid)
        if profile and name in PROFILED and side.startswith("mlflowx"):
            result = profiled(side, name, pid, steps[name], sizes)
        else:
            result = steps[name]()
        after = tree_cpu_by_process(pid)
        # The whole step (set-up and checks included): which processes did the work.
        result["cpu_s_by_process"] = {k: round(v - before.get(k, 0.0), 3) for k, v in after.items()}
        result["load_at_start"] = load
        results[name] = result
        print(f" {time.perf_counter() - t0:6.1f}s  {brief(name, result)}")
    except Exception as exc:
        errors[f"{name}/{side}"] = f"{exc}\n{server.tail(10)}"
        print(f" FAILED: {exc}")
    finally:
        server.pause()


def load_sizes(side: str, sizes: dict[str, Any]) -> dict[str, Any]:
    """MLflow's side of the load workload gets its own (smaller) size and time cap."""
    if side.startswith("mlflowx"):
        return sizes
    return {
        **sizes,
        "load_runs": sizes["load_runs_mlflow"],
        "load_max_s": sizes["load_max_s_mlflow"],
    }


def ready_all(
    sides: list[str],
    servers: dict[str, Server],
    roots: dict[str, Path],
    sizes: dict[str, Any],
    results: dict[str, dict[str, Any]],
    errors: dict[str, str],
) -> None:
    """Time to ready, sides interleaved: on fresh dirs (the workload server's start is the first
    sample), then once more on each workload server's now-populated DB."""
    fresh: dict[str, list[tuple[float, float]]] = {
        side: [(s.ready_s, s.ready_cpu_s)] for side, s in servers.items()
    }
    existing: dict[str, tuple[float, float]] = {}
    try:
        for i in range(sizes["ready_fresh"] - 1):
            for side in servers:
                server = start_server(side, roots[side] / f"fresh-{i}", sizes["ready_timeout_s"])
                server.stop()
                fresh[side].append((server.ready_s, server.ready_cpu_s))
        for side, main in servers.items():
            again = start_server(side, main.home, sizes["ready_timeout_s"])
            again.stop()
            existing[side] = (again.ready_s, again.ready_cpu_s)
    except Exception as exc:
        errors["ready"] = str(exc)
        print(f"ready FAILED: {exc}")
    for side in servers:
        walls = [w for w, _ in fresh[side]]
        cpus = [c for _, c in fresh[side]]
        r = {
            "fresh_s": walls,
            "fresh_median_s": statistics.median(walls),
            "fresh_cpu_s": cpus,
            "fresh_cpu_median_s": statistics.median(cpus),
        }
        if side in existing:
            r["existing_s"], r["existing_cpu_s"] = existing[side]
        results[side]["ready"] = r
        print(
            f"[{side:<10}]   ready       fresh median {r['fresh_median_s']:.2f}s "
            f"{fmt_list(walls)}, server CPU until ready {fmt_list(cpus)}; existing DB "
            f"{r.get('existing_s', float('nan')):.2f}s"
        )


def fmt_list(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.2f}" for v in values) + "]"


def brief(name: str, r: dict[str, Any]) -> str:
    if name in ("log_metric", "concurrent"):
        note = (
            f"{r['n']:,} req, {r['req_per_s']:,.0f} req/s, p50 {r['p50_ms']:.2f} ms, "
            f"p99 {r['p99_ms']:.2f} ms, errors {r['errors']}, stored {r['stored']:,}, "
            f"CPU/req server {r['server_cpu_ms_per_req']:.2f} ms client "
            f"{r['client_cpu_ms_per_req']:.2f} ms"
        )
        return note + (" (time cap hit)" if r.get("capped") else "")
    if name == "log_batch":
        ok = "" if r["stored_m0"] == r["expected_m0"] else f" STORED {r['stored_m0']}!"
        return (
            f"{r['requests']} x 1,000, {r['metrics_per_s']:,.0f} metrics/s, "
            f"p50 {r['p50_ms']:.1f} ms/request, server CPU {r['server_cpu_ms_per_req']:.1f} "
            f"ms/request{ok}"
        )
    if name == "search":
        ok = "results ok" if r["results_correct"] else "RESULTS DIFFER FROM EXPECTED!"
        return (
            f"seed {r['seed_total_s']:.1f}s ({r.get('seed_rest_mode', '?')}; one REST client "
            f"{r['seed_api_runs_per_s']:.0f} runs/s), "
            f"{r['queries']} queries p50 {r['p50_ms']:.1f} ms, server CPU "
            f"{r['server_cpu_ms_per_req']:.1f} ms/query, {ok}"
        )
    if name == "clients":
        return (
            f"{r['clients']} clients, {r['n']:,} req, {r['req_per_s']:,.0f} req/s, "
            f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, errors {r['errors']}, stored "
            f"{r['stored']:,}, RSS peak {r['rss_peak_mib']:.0f} MiB, CPU/req server "
            f"{r['server_cpu_ms_per_req']:.2f} ms client {r['client_cpu_ms_per_req']:.2f} ms"
        )
    if name == "load":
        ok = {True: "counts ok", False: "COUNTS DIFFER!", None: "no count"}[r["counts_ok"]]
        return (
            f"{r['runs_complete']:,}/{r['runs_asked']:,} runs in {r['seconds']:.0f}s, "
            f"{r['runs_per_s']:,.0f} runs/s, {r['req_per_s']:,.0f} req/s, p50 "
            f"{r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, errors {r['errors']}, {ok}, "
            f"RSS peak {r['rss_peak_mib']:.0f} MiB, CPU/req server "
            f"{r['server_cpu_ms_per_req']:.2f} ms client {r['client_cpu_ms_per_req']:.2f} ms"
            + (" (time cap hit)" if r["capped"] else "")
        )
    if name == "memory":
        return f"PSS {r['pss_mib']:.0f} MiB over {len(r['processes'])} processes"
    return ""


# ---------------------------------------------------------------------------------- table
@dataclass
class Row:
    workload: str
    unit: str
    mlflowx: float | None
    mlflow: float | None
    higher_is_better: bool
    goal: str = "-"
    check: Callable[[float | None, float | None], bool | None] | None = None

    @property
    def ratio(self) -> float | None:
        """How many times better mlflowx is (rates: x/m; times: m/x)."""
        if self.mlflowx is None or self.mlflow is None or not self.mlflowx or not self.mlflow:
            return None
        return self.mlflowx / self.mlflow if self.higher_is_better else self.mlflow / self.mlflowx

    @property
    def met(self) -> bool | None:
        return self.check(self.mlflowx, self.ratio) if self.check else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "unit": self.unit,
            "mlflowx": self.mlflowx,
            "mlflow": self.mlflow,
            "higher_is_better": self.higher_is_better,
            "goal": self.goal,
            "ratio": self.ratio,
            "met": self.met,
        }


def ratio_at_least(target: float) -> Callable[[float | None, float | None], bool | None]:
    return lambda _value, ratio: None if ratio is None else ratio >= target


def below(limit: float) -> Callable[[float | None, float | None], bool | None]:
    return lambda value, _ratio: None if value is None else value < limit


def at_most(limit: float) -> Callable[[float | None, float | None], bool | None]:
    return lambda value, _ratio: None if value is None else value <= limit


def at_least(limit: float) -> Callable[[float | None, float | None], bool | None]:
    return lambda value, _ratio: None if value is None else value >= limit


def both(
    *checks: Callable[[float | None, float | None], bool | None],
) -> Callable[[float | None, float | None], bool | None]:
    def check(value: float | None, ratio: float | None) -> bool | None:
        outcomes = [c(value, ratio) for c in checks]
        return None if None in outcomes else all(outcomes)

    return check


def build_rows(res: dict[str, dict[str, Any]], sizes: dict[str, Any]) -> list[Row]:
    def get(side: str, workload: str, key: str) -> float | None:
        value = res.get(side, {}).get(workload, {})
        value = value.get(key) if isinstance(value, dict) else None
        return float(value) if isinstance(value, int | float) else None

    rows: list[Row] = []
    w2_label = "   ...--workers 2" if "mlflow-w2" in res else "   ...mlflowx --workers 2"

    def add(
        label: str,
        unit: str,
        workload: str,
        key: str,
        higher: bool,
        goal: str = "-",
        check: Callable[[float | None, float | None], bool | None] | None = None,
        scale: float = 1.0,
    ) -> None:
        def val(side: str) -> float | None:
            v = get(side, workload, key)
            return None if v is None else v * scale

        if "mlflowx" in res or "mlflow" in res:
            rows.append(Row(label, unit, val("mlflowx"), val("mlflow"), higher, goal, check))
        if "mlflowx-w2" in res or "mlflow-w2" in res:
            label_w2 = label if "mlflowx" not in res and "mlflow" not in res else w2_label
            other = val("mlflow-w2") if "mlflow-w2" in res else val("mlflow")
            rows.append(Row(label_w2, unit, val("mlflowx-w2"), other, higher, goal, check))

    clients = sizes["clients"]
    add(f"1. log-metric sequential x{sizes['seq_n']:,}", "req/s", "log_metric", "req_per_s", True)
    add("   ...p50 latency", "ms", "log_metric", "p50_ms", False)
    add("   ...server CPU per request", "ms", "log_metric", "server_cpu_ms_per_req", False)
    goal_conc = ">= 5x & p99 < 50 ms"
    p99 = get("mlflowx", "concurrent", "p99_ms")
    conc_check = both(ratio_at_least(5), lambda _v, _r: None if p99 is None else p99 < 50)
    add(
        f"2. log-metric {clients} clients, {sizes['conc_seconds']}s",
        "req/s",
        "concurrent",
        "req_per_s",
        True,
        goal_conc,
        conc_check,
    )
    if "mlflowx-w2" in res:  # the extra row's own p99
        p99_w2 = get("mlflowx-w2", "concurrent", "p99_ms")
        rows[-1].check = both(
            ratio_at_least(5), lambda _v, _r: None if p99_w2 is None else p99_w2 < 50
        )
    add("   ...p50 latency", "ms", "concurrent", "p50_ms", False)
    add("   ...p99 latency", "ms", "concurrent", "p99_ms", False, "< 50 ms", below(50))
    add("   ...server CPU per request", "ms", "concurrent", "server_cpu_ms_per_req", False)
    add(
        "3. log-batch 1,000 metrics/request",
        "metrics/s",
        "log_batch",
        "metrics_per_s",
        True,
        ">= 10x",
        ratio_at_least(10),
    )
    add(
        f"4. runs/search p50 @{sizes['search_runs']:,} runs",
        "ms",
        "search",
        "p50_ms",
        False,
        ">= 10x",
        ratio_at_least(10),
    )
    add("   seed via REST (create + log-batch)", "runs/s", "search", "seed_api_runs_per_s", True)
    add(
        f"   seed all {sizes['search_runs']:,} runs (mlflow: bulk)",
        "s",
        "search",
        "seed_total_s",
        False,
    )
    add(
        "5. server PSS, whole tree, after workload",
        "MiB",
        "memory",
        "pss_mib",
        False,
        "< 250 MiB",
        below(250),
    )
    add(
        "6. time to ready, fresh dir (median)",
        "s",
        "ready",
        "fresh_median_s",
        False,
        "< 1.5 s",
        below(1.5),
    )
    add("   ...server CPU used until ready", "s", "ready", "fresh_cpu_median_s", False)
    add("   time to ready, existing DB", "s", "ready", "existing_s", False)
    rows += load_rows(res, sizes, add)
    return [r for r in rows if r.mlflowx is not None or r.mlflow is not None]


def load_rows(res: dict[str, dict[str, Any]], sizes: dict[str, Any], add: Any) -> list[Row]:
    """The rows of ``clients`` and ``load`` (bench/_server_load.py); ``add`` appends to the
    table itself, so this returns nothing extra."""
    if any("clients" in r for r in res.values()):
        label = f"7. log-metric {sizes['many_clients']} clients, {sizes['clients_seconds']}s"
        add(label, "req/s", "clients", "req_per_s", True)
        add("   ...p50 latency", "ms", "clients", "p50_ms", False)
        add("   ...p99 latency", "ms", "clients", "p99_ms", False, "<= 100 ms", at_most(100))
        add("   ...errors", "count", "clients", "errors", False, "0", at_most(0))
        add("   ...server RSS, whole tree, peak", "MiB", "clients", "rss_peak_mib", False)
        add("   ...server CPU per request", "ms", "clients", "server_cpu_ms_per_req", False)
        add("   ...database CPU per request", "ms", "clients", "db_cpu_ms_per_req", False)
        add("   ...client CPU per request", "ms", "clients", "client_cpu_ms_per_req", False)
    if any("load" in r for r in res.values()):
        label = f"8. load runs x 10 params x 10 metrics, {sizes['load_clients']} clients"
        add(label, "runs/s", "load", "runs_per_s", True)
        add("   ...requests (create + log-batch)", "req/s", "load", "req_per_s", True)
        add("   ...runs loaded", "runs", "load", "runs_complete", True)
        add("   ...p50 latency", "ms", "load", "p50_ms", False)
        add("   ...p99 latency", "ms", "load", "p99_ms", False)
        add("   ...errors", "count", "load", "errors", False, "0", at_most(0))
        add("   ...count check (1 = all stored)", "ok", "load", "counts_ok", True, "1", at_least(1))
        add("   ...server RSS, whole tree, peak", "MiB", "load", "rss_peak_mib", False)
        add("   ...server CPU per request", "ms", "load", "server_cpu_ms_per_req", False)
        add("   ...database CPU per request", "ms", "load", "db_cpu_ms_per_req", False)
        add("   ...client CPU per request", "ms", "load", "client_cpu_ms_per_req", False)
    return []


def fmt_value(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render(rows: list[Row]) -> str:
    header = ("workload", "unit", "mlflowx", "mlflow", "ratio", "goal", "met?")
    cells = [header] + [
        (
            r.workload,
            r.unit,
            fmt_value(r.mlflowx),
            fmt_value(r.mlflow),
            "n/a" if r.ratio is None else f"{r.ratio:,.1f}x",
            r.goal,
            {True: "yes", False: "NO", None: "-"}[r.met],
        )
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    right = {2, 3, 4}

    def line(c: tuple[str, ...]) -> str:
        return " | ".join(
            c[i].rjust(widths[i]) if i in right else c[i].ljust(widths[i]) for i in range(len(c))
        )

    out = [line(cells[0]), "-+-".join("-" * w for w in widths)]
    out += [line(c) for c in cells[1:]]
    return "\n".join(out)


# ----------------------------------------------------------------------------------- main
def parse_list(value: str, allowed: tuple[str, ...], what: str) -> list[str]:
    chosen = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in allowed]
    if unknown:
        raise SystemExit(f"unknown {what} {unknown}; choose from {list(allowed)}")
    return chosen


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument(
        "--only",
        default=",".join(WORKLOADS),
        help=f"comma-separated workloads, from: {', '.join(WORKLOADS)}",
    )
    parser.add_argument(
        "--sides", default=",".join(SIDES), help=f"comma-separated sides, from: {', '.join(SIDES)}"
    )
    parser.add_argument("--keep", action="store_true", help="keep the servers' temp dirs")
    parser.add_argument("--no-json", action="store_true", help="don't write bench/results/")
    parser.add_argument(
        "--profile",
        action="store_true",
        help=f"py-spy the mlflowx servers during {', '.join(PROFILED)} (needs "
        "`pip install py-spy`; slows them down: use for the profile, not the "
        "figures)",
    )
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="the servers' store: a SQLite file each, or a fresh PostgreSQL database each",
    )
    parser.add_argument(
        "--postgres-uri",
        default=os.environ.get(
            "MLFLOWX_BENCH_POSTGRES_URI", "postgresql://mlflowx:mlflowx@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server (and role allowed to create databases) for --backend postgres",
    )
    parser.add_argument(
        "--pg-prefix", default="bench_server", help="prefix of the databases made per server"
    )
    parser.add_argument("--load-runs", type=int, help="runs for the load workload")
    parser.add_argument("--load-max-s", type=float, help="time cap of the load workload")
    parser.add_argument("--load-runs-mlflow", type=int, help="runs for MLflow's load workload")
    parser.add_argument("--load-max-s-mlflow", type=float, help="MLflow's load time cap")
    parser.add_argument("--clients", type=int, help="clients of the clients workload (64)")
    parser.add_argument(
        "--ready-timeout", type=float, help="seconds a server may take to start (default 180)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workloads = parse_list(args.only, WORKLOADS, "workload(s)")
    sides = parse_list(args.sides, SIDES, "side(s)")
    sizes = dict(QUICK_SIZES if args.quick else FULL_SIZES)
    for option, key in (
        (args.load_runs, "load_runs"),
        (args.load_max_s, "load_max_s"),
        (args.clients, "many_clients"),
        (args.load_runs_mlflow, "load_runs_mlflow"),
        (args.load_max_s_mlflow, "load_max_s_mlflow"),
        (args.ready_timeout, "ready_timeout_s"),
    ):
        if option is not None:
            sizes[key] = option
    BACKEND.kind, BACKEND.pg_base, BACKEND.prefix = args.backend, args.postgres_uri, args.pg_prefix
    if args.profile and not _server_profile.available():
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    cpus = os.cpu_count() or 1
    load = os.getloadavg()[0]
    print(
        f"server bench: {'quick' if args.quick else 'full'}, workloads={workloads}, "
        f"sides={sides}, backend={args.backend}, cpus={cpus}, load={load:.2f}"
    )
    if load > cpus:
        print(f"WARNING: load average {load:.1f} > {cpus} cpus; timings will be noisy")
    started = time.perf_counter()
    results, errors = run_all(sides, workloads, sizes, args.keep, args.profile)
    rows = build_rows(results, sizes)
    print()
    print(render(rows))
    print(
        "\nratio = how many times better mlflowx is (rates: mlflowx/mlflow; times: mlflow/mlflowx)."
    )
    for side in sides:
        conc = results[side].get("concurrent")
        if conc:
            print(
                f"{side}: {conc['clients']} clients -> errors {conc['errors']}, "
                f"stored {conc['stored']:,} of {conc['n']:,}, "
                f"per client {conc['per_client']}"
            )
        mem = results[side].get("memory")
        if mem:
            parts = ", ".join(f"{p['cmd'][:40]} {p['pss_mib']:.0f}" for p in mem["processes"])
            print(f"{side}: PSS by process (MiB): {parts}")
    print("load average when each workload started:")
    for name in ("log_metric", "concurrent", "log_batch", "search"):
        loads = [
            f"{side} {results[side][name]['load_at_start']:.1f}"
            for side in sides
            if name in results[side]
        ]
        if loads:
            print(f"  {name:<11} {', '.join(loads)}")
    print(f"total {time.perf_counter() - started:.0f}s; load avg now {os.getloadavg()[0]:.2f}")
    for text in PROFILES:
        print("\n" + text)
    if errors:
        print("\nERRORS:")
        for key, message in errors.items():
            print(f"  {key}: {message}")
    if not args.no_json:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        RESULTS_DIR.mkdir(exist_ok=True)
        path = RESULTS_DIR / f"server-{stamp}.json"
        payload = {
            "timestamp": stamp,
            "mode": "quick" if args.quick else "full",
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": cpus,
                "load_at_start": load,
            },
            "sizes": sizes,
            "backend": args.backend,
            # e.g. options=-c synchronous_commit=off: settings the servers' connections ask for.
            "postgres_query": unquote(urlsplit(args.postgres_uri or "").query),
            "table": [r.as_dict() for r in rows],
            "results": results,
            "errors": errors,
            "seconds": time.perf_counter() - started,
        }
        path.write_text(json.dumps(payload, indent=2))
        print(f"results: {path.relative_to(BENCH_DIR.parent)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
