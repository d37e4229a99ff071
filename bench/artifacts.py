"""Large artifacts through the tracking server's proxy: ``mlflowx server`` vs ``mlflow server``.

    PYTHONPATH=$PWD .venv/bin/python bench/artifacts.py                 # 100 MB and 2 GB
    PYTHONPATH=$PWD .venv/bin/python bench/artifacts.py --sizes 20M     # smoke run
    PYTHONPATH=$PWD .venv/bin/python bench/artifacts.py --s3            # destination on S3 (moto)

One file goes up (``log_artifact``) and comes back (``download_artifacts``) through each server's
``mlflow-artifacts`` proxy, each side with its own client library (mlflowx's and MLflow's
``HttpArtifactRepository``) in a fresh process. Measured: MB/s both ways, and the memory each
transfer adds: the server's (RSS of each process of its tree sampled every 20 ms; the largest
rise of one process, peak minus the value just before, after a small warm-up upload and
download; the JSON also has the tree's sum) and the client's (RSS of the client process
sampled every 20 ms in a thread, peak minus the value before). The copy that comes back is
checked byte for byte (SHA-256). With ``--s3``
both servers' ``--artifacts-destination`` is a bucket of a moto S3 server (``moto[server]``) on
127.0.0.1. See bench/README.md ("Artifacts").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import BIN, RESULTS_DIR, Server, free_port, server_cmd, server_env

MiB = 2**20
SIDES = ("mlflowx", "mlflow")
#: Server memory added by a transfer, the issue's goal (#14).
RSS_GOAL_MIB = 100
BLOCK = 16 * MiB

CLIENT = r"""
import json, os, sys, threading, time
import psutil
side, url, op, local, dst = sys.argv[1:6]
if side == "mlflowx":
    from mlflowx.store.artifacts.http import HttpArtifactRepository
else:
    from mlflow.store.artifact.http_artifact_repo import HttpArtifactRepository
repo = HttpArtifactRepository(url + "/api/2.0/mlflow-artifacts/artifacts/bench")
repo.list_artifacts()  # connection, lazy imports: not part of the transfer
me = psutil.Process()
base = peak = me.memory_info().rss
done = threading.Event()
def sample():
    global peak
    while not done.wait(0.02):
        peak = max(peak, me.memory_info().rss)
sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
t0 = time.perf_counter()
if op == "upload":
    repo.log_artifact(local)
else:
    repo.download_artifacts(os.path.basename(local), dst)
seconds = time.perf_counter() - t0
done.set()
sampler.join()
peak = max(peak, me.memory_info().rss)
print(json.dumps({"seconds": seconds, "client_added_mib": (peak - base) / 2**20}))
"""


def parse_size(text: str) -> int:
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    text = text.strip().upper()
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def make_file(path: Path, size: int) -> str:
    """``size`` bytes (a random block repeated: incompressible enough, fast to write)."""
    block = os.urandom(BLOCK)
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            piece = block[: min(left, BLOCK)]
            out.write(piece)
            digest.update(piece)
            left -= len(piece)
    return digest.hexdigest()


def sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class RssSampler:
    """RSS of each process of a tree, sampled in a thread: ``added_mib`` is the largest rise
    of one process (the one serving the transfer; MLflow's idle job consumers move on their
    own), ``tree_added_mib`` the rise of the sum."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.before: dict[int, int] = {}
        self.peak: dict[int, int] = {}
        self.tree_before = self.tree_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sizes(self) -> dict[int, int]:
        out = {}
        for proc in [self.root, *self.root.children(recursive=True)]:
            try:
                out[proc.pid] = proc.memory_info().rss
            except psutil.Error:
                continue
        return out

    def rss(self) -> int:
        return sum(self.sizes().values())

    def _sample(self) -> None:
        sizes = self.sizes()
        for pid, rss in sizes.items():
            self.peak[pid] = max(self.peak.get(pid, 0), rss)
        self.tree_peak = max(self.tree_peak, sum(sizes.values()))

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self._sample()

    def __enter__(self) -> RssSampler:
        self.before = self.sizes()
        self.tree_before = sum(self.before.values())
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def added_mib(self) -> float:
        rises = [peak - self.before.get(pid, 0) for pid, peak in self.peak.items()]
        return max([0, *rises]) / MiB

    @property
    def tree_added_mib(self) -> float:
        return max(self.tree_peak - self.tree_before, 0) / MiB


def settle(pid: int, timeout: float = 90) -> None:
    """Wait until the tree's RSS holds still (MLflow starts job consumers after it is ready),
    so that the baseline taken before a transfer is not still growing."""
    sampler = RssSampler(pid)
    last, steady, deadline = sampler.rss(), 0, time.monotonic() + timeout
    while steady < 4 and time.monotonic() < deadline:
        time.sleep(0.5)
        now = sampler.rss()
        steady = steady + 1 if abs(now - last) < 2 * MiB else 0
        last = now


def warm_up(url: str) -> None:
    path = f"{url}/api/2.0/mlflow-artifacts/artifacts/bench/warm-up.bin"
    with httpx.Client(timeout=60) as http:
        http.put(path, content=os.urandom(64 * 1024)).raise_for_status()
        http.get(path).raise_for_status()


def start(side: str, home: Path, destination: str, env: dict[str, str]) -> Server:
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cmd = server_cmd(side, home, port)
    cmd[cmd.index("--artifacts-destination") + 1] = destination
    if side == "mlflowx":
        cmd += ["--max-artifact-size", "8G"]
    log = home / "server.log"
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**server_env(home), **env},
            cwd=home,
            start_new_session=True,
        )
    server = Server(side, home, proc, url, cmd[cmd.index("--backend-store-uri") + 1], log=log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                warm_up(url)  # imports the store's libraries (botocore...), first connections
                settle(proc.pid)
                return server
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"{side} server exited early:\n{server.tail(60)}")
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"{side} server not ready:\n{server.tail()}")


def client(side: str, server: Server, op: str, local: Path, dst: Path, env: dict[str, str]) -> Any:
    with RssSampler(server.proc.pid) as sampler:
        done = subprocess.run(
            [sys.executable, "-c", CLIENT, side, server.url, op, str(local), str(dst)],
            capture_output=True,
            text=True,
            env={**server_env(server.home), **env},
            timeout=3600,
        )
    if done.returncode != 0:
        raise RuntimeError(f"{side} {op} failed:\n{done.stderr[-3000:]}\n{server.tail()}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["server_added_mib"] = sampler.added_mib
    result["server_tree_added_mib"] = sampler.tree_added_mib
    result["server_rss_before_mib"] = sampler.tree_before / MiB
    return result


def start_moto(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = open(work / "moto.log", "wb")  # noqa: SIM115 - kept open for the process
    proc = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(endpoint, timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    httpx.put(f"{endpoint}/bench-artifacts", timeout=10).raise_for_status()
    return proc, endpoint


def run(sizes: list[int], sides: tuple[str, ...], s3: bool, keep: bool) -> list[dict[str, Any]]:
    work = Path(tempfile.mkdtemp(prefix="bench-artifacts-"))
    env = {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    moto = None
    if s3:
        moto, endpoint = start_moto(work)
        env.update(
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_DEFAULT_REGION="us-east-1",
            MLFLOW_S3_ENDPOINT_URL=endpoint,
            MLFLOWX_S3_ENDPOINT_URL=endpoint,
            MLFLOWX_ALLOWED_ARTIFACT_SCHEMES="s3",
        )
    rows: list[dict[str, Any]] = []
    try:
        for size in sizes:
            source = work / "big.bin"
            digest = make_file(source, size)
            for side in sides:
                home = work / f"{side}-{size}"
                dest = f"s3://bench-artifacts/{side}-{size}" if s3 else str(home / "artifacts")
                server = start(side, home, dest, env)
                try:
                    up = client(side, server, "upload", source, work, env)
                    dst = home / "download"
                    dst.mkdir()
                    down = client(side, server, "download", source, dst, env)
                finally:
                    server.stop()
                copy = dst / source.name
                correct = copy.stat().st_size == size and sha256(copy) == digest
                rows.append(
                    {
                        "side": side,
                        "size_mib": size / MiB,
                        "upload": up,
                        "download": down,
                        "upload_mb_s": size / 1e6 / up["seconds"],
                        "download_mb_s": size / 1e6 / down["seconds"],
                        "correct": correct,
                        "load_avg": os.getloadavg()[0],
                    }
                )
                print(f"  {side} {size / MiB:.0f} MiB: {json.dumps(rows[-1])}", flush=True)
                if not keep:
                    shutil.rmtree(home, ignore_errors=True)
            source.unlink()
    finally:
        if moto is not None:
            moto.terminate()
            moto.wait(30)
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return rows


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def table(rows: list[dict[str, Any]]) -> str:
    out = [
        "workload | unit | mlflowx | mlflow | ratio | goal | met?",
        "---|---|---|---|---|---|---",
    ]
    for size in dict.fromkeys(r["size_mib"] for r in rows):
        by = {r["side"]: r for r in rows if r["size_mib"] == size}
        x, m = by.get("mlflowx"), by.get("mlflow")
        label = f"{size / 1024:g} GiB" if size >= 1024 else f"{size:g} MiB"
        for what, unit, get, higher in (
            ("upload", "MB/s", lambda r: r["upload_mb_s"], True),
            ("download", "MB/s", lambda r: r["download_mb_s"], True),
            ("server RSS added, upload", "MiB", lambda r: r["upload"]["server_added_mib"], False),
            ("server RSS added, download", "MiB", lambda r: r["download"]["server_added_mib"], 0),
            ("client RSS added, upload", "MiB", lambda r: r["upload"]["client_added_mib"], False),
            ("client RSS added, download", "MiB", lambda r: r["download"]["client_added_mib"], 0),
        ):
            xv = get(x) if x else None
            mv = get(m) if m else None
            ratio = ""
            if xv is not None and mv is not None and xv > 0 and mv > 0:
                ratio = f"{(xv / mv) if higher else (mv / xv):.2f}x"
            goal, met = "", ""
            if what.startswith("server") and xv is not None:
                goal, met = f"<= {RSS_GOAL_MIB}", "yes" if xv <= RSS_GOAL_MIB else "NO"
            bad = "" if all(r["correct"] for r in (x, m) if r) else " !!"
            out.append(
                f"{what} {label}{bad} | {unit} | {_fmt(xv)} | {_fmt(mv)} | {ratio} | {goal} | {met}"
            )
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100M,2G", help="comma-separated, e.g. 20M,2G")
    parser.add_argument("--s3", action="store_true", help="artifacts destination on moto S3")
    parser.add_argument("--sides", default=",".join(SIDES), help="mlflowx,mlflow")
    parser.add_argument("--keep", action="store_true", help="keep the temp dirs")
    parser.add_argument("--no-json", action="store_true")
    args = parser.parse_args()
    sides = tuple(s for s in args.sides.split(",") if s)
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    print(f"artifacts bench: sizes {args.sizes}, destination {'S3 (moto)' if args.s3 else 'local'}")
    rows = run(sizes, sides, args.s3, args.keep)
    print(table(rows))
    if not args.no_json:
        RESULTS_DIR.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = RESULTS_DIR / f"artifacts{'-s3' if args.s3 else ''}-{stamp}.json"
        meta = {"python": platform.python_version(), "cpus": os.cpu_count(), "s3": args.s3}
        path.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
        print(f"results: {path}")
    return 0 if all(r["correct"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
