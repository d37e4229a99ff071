"""Scoring server benchmark: `mlflowx models serve` vs `mlflow models serve --env-manager local`.

    .venv/bin/python bench/serving.py                  # both sides, full run (~5 min)
    .venv/bin/python bench/serving.py --quick          # fewer requests
    .venv/bin/python bench/serving.py --sides mlflowx  # one side
    .venv/bin/python bench/serving.py --profile        # + py-spy of the mlflowx server
    .venv/bin/python bench/serving.py --flavor pytorch # another flavor's model (--flavor all:
                                                       # each flavor in turn, one table each)

The same model directory (by default an iris LogisticRegression with a signature, saved by
mlflowx with skops; ``--flavor`` picks xgboost, lightgbm (100 trees), pytorch, keras, onnx or
statsmodels models of the same
size, see ``bench/_flavor_models.py``) is served by both tools, 1 worker each. Both servers are
started first, then measured in ``--rounds`` rounds that alternate the sides (the idle one
costs nothing), so load changes on a shared machine fall on both alike. The same client code
measures both (httpx, keep-alive; ``--client stdlib``: http.client in every phase, which spends
~0.35 ms less per request than httpx here, so the latencies show more of the servers' own time):

* ``p50``/``p99``: 1-row ``dataframe_split`` requests, one at a time, after a warm-up;
* ``seq req/s``: the same sequential run's rate;
* ``conc req/s``: 8 client *processes* (no client GIL limit) sending 1-row requests for a fixed
  time; client CPU is reported so a client-bound result is visible;
* ``batch rows/s``: 1,000-row requests, one at a time.

Server CPU per request (psutil, the whole server process tree) is reported too: it is steadier
than wall time on a loaded machine. Results go to ``bench/results/serving-<UTC>.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _flavor_models import FLAVORS, make_model

BIN = Path(sys.executable).parent
RESULTS = Path(__file__).parent / "results"
GOALS = {"p50": 3.0, "conc req/s": 3.0, "batch rows/s": 2.0, "seq req/s": 3.0}
FLAVOR_GOALS = {"p50": 2.0}  # the other flavors' goal (issue 15): p50 at least 2x


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(side: str, model: Path, root: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = _free_port()
    log = root / f"{side}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLFLOWX_"))}
    env |= {
        "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true",  # MLflow 3.17 asks it for skops too
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "MLFLOWX_HOME": str(root),
        "MLFLOW_DEFAULT_PREDICTION_DEVICE": "cpu",
        "KERAS_BACKEND": "torch",  # the keras extra's backend, for both sides
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # MLflow execs `uvicorn`
    }
    if side == "mlflowx":
        cmd = [str(BIN / "mlflowx"), "models", "serve", "-m", str(model), "--port", str(port),
               "--workers", "1", "--log-level", "warning"]  # fmt: skip
    else:
        cmd = [str(BIN / "mlflow"), "models", "serve", "-m", str(model), "--port", str(port),
               "--workers", "1", "--env-manager", "local"]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=root, env=env,
                                start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{side} server exited:\n{log.read_text()}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return proc, url, log
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"{side} server not healthy in 300 s:\n{log.read_text()}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)


def server_cpu(proc: subprocess.Popen[bytes]) -> float:
    try:
        root = psutil.Process(proc.pid)
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            t = p.cpu_times()
            total += t.user + t.system
        return total
    except psutil.Error:
        return float("nan")


HEADERS = {"Content-Type": "application/json"}


def sequential(url: str, body: bytes, n: int, kind: str = "httpx") -> tuple[list[float], list[Any]]:
    if kind == "stdlib":
        return _sequential_stdlib(url, body, n)
    times, answers = [], []
    with httpx.Client(base_url=url, timeout=60) as client:
        for _ in range(n):
            t0 = time.perf_counter()
            r = client.post("/invocations", content=body, headers=HEADERS)
            times.append(time.perf_counter() - t0)
            if r.status_code != 200:
                raise RuntimeError(f"{r.status_code}: {r.text[:300]}")
            answers.append(r.content)
    return times, answers


def _sequential_stdlib(url: str, body: bytes, n: int) -> tuple[list[float], list[Any]]:
    """``sequential`` with http.client (keep-alive): ~0.35 ms less client time per request
    than httpx here, which otherwise is most of a fast server's measured latency."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    times, answers = [], []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            conn.request("POST", "/invocations", body=body, headers=HEADERS)
            response = conn.getresponse()
            content = response.read()
            times.append(time.perf_counter() - t0)
            if response.status != 200:
                raise RuntimeError(f"{response.status}: {content[:300]!r}")
            answers.append(content)
    finally:
        conn.close()
    return times, answers


def _client_proc(
    url: str, body: bytes, barrier: Any, duration: float, out: Any, kind: str = "httpx"
) -> None:
    count, errors = 0, 0
    if kind == "stdlib":  # http.client: about a third of httpx's CPU per request
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)

        def post() -> int:
            conn.request("POST", "/invocations", body=body, headers=HEADERS)
            response = conn.getresponse()
            response.read()
            return int(response.status)

    else:
        client = httpx.Client(base_url=url, timeout=60)

        def post() -> int:
            return client.post("/invocations", content=body, headers=HEADERS).status_code

    post()  # connect before the clock
    barrier.wait()
    cpu0 = time.process_time()
    end = time.time() + duration
    while time.time() < end:
        if post() == 200:
            count += 1
        else:
            errors += 1
    out.put((count, errors, time.process_time() - cpu0))


def concurrent(
    url: str, body: bytes, clients: int, duration: float, kind: str = "httpx"
) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    barrier = ctx.Barrier(clients)  # all clients connected before any clock starts
    procs = [
        ctx.Process(target=_client_proc, args=(url, body, barrier, duration, queue, kind))
        for _ in range(clients)
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=duration + 120) for _ in procs]
    for p in procs:
        p.join()
    done = sum(r[0] for r in results)
    return {
        "requests": done,
        "errors": sum(r[1] for r in results),
        "req_per_s": done / duration,
        "client_cpu_share": sum(r[2] for r in results) / duration / (os.cpu_count() or 1),
        "client_cpu_ms_per_req": 1000 * sum(r[2] for r in results) / max(done, 1),
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def profile_server(proc: subprocess.Popen[bytes], url: str, body: bytes, out: Path) -> str:
    spy = shutil.which("py-spy") or str(BIN / "py-spy")
    rec = subprocess.Popen(
        [spy, "record", "-p", str(proc.pid), "-d", "8", "-r", "500", "-f", "raw", "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)
    end = time.monotonic() + 8
    with httpx.Client(base_url=url, timeout=60) as client:
        while time.monotonic() < end and rec.poll() is None:
            client.post("/invocations", content=body, headers=HEADERS)
    rec.wait(60)
    if not out.exists():
        return f"py-spy failed: {rec.stderr.read().decode() if rec.stderr else ''}"
    return summarize_stacks(out)


def summarize_stacks(path: Path, top: int = 18) -> str:
    """Where the server's samples go (py-spy raw format): the share of samples whose innermost
    frame is in each package, and the inclusive share of the main steps of a request."""
    by_package: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not count_s.isdigit():
            continue
        count = int(count_s)
        frames = stack.split(";")
        if "_worker (concurrent/futures/thread.py" in frames[-1]:
            continue  # an idle executor thread (the model loader's) waiting on its queue
        total += count
        where = frames[-1].rpartition("(")[2]
        package = where.split("/")[0] if "/" in where else where.split(".")[0]
        by_package[package] = by_package.get(package, 0) + count
        for frame in set(frames):
            name = frame.split(" (")[0]
            inclusive[name] = inclusive.get(name, 0) + count
    if not total:
        return "no samples"
    lines = [f"{total} samples. Innermost frame by package:"]
    for name, count in sorted(by_package.items(), key=lambda kv: -kv[1])[:10]:
        lines.append(f"  {100 * count / total:5.1f}%  {name}")
    lines.append("Inclusive share of request steps:")
    steps = [
        "ScoringApp.__call__", "_score", "_handle", "loads_json", "SklearnFastPath.rows",
        "SklearnFastPath.predict", "validate_data", "predictions_json",
        "RequestResponseCycle.send", "HttpToolsProtocol.data_received",
    ]  # fmt: skip
    for name in steps[:top]:
        lines.append(f"  {100 * inclusive.get(name, 0) / total:5.1f}%  {name}")
    return "\n".join(lines)


def measure(
    proc: subprocess.Popen[bytes],
    url: str,
    bodies: dict[str, bytes],
    acc: dict[str, Any],
    args: Any,
    rounds: int,
) -> None:
    """One round of every phase for one side, added to ``acc``."""
    cpu0 = server_cpu(proc)
    times, answers = sequential(url, bodies["one"], max(1, args.requests // rounds), args.client)
    acc["cpu_one"] += server_cpu(proc) - cpu0
    acc["times"] += times
    acc.setdefault("answer_one", json.loads(answers[0]))
    cpu0 = server_cpu(proc)
    conc = concurrent(url, bodies["one"], args.clients, args.duration / rounds, args.client)
    acc["cpu_conc"] += server_cpu(proc) - cpu0
    acc["conc"].append(conc)
    cpu0 = server_cpu(proc)
    btimes, banswers = sequential(url, bodies["batch"], max(1, args.batches // rounds), args.client)
    acc["cpu_batch"] += server_cpu(proc) - cpu0
    acc["btimes"] += btimes
    acc.setdefault("answer_batch", json.loads(banswers[0]))


def summarize(acc: dict[str, Any], args: Any) -> dict[str, Any]:
    times, btimes, concs = acc["times"], acc["btimes"], acc["conc"]
    done = sum(c["requests"] for c in concs)
    client_cpu = sum(c["client_cpu_ms_per_req"] * c["requests"] for c in concs) / 1000
    return {
        "startup_s": acc["startup_s"],
        "p50_ms": 1000 * statistics.median(times),
        "p99_ms": 1000 * pct(times, 0.99),
        "seq_req_per_s": len(times) / sum(times),
        "server_cpu_ms_per_req": 1000 * acc["cpu_one"] / len(times),
        "conc": {
            "requests": done,
            "errors": sum(c["errors"] for c in concs),
            "req_per_s": done / args.duration,
            "client_cpu_share": client_cpu / args.duration / (os.cpu_count() or 1),
            "client_cpu_ms_per_req": 1000 * client_cpu / max(done, 1),
            "server_cpu_ms_per_req": 1000 * acc["cpu_conc"] / max(done, 1),
        },
        "batch_ms": 1000 * statistics.median(btimes),
        "batch_rows_per_s": 1000 / statistics.median(btimes),
        "server_cpu_ms_per_batch": 1000 * acc["cpu_batch"] / len(btimes),
        "answer_one": acc["answer_one"],
        "answer_batch": acc["answer_batch"],
    }


def run(sides: list[str], model: Path, root: Path, bodies: dict[str, bytes], args: Any) -> dict:
    """Start every side's server, then measure in rounds that alternate the sides, so a change
    in the machine's load during the run falls on both sides alike."""
    servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    accs: dict[str, dict[str, Any]] = {}
    try:
        for side in sides:
            print(f"[{side}] starting server ...", flush=True)
            t0 = time.monotonic()
            proc, url, _ = start(side, model, root)
            servers[side] = (proc, url)
            accs[side] = {"startup_s": time.monotonic() - t0, "times": [], "btimes": [], "conc": []}
            accs[side] |= {"cpu_one": 0.0, "cpu_conc": 0.0, "cpu_batch": 0.0}
            sequential(url, bodies["one"], args.warmup)
            sequential(url, bodies["batch"], 3)
        for r in range(args.rounds):
            order = sides if r % 2 == 0 else list(reversed(sides))
            for side in order:
                proc, url = servers[side]
                measure(proc, url, bodies, accs[side], args, args.rounds)
            print(f"round {r + 1}/{args.rounds} done", flush=True)
        results = {side: summarize(accs[side], args) for side in sides}
        if args.profile and "mlflowx" in servers:
            proc, url = servers["mlflowx"]
            results["mlflowx"]["profile"] = profile_server(proc, url, bodies["one"], root / "spy")
        return results
    finally:
        for proc, _ in servers.values():
            stop(proc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sides", default="mlflowx,mlflow")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4, help="alternations of the sides")
    parser.add_argument(
        "--client",
        choices=["httpx", "stdlib"],
        default="httpx",
        help="the client of every phase (stdlib: http.client, about a third of httpx's CPU per "
        "request, so the latencies show more of the servers' own time)",
    )
    parser.add_argument(
        "--flavor",
        choices=[*FLAVORS, "all"],
        default="sklearn",
        help="the served model's flavor, or all (each in turn, one table each)",
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-json", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.warmup, args.duration, args.batches = 500, 100, 4.0, 30
        args.rounds = 2
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1):
        print(f"warning: load average {load:.1f} > {os.cpu_count()} CPUs; figures are noisy")
    flavors = list(FLAVORS) if args.flavor == "all" else [args.flavor]
    for flavor in flavors:
        root = Path(tempfile.mkdtemp(prefix="mlflowx-bench-serving-"))
        try:
            model, bodies = make_model(flavor, root)
            results = run(args.sides.split(","), model, root, bodies, args)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        print(f"\n## flavor: {flavor}")
        report(results, args, load, flavor)
    return 0


def _numbers(value: Any) -> list[float]:
    if isinstance(value, dict):
        return [n for k in sorted(value) for n in _numbers(value[k])]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [float(value)] if isinstance(value, int | float) else []


def same_predictions(a: Any, b: Any) -> bool:
    """Equal numbers in the same order (float32 models may print the last digit apart)."""
    x, y = _numbers(a), _numbers(b)
    return len(x) == len(y) and all(
        abs(p - q) <= 1e-5 * max(1.0, abs(q)) for p, q in zip(x, y, strict=True)
    )


def report(results: dict[str, dict], args: Any, load: float, flavor: str = "sklearn") -> None:
    ours, theirs = results.get("mlflowx"), results.get("mlflow")
    rows = [
        ("p50 (1 row)", "ms", "p50_ms", True, "p50"),
        ("p99 (1 row)", "ms", "p99_ms", True, None),
        ("seq req/s", "req/s", "seq_req_per_s", False, None),
        (f"conc req/s ({args.clients} clients)", "req/s", None, False, "conc req/s"),
        ("batch 1,000 rows", "rows/s", "batch_rows_per_s", False, "batch rows/s"),
        ("server CPU / 1-row req", "ms", "server_cpu_ms_per_req", True, None),
        ("server CPU / 1,000-row req", "ms", "server_cpu_ms_per_batch", True, None),
    ]

    def get(r: dict | None, key: str | None) -> float | None:
        if r is None:
            return None
        return r["conc"]["req_per_s"] if key is None else r[key]

    print()
    print(f"model: iris {flavor} classifier; client: {args.client}")
    print("workload | unit | mlflowx | mlflow | ratio | goal | met?")
    print("--- | --- | ---: | ---: | ---: | ---: | ---")
    for label, unit, key, lower_better, goal_key in rows:
        a, b = get(ours, key), get(theirs, key)
        ratio = None
        if a and b:
            ratio = b / a if lower_better else a / b
        goal = (GOALS if flavor == "sklearn" else FLAVOR_GOALS).get(goal_key or "")
        met = "" if goal is None or ratio is None else ("yes" if ratio >= goal else "NO")
        fa = "-" if a is None else f"{a:,.2f}" if a < 100 else f"{a:,.0f}"
        fb = "-" if b is None else f"{b:,.2f}" if b < 100 else f"{b:,.0f}"
        fr = "-" if ratio is None else f"{ratio:.2f}x"
        fg = "" if goal is None else f">= {goal:g}x"
        print(f"{label} | {unit} | {fa} | {fb} | {fr} | {fg} | {met}")
    for side, r in results.items():
        c = r["conc"]
        print(
            f"{side}: startup {r['startup_s']:.1f}s; concurrent {c['requests']} ok, "
            f"{c['errors']} errors ({args.client} client); client CPU "
            f"{100 * c['client_cpu_share']:.0f}% of the machine, "
            f"{c['client_cpu_ms_per_req']:.2f} ms/request vs server "
            f"{c['server_cpu_ms_per_req']:.2f} ms/request"
        )
    if ours and theirs:
        same = ours["answer_one"] == theirs["answer_one"] and (
            ours["answer_batch"] == theirs["answer_batch"]
        )
        close = same_predictions(ours["answer_one"], theirs["answer_one"]) and same_predictions(
            ours["answer_batch"], theirs["answer_batch"]
        )
        print(f"identical predictions on both sides: {same}; equal to 1e-5: {close}")
    if ours and "profile" in ours:
        print("\nmlflowx server profile (py-spy, sequential 1-row requests):")
        print(ours["profile"])
    if not args.no_json:
        RESULTS.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        out = RESULTS / f"serving-{flavor}-{stamp}.json"
        slim = {
            s: {k: v for k, v in r.items() if not k.startswith("answer")}
            for s, r in results.items()
        }
        payload = {"load_avg": load, "flavor": flavor, "args": vars(args), "results": slim}
        out.write_text(json.dumps(payload, indent=1))
        print(f"\nraw figures: {out}")


if __name__ == "__main__":
    sys.exit(main())
