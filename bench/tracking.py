"""Tracking benchmarks: the same workloads on mlflowx and MLflow, side by side.

    .venv/bin/python bench/tracking.py            # full run (~10 min on 2 cores)
    .venv/bin/python bench/tracking.py --quick    # smoke run with small sizes
    .venv/bin/python bench/tracking.py --only search,import --sides mlflowx
    .venv/bin/python bench/tracking.py --only log_metric,script --sides mlflowx --profile

Every (workload, side) pair runs in a fresh subprocess (``bench/_worker.py``) with its own temp
dir and its own embedded SQLite store, so imports and caches never leak between the two. This
file imports neither mlflow nor mlflowx. See bench/README.md for what each workload measures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
WORKER = BENCH_DIR / "_worker.py"
RESULTS_DIR = BENCH_DIR / "results"
SIDES = ("mlflowx", "mlflow")
MODULE = {"mlflowx": "mlflowx", "mlflow": "mlflow"}
WORKER_WORKLOADS = ("log_metric", "log_batch", "async", "search", "search_big")
ALL_WORKLOADS = (*WORKER_WORKLOADS, "import", "script")
TIMEOUT_S = 1800

FULL_SIZES: dict[str, Any] = {
    "log_metric_n": 1_000,
    "batch_runs": 10,
    "batch_params": 10,
    "batch_steps": 1_000,
    "batch_per_call": 1_000,
    "async_n": 10_000,
    "search_runs": 10_000,
    "search_big_runs": 100_000,
    # Runs seeded through the public API (create_run + log_batch); the rest are bulk-inserted
    # into each side's own tables (MLflow manages ~30-40 runs/s through its API on this box).
    "search_api_runs": 500,
    "search_warmup": 3,
    "search_queries": 20,
    "process_repeats": 5,
    "rounds": 3,  # log_metric and log_batch: median of this many rounds
}
QUICK_SIZES: dict[str, Any] = {
    **FULL_SIZES,
    "log_metric_n": 200,
    "batch_runs": 2,
    "async_n": 2_000,
    "search_runs": 1_000,
    "search_big_runs": 10_000,
    "search_api_runs": 100,
    "search_warmup": 1,
    "search_queries": 5,
    "process_repeats": 3,
    "rounds": 1,
}

SCRIPT = """\
import {module} as mlflow

mlflow.set_tracking_uri({uri!r})
mlflow.start_run()
mlflow.log_param("alpha", 0.5)
mlflow.log_metric("rmse", 0.25)
mlflow.end_run()
"""


# ------------------------------------------------------------------------------ processes
def side_env(side: str, tmp: Path) -> dict[str, str]:
    """A clean environment: no inherited MLFLOW_*/MLFLOWX_* settings, telemetry off.

    PYTHONDONTWRITEBYTECODE is dropped too: pip-installed MLflow ships compiled bytecode, and
    the editable mlflowx must get the same chance (its __pycache__ is written on the warm-up).
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLFLOW_", "MLFLOWX_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        DO_NOT_TRACK="true",
        MLFLOW_DISABLE_TELEMETRY="true",
        MLFLOW_TRACKING_URI=f"sqlite:///{tmp / side}.db",
        PYTHONUNBUFFERED="1",
    )
    if side == "mlflowx":
        env["MLFLOWX_HOME"] = str(tmp)  # embedded store's artifact root
    return env


def run_process(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    """Run to completion; returns (wall seconds, stderr). Raises on a non-zero exit."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"{' '.join(cmd[:4])}... exited {proc.returncode}:\n{tail}")
    return seconds, proc.stderr


class TempDir:
    def __init__(self, side: str, keep: bool) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=f"bench-{side}-"))
        self.keep = keep

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc: object) -> None:
        if not self.keep:
            shutil.rmtree(self.path, ignore_errors=True)


def run_worker(
    workload: str, side: str, sizes: dict[str, Any], keep: bool, profile: str | None = None
) -> dict[str, Any]:
    with TempDir(side, keep) as tmp:
        out = tmp / "result.json"
        spec = {"side": side, "workload": workload, "tmp": str(tmp), "out": str(out),
                "sizes": sizes, "profile": profile}  # fmt: skip
        seconds, _ = run_process(
            [sys.executable, str(WORKER), json.dumps(spec)], side_env(side, tmp), tmp
        )
        result: dict[str, Any] = json.loads(out.read_text())
        result["process_seconds"] = seconds
        return result


def bench_import(side: str, sizes: dict[str, Any], keep: bool) -> dict[str, Any]:
    """Wall time of ``python -c "import X"``: median of fresh processes after one warm-up."""
    repeats = int(sizes["process_repeats"])
    with TempDir(side, keep) as tmp:
        env = side_env(side, tmp)
        cmd = [sys.executable, "-c", f"import {MODULE[side]}"]
        run_process(cmd, env, tmp)  # bytecode caches warm, as for any installed package
        times = [run_process(cmd, env, tmp)[0] for _ in range(repeats)]
        bare = [run_process([sys.executable, "-c", "pass"], env, tmp)[0] for _ in range(3)]
    return {"median_s": statistics.median(times), "times_s": times,
            "python_startup_s": statistics.median(bare)}  # fmt: skip


def bench_script(side: str, sizes: dict[str, Any], keep: bool) -> dict[str, Any]:
    """A whole tracking script in a fresh process, on an existing DB and on an empty one."""
    repeats = int(sizes["process_repeats"])
    with TempDir(side, keep) as tmp:
        env = side_env(side, tmp)
        script = tmp / "script.py"
        script.write_text(SCRIPT.format(module=MODULE[side], uri=f"sqlite:///{tmp / side}.db"))
        run_process([sys.executable, str(script)], env, tmp)  # creates the DB
        existing = [run_process([sys.executable, str(script)], env, tmp)[0] for _ in range(repeats)]
        fresh = []
        for i in range(repeats):
            folder = tmp / f"fresh-{i}"
            folder.mkdir()
            fresh_script = folder / "script.py"
            fresh_script.write_text(
                SCRIPT.format(module=MODULE[side], uri=f"sqlite:///{folder / side}.db")
            )
            fresh_env = side_env(side, folder)
            fresh.append(run_process([sys.executable, str(fresh_script)], fresh_env, folder)[0])
    return {
        "existing_median_s": statistics.median(existing),
        "existing_times_s": existing,
        "fresh_median_s": statistics.median(fresh),
        "fresh_times_s": fresh,
    }


# --------------------------------------------------------------------------------- table
@dataclass
class Row:
    workload: str
    unit: str
    mlflowx: float | None
    mlflow: float | None
    higher_is_better: bool
    goal: str
    check: Callable[[float | None, float | None], bool | None] | None = None

    @property
    def ratio(self) -> float | None:
        """How many times better mlflowx is (rates: x/m; times: m/x)."""
        if not self.mlflowx or not self.mlflow:
            return None
        return self.mlflowx / self.mlflow if self.higher_is_better else self.mlflow / self.mlflowx

    @property
    def met(self) -> bool | None:
        return None if self.check is None else self.check(self.mlflowx, self.ratio)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("check")
        data.update(ratio=self.ratio, met=self.met)
        return data


def ratio_at_least(target: float) -> Callable[[float | None, float | None], bool | None]:
    return lambda _x, ratio: None if ratio is None else ratio >= target


def below(limit: float) -> Callable[[float | None, float | None], bool | None]:
    return lambda x, _ratio: None if x is None else x < limit


def get(results: dict[str, dict[str, Any]], workload: str, side: str, *keys: str) -> float | None:
    value: Any = results.get(workload, {}).get(side)
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return float(value) if isinstance(value, int | float) else None


def build_rows(results: dict[str, dict[str, Any]], sizes: dict[str, Any]) -> list[Row]:
    def pair(workload: str, *keys: str, scale: float = 1.0) -> tuple[float | None, float | None]:
        values = [get(results, workload, side, *keys) for side in SIDES]
        x, m = (None if v is None else v * scale for v in values)
        return x, m

    rows: list[Row] = []
    if "log_metric" in results:
        rows.append(
            Row(
                f"1. log_metric sync x{sizes['log_metric_n']:,}",
                "calls/s",
                *pair("log_metric", "calls_per_s"),
                True,
                ">= 20x",
                ratio_at_least(20),
            )
        )
    if "log_batch" in results:
        label = f"{sizes['batch_runs']}x{sizes['batch_params']}p x{sizes['batch_steps']:,} steps"
        rows.append(
            Row(
                f"2. log_batch {label}",
                "metrics/s",
                *pair("log_batch", "metrics_per_s"),
                True,
                ">= 25x",
                ratio_at_least(25),
            )
        )
        rows.append(
            Row(
                "   ...end to end incl. create_run",
                "metrics/s",
                *pair("log_batch", "metrics_per_s_end_to_end"),
                True,
                "-",
            )
        )
    if "async" in results:
        rows.append(
            Row(
                f"3. log_metric async x{sizes['async_n']:,} + end_run",
                "metrics/s",
                *pair("async", "metrics_per_s"),
                True,
                "-",
            )
        )
    if "search" in results:
        n = sizes["search_runs"]
        rows.append(
            Row(
                f"4. search_runs client p50 @{n:,} runs",
                "ms",
                *pair("search", "p50_s", scale=1e3),
                False,
                ">= 10x",
                ratio_at_least(10),
            )
        )
        rows.append(
            Row(
                "   ...fluent search_runs(list) p50",
                "ms",
                *pair("search", "fluent", "p50_s", scale=1e3),
                False,
                "-",
            )
        )
        rows.append(
            Row(
                "   seed: create_run + log_batch",
                "runs/s",
                *pair("search", "seed_api_runs_per_s"),
                True,
                "-",
            )
        )
    if "search_big" in results:
        n = sizes["search_big_runs"]
        rows.append(
            Row(
                f"4b. search_runs client p50 @{n:,} runs",
                "ms",
                *pair("search_big", "p50_s", scale=1e3),
                False,
                "< 50 ms",
                below(50),
            )
        )
    if "import" in results:
        rows.append(
            Row(
                "5. python -c 'import X' (median)",
                "s",
                *pair("import", "median_s"),
                False,
                "< 0.25 s",
                below(0.25),
            )
        )
    if "script" in results:
        rows.append(
            Row(
                "6. one-run script, existing DB",
                "s",
                *pair("script", "existing_median_s"),
                False,
                "< 0.5 s",
                below(0.5),
            )
        )
        rows.append(
            Row(
                "   one-run script, fresh DB",
                "s",
                *pair("script", "fresh_median_s"),
                False,
                "< 0.5 s",
                below(0.5),
            )
        )
    return rows


def fmt_value(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}"


def render(rows: list[Row]) -> str:
    header = ("workload", "unit", "mlflowx", "mlflow", "ratio", "goal", "met?")
    lines = [
        (
            r.workload,
            r.unit,
            fmt_value(r.mlflowx),
            fmt_value(r.mlflow),
            "-" if r.ratio is None else f"{r.ratio:.1f}x",
            r.goal,
            {True: "yes", False: "NO", None: "-"}[r.met],
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]

    def fmt(cells: tuple[str, ...]) -> str:
        return " | ".join(
            c.ljust(w) if i < 2 or i >= 5 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    sep = "-+-".join("-" * w for w in widths)
    return "\n".join([fmt(header), sep, *(fmt(line) for line in lines)])


# ------------------------------------------------------------------------------ profiling
def print_profile(path: Path, title: str, limit: int = 15) -> None:
    print(f"\n=== cProfile: {title} ({path}) ===")
    for key in ("tottime", "cumulative"):
        print(f"--- top {limit} by {key} ---")
        pstats.Stats(str(path), stream=sys.stdout).strip_dirs().sort_stats(key).print_stats(limit)


def profile_mlflowx(workloads: list[str], sizes: dict[str, Any], keep: bool) -> None:
    RESULTS_DIR.mkdir(exist_ok=True)
    if "log_metric" in workloads:
        path = RESULTS_DIR / "profile-log_metric.prof"
        run_worker("log_metric", "mlflowx", sizes, keep, profile=str(path))
        print_profile(path, f"mlflowx log_metric x{sizes['log_metric_n']} (timed loop only)")
    if "log_batch" in workloads:
        path = RESULTS_DIR / "profile-log_batch.prof"
        run_worker("log_batch", "mlflowx", sizes, keep, profile=str(path))
        print_profile(path, "mlflowx log_batch workload (create_run .. set_terminated)")
    if "script" in workloads:
        for label, existing in (("existing DB", True), ("fresh DB", False)):
            path = RESULTS_DIR / f"profile-script-{'existing' if existing else 'fresh'}.prof"
            with TempDir("mlflowx", keep) as tmp:
                script = tmp / "script.py"
                script.write_text(SCRIPT.format(module="mlflowx", uri=f"sqlite:///{tmp}/x.db"))
                env = side_env("mlflowx", tmp)
                if existing:
                    run_process([sys.executable, str(script)], env, tmp)
                run_process(
                    [sys.executable, "-m", "cProfile", "-o", str(path), str(script)], env, tmp
                )
            print_profile(path, f"mlflowx one-run script, {label} (whole process)")
    if "import" in workloads:
        with TempDir("mlflowx", keep) as tmp:
            _, stderr = run_process(
                [sys.executable, "-X", "importtime", "-c", "import mlflowx"],
                side_env("mlflowx", tmp),
                tmp,
            )
        rows = []
        for line in stderr.splitlines():
            parts = line.split("|")
            if (
                len(parts) == 3
                and parts[0].startswith("import time:")
                and parts[1].strip().isdigit()
            ):
                rows.append((int(parts[1]), parts[2].rstrip()))
        print("\n=== -X importtime: mlflowx, top 15 by cumulative us ===")
        for cumulative, name in sorted(rows, reverse=True)[:15]:
            print(f"{cumulative:>10,} us  {name}")


# ----------------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated workloads to run, from: {', '.join(ALL_WORKLOADS)}",
    )
    parser.add_argument(
        "--no-big",
        action="store_true",
        help="skip search_big (mlflowx alone at 100k runs; 10k with --quick)",
    )
    parser.add_argument(
        "--sides", default=",".join(SIDES), help="comma-separated: mlflowx,mlflow (default both)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="afterwards, cProfile the mlflowx side"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dirs")
    parser.add_argument("--no-json", action="store_true", help="do not write bench/results/")
    return parser.parse_args(argv)


def selected_workloads(args: argparse.Namespace) -> list[str]:
    if args.only:
        chosen = [w.strip() for w in args.only.split(",") if w.strip()]
        unknown = sorted(set(chosen) - set(ALL_WORKLOADS))
        if unknown:
            raise SystemExit(f"unknown workload(s) {unknown}; choose from {list(ALL_WORKLOADS)}")
        return chosen
    return [w for w in ALL_WORKLOADS if w != "search_big" or not args.no_big]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    workloads = selected_workloads(args)
    sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    if set(sides) - set(SIDES):
        raise SystemExit(f"--sides takes mlflowx and/or mlflow, got {args.sides!r}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    cpus = os.cpu_count() or 1
    print(f"tracking bench: {'quick' if args.quick else 'full'}, workloads={workloads}, "
          f"sides={sides}, cpus={cpus}, load={load}")  # fmt: skip
    if load is not None and load > cpus:
        print(f"WARNING: load average {load:.1f} > {cpus} cpus; timings will be noisy")

    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for workload in workloads:
        for side in sides:
            if workload == "search_big" and side != "mlflowx":
                continue  # the 100k goal is for mlflowx alone
            t0 = time.perf_counter()
            print(f"  {workload:<11} {side:<8} ...", end="", flush=True)
            try:
                if workload == "import":
                    result = bench_import(side, sizes, args.keep)
                elif workload == "script":
                    result = bench_script(side, sizes, args.keep)
                else:
                    result = run_worker(workload, side, sizes, args.keep)
            except Exception as exc:
                errors[f"{workload}/{side}"] = str(exc)
                print(f" FAILED ({time.perf_counter() - t0:.1f}s)\n{exc}")
                continue
            results.setdefault(workload, {})[side] = result
            print(f" {time.perf_counter() - t0:.1f}s{sanity_note(workload, result, sizes)}")

    rows = build_rows(results, sizes)
    print()
    print(render(rows))
    total = time.perf_counter() - started
    print(f"\ntotal bench time {total:.0f}s")
    if errors:
        print(f"{len(errors)} failed: {', '.join(errors)}")

    if not args.no_json:
        RESULTS_DIR.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = RESULTS_DIR / f"tracking-{stamp}.json"
        payload = {
            "timestamp": stamp,
            "mode": "quick" if args.quick else "full",
            "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                        "cpus": cpus, "load_at_start": load},
            "sizes": sizes,
            "table": [r.as_dict() for r in rows],
            "results": results,
            "errors": errors,
            "total_seconds": total,
        }  # fmt: skip
        path.write_text(json.dumps(payload, indent=2))
        print(f"results: {path.relative_to(BENCH_DIR.parent)}")

    if args.profile and "mlflowx" in sides:
        profile_mlflowx(workloads, sizes, args.keep)
    return 1 if errors else 0


def sanity_note(workload: str, result: dict[str, Any], sizes: dict[str, Any]) -> str:
    """Flag results that would make the numbers meaningless (lost or wrong data)."""
    problems = []
    if "stored" in result and result["stored"] != result["n"]:
        problems.append(f"stored {result['stored']} of {result['n']} metrics")
    if workload == "log_batch":
        if result["stored_first_run"] != sizes["batch_steps"]:
            problems.append(f"stored {result['stored_first_run']} of {sizes['batch_steps']} steps")
        if result["params_first_run"] != sizes["batch_params"]:
            problems.append(
                f"stored {result['params_first_run']} of {sizes['batch_params']} params"
            )
    if workload.startswith("search") and not result.get("results_correct", True):
        problems.append("search results differ from the expected top runs")
    return f"  !! {'; '.join(problems)}" if problems else ""


if __name__ == "__main__":
    sys.exit(main())
