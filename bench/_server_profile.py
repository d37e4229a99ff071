"""Sampling profiles of a live server for ``bench/server.py --profile`` (py-spy, raw format).

py-spy attaches to the server's process tree while one workload runs, then the collapsed stacks
are summarised three ways: cost buckets (each sample goes to the innermost frame that matches a
bucket), the hottest leaf lines (self time) and the hottest frames (inclusive time).
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

PY_SPY = Path(sys.executable).parent / "py-spy"
#: Leaf frames of threads that are waiting, not working. py-spy's own idle detection misses them
#: here (threadpool workers parked on a Condition; the event loop blocked in epoll inside the C
#: ``run_until_complete`` shows as ``Runner.run``, which also hides the loop's C-level work).
IDLE_LEAVES = (
    "Condition.wait (threading.py",
    "Runner.run (asyncio/runners.py",
    "Queue.get (queue.py",
    "select (selectors.py",
    "_PollLikeSelector.select (selectors.py",
    "Connection._recv (multiprocessing/connection.py",
    "Event.wait (threading.py",
    "Thread.join (threading.py",
)
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*)(?::(?P<line>\d+))?\)$")

#: (bucket, file fragment, functions or None for any). Checked per frame, leaf first.
BUCKETS: list[tuple[str, str, tuple[str, ...] | None]] = [
    ("sqlite3: BEGIN", "mlflowx/store/sql/db.py", ("_transaction@BEGIN",)),
    ("sqlite3: COMMIT", "mlflowx/store/sql/db.py", ("_transaction@COMMIT",)),
    (
        "sqlite3: statements",
        "mlflowx/store/sql/db.py",
        ("execute", "execute_rowcount", "executemany"),
    ),
    ("sqlite3: connect/other", "mlflowx/store/sql/db.py", None),
    ("json encode/decode (stdlib)", "json/", None),
    ("pydantic (validate/serialize)", "pydantic", None),
    ("mlflowx store (Python)", "mlflowx/store/", None),
    ("mlflowx server/protocol/entities", "mlflowx/", None),
    ("fastapi (routing, deps, encoders)", "fastapi/", None),
    ("starlette BaseHTTPMiddleware", "starlette/middleware/base.py", None),
    ("starlette (other)", "starlette/", None),
    ("anyio (threadpool offload)", "anyio/", None),
    ("uvicorn / httptools", "uvicorn/", None),
    ("asyncio / event loop", "asyncio/", None),
    ("threading / concurrent.futures", "threading.py", None),
    ("threading / concurrent.futures", "concurrent/", None),
]


def available() -> bool:
    return PY_SPY.exists() or shutil.which("py-spy") is not None


def start(pid: int, out: Path, rate: int = 250) -> subprocess.Popen[bytes]:
    exe = str(PY_SPY) if PY_SPY.exists() else "py-spy"
    cmd = [
        exe,
        "record",
        "--pid",
        str(pid),
        "--format",
        "raw",
        "--output",
        str(out),
        "--rate",
        str(rate),
        "--subprocesses",
        "--nonblocking",
    ]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def parse(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def _split(frame: str) -> tuple[str, str, str]:
    m = _FRAME.match(frame)
    if not m:
        return frame, "", ""
    return m["func"], m["file"] or "", m["line"] or ""


def _bucket(frames: list[str], source: dict[tuple[str, str], str]) -> str:
    for frame in reversed(frames):
        func, file, line = _split(frame)
        for name, fragment, funcs in BUCKETS:
            if fragment not in file:
                continue
            if funcs is not None:
                key = func
                if func == "_transaction":
                    text = source.get((file, line), "")
                    key = "_transaction@" + (
                        "COMMIT"
                        if "COMMIT" in text
                        else "BEGIN"
                        if "begin" in text.lower()
                        else "other"
                    )
                if key not in funcs:
                    continue
            return name
    return "other"


def _source_lines(stacks: list[tuple[list[str], int]]) -> dict[tuple[str, str], str]:
    """The text of db.py's lines that appear in stacks (to tell BEGIN from COMMIT)."""
    repo = Path(__file__).resolve().parent.parent
    db = repo / "mlflowx/store/sql/db.py"
    lines = db.read_text().splitlines() if db.exists() else []
    out: dict[tuple[str, str], str] = {}
    for frames, _ in stacks:
        for frame in frames:
            _, file, line = _split(frame)
            if file.endswith("mlflowx/store/sql/db.py") and line.isdigit():
                idx = int(line) - 1
                out[(file, line)] = lines[idx] if 0 <= idx < len(lines) else ""
    return out


def summarize(
    path: Path, rate: int, seconds: float, requests: int, top: int = 18
) -> dict[str, Any]:
    """``rate`` samples/s per busy thread, so ``samples / rate`` is busy thread-seconds."""
    raw = parse(path)
    stacks = [(f, c) for f, c in raw if not f[-1].startswith(IDLE_LEAVES)]
    idle = sum(c for _, c in raw) - sum(c for _, c in stacks)
    total = sum(c for _, c in stacks) or 1
    source = _source_lines(stacks)
    buckets: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in stacks:
        buckets[_bucket(frames, source)] += count
        leaves[frames[-1]] += count
        seen = set()
        for frame in frames:
            func, file, _ = _split(frame)
            key = f"{func} ({file})"
            if key not in seen:
                seen.add(key)
                inclusive[key] += count
    per_req_ms = total / rate * 1000 / requests if requests else 0.0

    def table(counter: Counter[str], n: int) -> list[dict[str, Any]]:
        return [
            {"frame": k, "share": c / total, "ms_per_request": c / total * per_req_ms}
            for k, c in counter.most_common(n)
        ]

    return {
        "samples": total,
        "idle_samples_dropped": idle,
        "busy_thread_s": total / rate,
        "seconds": seconds,
        "requests": requests,
        "buckets": table(buckets, len(buckets)),
        "self": table(leaves, top),
        "inclusive": table(inclusive, top * 2),
    }


def render(summary: dict[str, Any], title: str) -> str:
    out = [
        f"--- profile: {title}: {summary['samples']:,} samples = "
        f"{summary['busy_thread_s']:.1f} busy thread-s over {summary['seconds']:.1f}s wall, "
        f"{summary['requests']:,} requests; ms = busy thread-ms per request ---"
    ]
    for name, rows in (
        ("cost buckets", summary["buckets"]),
        ("self (leaf lines)", summary["self"]),
        ("inclusive (frames)", summary["inclusive"]),
    ):
        out.append(f"  {name}:")
        out += [
            f"    {r['share'] * 100:5.1f}%  {r['ms_per_request']:7.3f} ms  {r['frame'][:110]}"
            for r in rows
        ]
    return "\n".join(out)
