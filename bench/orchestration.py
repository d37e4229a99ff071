"""What tracking adds to a Prefect flow: 50 tasks, each a tracked child run, against plain Prefect.

    .venv/bin/python bench/orchestration.py                 # 7 repetitions, heartbeats on
    .venv/bin/python bench/orchestration.py --reps 3 --tasks 20
    .venv/bin/python bench/orchestration.py --no-heartbeat  # also: flows without heartbeats
    .venv/bin/python bench/orchestration.py --profile       # cProfile of the tracked flow

One ``prefect server`` is started for the whole run (PostgreSQL for Prefect's own database when
``MLFLOWX_TEST_POSTGRES_URI`` is set, which avoids SQLite's "database is locked" stalls after
task-heavy flows; else SQLite). Tracking goes to the embedded SQLite store in a temp dir. Prefect
runs with its default settings (flow heartbeats on) unless ``--no-heartbeat``.

Each repetition runs the same flow twice, plain (``@prefect.flow`` + ``@prefect.task``) and
tracked (``@mlflowx.flow`` + ``@mlflowx.task(track=True)``), in alternating order. Reported:
- per task: median wall time of one task call measured inside the flow, tracked minus plain;
- per task, tracking alone: the time the tracking wrapper spends around the task function
  (create the child run, one log_batch, end it), measured inside the wrapper, as wall time and
  as the thread's CPU time (which a loaded machine distorts much less);
- whole flow: median flow call time, tracked / plain.
Results go to ``bench/results/orchestration-<UTC timestamp>.json``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
QUIET = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_EPHEMERAL_ENABLED": "false",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prefect_database(tmp: Path) -> tuple[str | None, str]:
    """(connection URL for Prefect's server, label): PostgreSQL if the test one is given."""
    base = os.environ.get("MLFLOWX_TEST_POSTGRES_URI")
    if not base:
        return None, "sqlite"
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    name = f"prefect_bench_{os.getpid()}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(base)
    return urlunsplit(parts._replace(scheme="postgresql+asyncpg", path=f"/{name}")), "postgresql"


def start_server(home: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    import httpx

    port = free_port()
    env = {**os.environ, **QUIET, "PREFECT_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)
    db, label = prefect_database(home)
    if db:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = db
    log = (home / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(port), "--analytics-off"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 180
    while True:
        if proc.poll() is not None:
            raise RuntimeError((home / "server.log").read_text())
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url, label
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise RuntimeError("prefect server not ready in 180 s")
        time.sleep(0.25)


def build_flows(n_tasks: int) -> dict[str, Any]:
    """The plain and the tracked flow, and where the tracked one records wrapper time."""
    import prefect

    import mlflowx
    from mlflowx.orchestration import tracked

    inner: list[float] = []  # time inside the task function, tracked flow
    inner_cpu: list[float] = []
    calls: dict[str, list[float]] = {"plain": [], "tracked": []}

    def work(x: int) -> dict[str, float]:
        t0, c0 = time.perf_counter(), time.thread_time()
        value = {"loss": 1.0 / (x + 1), "score": float(x)}
        inner.append(time.perf_counter() - t0)
        inner_cpu.append(time.thread_time() - c0)
        return value

    plain_task = prefect.task(work, name="work")
    tracked_task = mlflowx.task(work, track=True, name="work")  # type: ignore[call-overload]

    # Time the tracking wrapper of every tracked task call: wrapper total minus the function.
    wrapper_total: list[float] = []
    wrapper_cpu: list[float] = []
    original = tracked_task.fn

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            wrapper_total.append(time.perf_counter() - t0)
            wrapper_cpu.append(time.thread_time() - c0)

    tracked_task.fn = timed

    def body(task: Any, label: str, lr: float, epochs: int) -> float:
        total = 0.0
        for i in range(n_tasks):
            t0 = time.perf_counter()
            total += task(i)["loss"]
            calls[label].append(time.perf_counter() - t0)
        return total

    def plain_fn(lr: float = 0.1, epochs: int = 3) -> float:
        return body(plain_task, "plain", lr, epochs)

    def tracked_fn(lr: float = 0.1, epochs: int = 3) -> float:
        return body(tracked_task, "tracked", lr, epochs)

    return {
        "plain": prefect.flow(plain_fn, name="bench-plain"),
        "tracked": mlflowx.flow(tracked_fn, name="bench-tracked", experiment="bench"),
        "calls": calls,
        "inner": inner,
        "inner_cpu": inner_cpu,
        "wrapper_total": wrapper_total,
        "wrapper_cpu": wrapper_cpu,
        "tracked_module": tracked,
    }


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000 if values else float("nan")


def run(args: argparse.Namespace) -> dict[str, Any]:
    import mlflowx

    flows = build_flows(args.tasks)
    flow_times: dict[str, list[float]] = {"plain": [], "tracked": []}
    # Warm-up: imports, server connection, experiment creation, SQLite schema.
    for name in ("plain", "tracked"):
        flows[name]()
    for key in ("plain", "tracked"):
        flows["calls"][key].clear()
    for key in ("inner", "inner_cpu", "wrapper_total", "wrapper_cpu"):
        flows[key].clear()

    for rep in range(args.reps):
        order = ("plain", "tracked") if rep % 2 == 0 else ("tracked", "plain")
        for name in order:
            t0 = time.perf_counter()
            flows[name]()
            flow_times[name].append(time.perf_counter() - t0)
        print(
            f"  rep {rep + 1}/{args.reps}: plain {flow_times['plain'][-1]:.3f} s, "
            f"tracked {flow_times['tracked'][-1]:.3f} s",
            flush=True,
        )

    calls = flows["calls"]
    wrapper = [w - i for w, i in zip(flows["wrapper_total"], flows["inner"], strict=False)]
    wrapper_cpu = [w - i for w, i in zip(flows["wrapper_cpu"], flows["inner_cpu"], strict=False)]
    client = mlflowx.MlflowClient()
    experiment = client.get_experiment_by_name("bench")
    assert experiment is not None
    n_runs = len(client.search_runs([experiment.experiment_id], max_results=50_000))
    expected = (args.reps + 1) * (args.tasks + 1)
    result = {
        "tasks_per_flow": args.tasks,
        "reps": args.reps,
        "heartbeats": not args.no_heartbeat,
        "task_call_ms_plain_median": median_ms(calls["plain"]),
        "task_call_ms_tracked_median": median_ms(calls["tracked"]),
        "added_ms_per_task": median_ms(calls["tracked"]) - median_ms(calls["plain"]),
        "tracking_wrapper_ms_per_task_median": median_ms(wrapper),
        "tracking_wrapper_ms_per_task_p90": (
            statistics.quantiles(wrapper, n=10)[-1] * 1000 if len(wrapper) >= 10 else None
        ),
        "tracking_wrapper_cpu_ms_per_task_median": median_ms(wrapper_cpu),
        "flow_s_plain_median": statistics.median(flow_times["plain"]),
        "flow_s_tracked_median": statistics.median(flow_times["tracked"]),
        "flow_ratio": statistics.median(flow_times["tracked"])
        / statistics.median(flow_times["plain"]),
        "added_ms_per_task_from_flow_times": (
            statistics.median(flow_times["tracked"]) - statistics.median(flow_times["plain"])
        )
        * 1000
        / args.tasks,
        "flow_times_s": flow_times,
        "tracking_runs": n_runs,
        "tracking_runs_expected": expected,
    }
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        flows["tracked"]()
        profiler.disable()
        RESULTS_DIR.mkdir(exist_ok=True)
        out = RESULTS_DIR / "profile-orchestration.prof"
        profiler.dump_stats(out)
        print(f"\nprofile of one tracked flow: {out}")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(
            "mlflowx/(orchestration|store|tracking)", 25
        )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--no-heartbeat", action="store_true", help="turn flow heartbeats off")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-json", action="store_true")
    args = parser.parse_args()

    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1):
        print(f"warning: load average {load:.1f} > {os.cpu_count()} CPUs; figures are noisy")
    with tempfile.TemporaryDirectory(prefix="mlflowx-bench-orch-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "prefect").mkdir()
        proc, url, db = start_server(tmp / "prefect")
        try:
            os.environ.update(
                {**QUIET, "PREFECT_API_URL": url, "PREFECT_HOME": str(tmp / "prefect")}
            )
            os.environ["MLFLOWX_HOME"] = str(tmp)
            for name in ("MLFLOWX_TRACKING_URI", "MLFLOW_TRACKING_URI"):
                os.environ.pop(name, None)
            os.chdir(tmp)
            from prefect.settings import (
                PREFECT_API_URL,
                PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
                temporary_settings,
            )

            updates: dict[Any, Any] = {PREFECT_API_URL: url}
            if args.no_heartbeat:
                updates[PREFECT_FLOWS_HEARTBEAT_FREQUENCY] = None
            print(
                f"prefect server on {db}; {args.tasks} tasks per flow; {args.reps} repetitions; "
                f"heartbeats {'off' if args.no_heartbeat else 'on (Prefect default)'}"
            )
            if db == "sqlite":
                print(
                    "warning: Prefect's own SQLite database stalls for seconds after task-heavy "
                    "flows (both sides alike; measured here: ~7 s flows instead of ~1.5 s); set "
                    "MLFLOWX_TEST_POSTGRES_URI for figures that show what tracking adds"
                )
            with temporary_settings(updates=updates):
                result = run(args)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    result["prefect_db"] = db
    result["load_average"] = load
    result["python"] = platform.python_version()

    print()
    print(f"{'measure':<52} {'value':>10}")
    rows = [
        ("task call, plain Prefect (median ms)", result["task_call_ms_plain_median"]),
        ("task call, tracked (median ms)", result["task_call_ms_tracked_median"]),
        ("added per tracked task (ms; goal < 1)", result["added_ms_per_task"]),
        (
            "tracking wrapper alone per task (median ms)",
            result["tracking_wrapper_ms_per_task_median"],
        ),
        ("tracking wrapper alone per task (p90 ms)", result["tracking_wrapper_ms_per_task_p90"]),
        (
            "tracking wrapper CPU per task (median ms)",
            result["tracking_wrapper_cpu_ms_per_task_median"],
        ),
        ("flow, plain (median s)", result["flow_s_plain_median"]),
        ("flow, tracked (median s)", result["flow_s_tracked_median"]),
        ("whole-flow ratio tracked / plain", result["flow_ratio"]),
        ("added per task from flow times (ms)", result["added_ms_per_task_from_flow_times"]),
    ]
    for label, value in rows:
        print(f"{label:<52} {value:>10.3f}")
    print(f"tracking runs: {result['tracking_runs']} (expected {result['tracking_runs_expected']})")
    met = result["added_ms_per_task"] < 1.0
    print(f"goal (< 1 ms added per tracked task): {'met' if met else 'NOT met'}")
    if not args.no_json:
        RESULTS_DIR.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = RESULTS_DIR / f"orchestration-{stamp}.json"
        out.write_text(json.dumps(result, indent=2))
        print(f"results: {out}")
    ok = result["tracking_runs"] == result["tracking_runs_expected"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
