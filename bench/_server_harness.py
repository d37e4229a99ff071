"""Where a log-metric request's time goes inside mlflowx's server app (in-process, no sockets).

    .venv/bin/python bench/_server_harness.py            # layers + cProfile + SQLite contention
    .venv/bin/python bench/_server_harness.py -n 2000 --no-profile

Requests are raw ASGI calls straight into the app (no uvicorn, no HTTP parsing, no client), so
the figures are the app's own cost. Each variant changes one thing *inside this harness only*
(mlflowx's files are untouched) to price one layer:

* ``store``            SqlTrackingStore.log_metric alone (the floor)
* ``raw-asgi``         a 20-line ASGI app: json.loads + store.log_metric + b"{}"
* ``app``              create_app() as ``mlflowx server`` runs it
* ``app-no-mw``        ... without its middleware (the body limit)
* ``app-runs-first``   ... with the runs router moved ahead of the other routers
* ``app-inline``       ... with FastAPI's run_in_threadpool made inline (no thread hops)
* ``app-inline-runs-first`` both
* ``fastapi-min``      a one-route FastAPI app: ``async def`` endpoint, typed ``p.LogMetric`` body,
                       returns ``Response(b"{}")`` (no response model), no middleware
* ``fastapi-min-json`` ... taking ``Request`` and ``p.LogMetric.model_validate_json(body)``

Then the log-batch request (1,000 metrics) piece by piece, a cProfile of the app, and SQLite
write contention between threads.

CPU is process CPU time (all threads), steadier than wall time on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import pstats
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import fastapi.dependencies.utils as fastapi_deps
import fastapi.routing as fastapi_routing
from fastapi import FastAPI, Request, Response

from mlflowx.entities import Metric
from mlflowx.protocol import endpoints as p
from mlflowx.server.app import create_app
from mlflowx.store.tracking.sql import SqlTrackingStore

PATH = "/api/2.0/mlflow/runs/log-metric"
ASGIApp = Callable[..., Awaitable[None]]


def body(run_id: str, step: int) -> bytes:
    return json.dumps(
        {
            "run_id": run_id,
            "key": "m",
            "value": step * 0.5,
            "timestamp": 1_700_000_000_000 + step,
            "step": step,
        }
    ).encode()


async def asgi_post(app: ASGIApp, path: str, payload: bytes) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "headers": [
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ],
    }
    delivered = False
    never = asyncio.Event()
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": payload, "more_body": False}
        await never.wait()  # the client never disconnects
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def raw_asgi_app(store: SqlTrackingStore) -> ASGIApp:
    """The least an ASGI app can do for log-metric (no validation beyond the store's)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        data = json.loads(b"".join(chunks))
        store.log_metric(
            data["run_id"], Metric(data["key"], data["value"], data["timestamp"], data["step"])
        )
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": b"{}"})

    return app


def minimal_fastapi(store: SqlTrackingStore, raw_body: bool) -> FastAPI:
    """What the log-metric route costs in FastAPI with the cheap choices made."""
    app = FastAPI()

    def log(body: p.LogMetric) -> Response:
        run_id = body.run_id or body.run_uuid or ""
        store.log_metric(run_id, Metric(body.key, body.value, body.timestamp, body.step or 0))
        return Response(b"{}", media_type="application/json")

    if raw_body:

        @app.post(PATH)
        async def log_metric_raw(request: Request) -> Response:
            return log(p.LogMetric.model_validate_json(await request.body()))

    else:

        @app.post(PATH)
        async def log_metric(body: p.LogMetric) -> Response:
            return log(body)

    return app


@contextlib.contextmanager
def inline_threadpool() -> Iterator[None]:
    """FastAPI's sync endpoints/dependencies/response validation run inline on the loop."""

    async def inline(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    modules = (fastapi_routing, fastapi_deps)  # each imported starlette's run_in_threadpool
    saved = [getattr(m, "run_in_threadpool") for m in modules]  # noqa: B009
    for m in modules:
        setattr(m, "run_in_threadpool", inline)  # noqa: B010
    try:
        yield
    finally:
        for m, original in zip(modules, saved, strict=True):
            setattr(m, "run_in_threadpool", original)  # noqa: B010


def new_run(store: SqlTrackingStore) -> str:
    eid = store.create_experiment(f"e-{time.monotonic_ns()}")
    run = store.create_run(eid, "bench", 0, [], "r")
    return str(run.info.run_id)


def measure(name: str, n: int, one: Callable[[int], Any], is_async: bool) -> dict[str, float]:
    async def loop_async() -> list[float]:
        out = []
        for i in range(n):
            t0 = time.perf_counter()
            status = await one(i)
            out.append(time.perf_counter() - t0)
            if status != 200:
                raise RuntimeError(f"{name}: status {status}")
        return out

    def loop_sync() -> list[float]:
        out = []
        for i in range(n):
            t0 = time.perf_counter()
            one(i)
            out.append(time.perf_counter() - t0)
        return out

    c0, w0 = time.process_time(), time.perf_counter()
    times = asyncio.run(loop_async()) if is_async else loop_sync()
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    return {
        "n": n,
        "cpu_us": cpu / n * 1e6,
        "wall_us": wall / n * 1e6,
        "p50_us": statistics.median(times) * 1e6,
    }


def runs_router_first(app: FastAPI) -> FastAPI:
    """Move the ``/api/2.0/mlflow`` runs router to the front of the app's route list."""
    from mlflowx.server.routers import runs

    def is_runs_api(route: Any) -> bool:
        context = getattr(route, "include_context", None)
        return getattr(route, "original_router", None) is runs.router and (
            getattr(context, "prefix", None) == "/api/2.0/mlflow"
        )

    routes = app.router.routes
    routes[:] = [r for r in routes if is_runs_api(r)] + [r for r in routes if not is_runs_api(r)]
    return app


def layers(
    store: SqlTrackingStore, artifacts: str, n: int, rounds: int
) -> dict[str, dict[str, float]]:
    """Every variant ``rounds`` times, interleaved; the best round of each (least disturbed)."""

    def app_variant(middleware: bool, runs_first: bool = False) -> ASGIApp:
        app = create_app(store, artifacts)
        if not middleware:
            app.user_middleware.clear()
        return runs_router_first(app) if runs_first else app

    def store_only(n_calls: int) -> dict[str, float]:
        rid = new_run(store)
        measure("store", 200, lambda i: store.log_metric(rid, Metric("w", 0.5, 1, i)), False)
        return measure(
            "store", n_calls, lambda i: store.log_metric(rid, Metric("m", 0.5, 1, i)), False
        )

    variants: dict[str, Callable[[], dict[str, float]]] = {
        "store": lambda: store_only(n),
        "raw-asgi": lambda: measure_app(store, raw_asgi_app(store), n),
        "app": lambda: measure_app(store, app_variant(True), n),
        "app-no-mw": lambda: measure_app(store, app_variant(False), n),
        "app-runs-first": lambda: measure_app(store, app_variant(True, True), n),
        "app-inline": lambda: measure_app(store, app_variant(True), n, inline=True),
        "app-inline-runs-first": lambda: measure_app(
            store, app_variant(True, True), n, inline=True
        ),
        "fastapi-min": lambda: measure_app(store, minimal_fastapi(store, False), n),
        "fastapi-min-json": lambda: measure_app(store, minimal_fastapi(store, True), n),
    }
    best: dict[str, dict[str, float]] = {}
    for _ in range(rounds):
        for label, run in variants.items():
            r = run()
            if label not in best or r["cpu_us"] < best[label]["cpu_us"]:
                best[label] = r
    return best


def measure_app(
    store: SqlTrackingStore, app: ASGIApp, n: int, inline: bool = False
) -> dict[str, float]:
    """200 warm-up requests, then ``n`` measured ones, each on a new step of one new run."""
    rid = new_run(store)
    with inline_threadpool() if inline else contextlib.nullcontext():
        measure("warm-up", 200, lambda i: asgi_post(app, PATH, body(rid, 10_000_000 + i)), True)
        return measure("app", n, lambda i: asgi_post(app, PATH, body(rid, i)), True)


BATCH_PATH = "/api/2.0/mlflow/runs/log-batch"


def batch_body(run_id: str, batch: int) -> bytes:
    metrics = [
        {
            "key": f"m{k}",
            "value": batch * 10 + s + k * 0.5,
            "timestamp": 1_700_000_000_000,
            "step": batch * 10 + s,
        }
        for s in range(10)
        for k in range(100)
    ]
    return json.dumps({"run_id": run_id, "metrics": metrics}).encode()


def batch_pieces(store: SqlTrackingStore, artifacts: str, n: int) -> dict[str, float]:
    """ms per 1,000-metric log-batch request, piece by piece (CPU time)."""
    rid = new_run(store)
    bodies = [batch_body(rid, b) for b in range(n)]
    out: dict[str, float] = {}

    def timed(label: str, fn: Callable[[bytes], Any]) -> None:
        c0 = time.process_time()
        for b in bodies:
            fn(b)
        out[label] = (time.process_time() - c0) / n * 1000

    timed("json.loads (what Request.json() does)", json.loads)
    timed(
        "LogBatch.model_validate(json.loads(b))", lambda b: p.LogBatch.model_validate(json.loads(b))
    )
    timed("LogBatch.model_validate_json(b)", p.LogBatch.model_validate_json)
    parsed = [p.LogBatch.model_validate_json(b) for b in bodies]
    c0 = time.process_time()
    for model in parsed:
        store.log_batch(
            model.run_id, [Metric(m.key, m.value, m.timestamp, m.step) for m in model.metrics]
        )
    out["store.log_batch (incl. entities)"] = (time.process_time() - c0) / n * 1000
    app = create_app(store, artifacts)
    rid2 = new_run(store)
    app_bodies = [batch_body(rid2, b) for b in range(n)]

    async def go() -> None:
        for b in app_bodies:
            status = await asgi_post(app, BATCH_PATH, b)
            if status != 200:
                raise RuntimeError(f"log-batch: status {status}")

    asyncio.run(go_once(app, rid2))
    c0 = time.process_time()
    asyncio.run(go())
    out["whole app request (ASGI)"] = (time.process_time() - c0) / n * 1000
    return out


async def go_once(app: ASGIApp, run_id: str) -> None:
    await asgi_post(app, BATCH_PATH, batch_body(run_id, 10_000))


def profile_app(store: SqlTrackingStore, artifacts: str, n: int, out: Path) -> str:
    """cProfile of the app with thread hops inlined (so every frame is on the profiled thread)."""
    app = create_app(store, artifacts)
    rid = new_run(store)

    async def go(start: int, count: int) -> None:
        for i in range(start, start + count):
            await asgi_post(app, PATH, body(rid, i))

    with inline_threadpool():
        asyncio.run(go(0, 200))
        prof = cProfile.Profile()
        prof.enable()
        asyncio.run(go(200, n))
        prof.disable()
    prof.dump_stats(out)
    text = io.StringIO()
    stats = pstats.Stats(prof, stream=text).strip_dirs()
    stats.sort_stats("tottime").print_stats(22)
    stats.sort_stats("cumulative").print_stats(45)
    return text.getvalue()


def contention(store: SqlTrackingStore, threads: int, seconds: float) -> dict[str, Any]:
    """``threads`` threads calling store.log_metric on their own runs, as the server's
    threadpool does under concurrent clients: once as is, once with writes serialized by a
    process-wide lock in front of SQLite's ``BEGIN IMMEDIATE`` (harness-only monkeypatch)."""
    return {
        "as-is": _contention_round(store, threads, seconds, locked=False),
        "python-lock": _contention_round(store, threads, seconds, locked=True),
    }


def _contention_round(
    store: SqlTrackingStore, threads: int, seconds: float, locked: bool
) -> dict[str, float]:
    db: Any = store.db
    original = db.write
    lock = threading.Lock()

    @contextlib.contextmanager
    def locked_write() -> Iterator[Any]:
        with lock, original() as conn:
            yield conn

    runs = [new_run(store) for _ in range(threads)]
    lat: list[list[float]] = [[] for _ in range(threads)]
    start = threading.Barrier(threads + 1)
    stop_at = [0.0]

    def worker(k: int) -> None:
        rid, mine = runs[k], lat[k]
        start.wait()
        step = 0
        while time.perf_counter() < stop_at[0]:
            t0 = time.perf_counter()
            store.log_metric(rid, Metric("m", 0.5, 1, step))
            mine.append(time.perf_counter() - t0)
            step += 1

    if locked:
        db.write = locked_write
    try:
        pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
        for t in pool:
            t.start()
        stop_at[0] = time.perf_counter() + seconds
        start.wait()
        for t in pool:
            t.join()
    finally:
        db.write = original
    flat = sorted(x * 1000 for xs in lat for x in xs)
    return {
        "calls_per_s": len(flat) / seconds,
        "p50_ms": flat[len(flat) // 2],
        "p99_ms": flat[int(len(flat) * 0.99)],
        "max_ms": flat[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=3000, help="requests per variant")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many rounds")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument(
        "--uri", help="the store (default: a new SQLite file), e.g. an empty PostgreSQL database"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-harness-"))
    uri = args.uri or f"sqlite:///{tmp / 'mlflowx.db'}"
    store = SqlTrackingStore(uri, "mlflow-artifacts:/")
    artifacts = str(tmp / "artifacts")

    print(f"per log-metric request, n={args.n} (in-process ASGI, no sockets):")
    res = layers(store, artifacts, args.n, args.rounds)
    base = res["app"]["cpu_us"]
    for label, r in res.items():
        print(
            f"  {label:<22} CPU {r['cpu_us']:7.0f} us  wall {r['wall_us']:7.0f} us  "
            f"p50 {r['p50_us']:7.0f} us   ({r['cpu_us'] / base * 100:3.0f}% of app)"
        )
    report: dict[str, Any] = {"layers": res}
    print("\nlog-batch with 1,000 metrics, CPU ms per request:")
    report["batch"] = batch_pieces(store, artifacts, 30)
    for label, ms in report["batch"].items():
        print(f"  {label:<40} {ms:7.2f} ms")
    if not args.no_profile:
        out = Path(__file__).resolve().parent / "results" / "profile-server-app.prof"
        text = profile_app(store, artifacts, args.n, out)
        print(f"\ncProfile of {args.n} requests (thread hops inlined), saved to {out}:")
        print(text)
    print(
        f"\nSQLite write contention: {args.threads} threads x store.log_metric, "
        f"{args.seconds:.0f}s each:"
    )
    report["contention"] = contention(store, args.threads, args.seconds)
    for label, r in report["contention"].items():
        print(
            f"  {label:<12} {r['calls_per_s']:7.0f} calls/s  p50 {r['p50_ms']:6.2f} ms  "
            f"p99 {r['p99_ms']:6.2f} ms  max {r['max_ms']:7.1f} ms"
        )
    out = Path(__file__).resolve().parent / "results" / "server-harness.json"
    out.write_text(json.dumps(report, indent=2))
    store.close()
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
