"""The live server under load and under SIGKILL: every acknowledged write is stored, once.

Clients are separate processes (spawned, so each has its own connection pool and GIL) talking to
``mlflowx server`` over HTTP, on SQLite and on PostgreSQL. Clients never retry (retries would
hide a failed first attempt), so every call must succeed the first time.
"""

from __future__ import annotations

import multiprocessing
import signal
import sqlite3
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlflowx import MlflowxClient
from mlflowx.entities import Metric
from tests.fixtures.server import start_mlflowx_server
from tests.fixtures.stores import _truncate

pytestmark = pytest.mark.slow

PROCESSES = 8
BATCHES = 9
BATCH_SIZE = 500
SHARED_PER_BATCH = 50  # of each batch, on the one key every process writes
SINGLES = 500
PER_PROCESS = BATCHES * BATCH_SIZE + SINGLES
T0 = 1_700_000_000_000


def _no_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # Inherited by the spawned clients: a failed first attempt must fail the test, not be retried.
    monkeypatch.setenv("MLFLOWX_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOWX_HTTP_REQUEST_TIMEOUT", "60")


def _backend(kind: str, home: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{home / 'mlflowx.db'}"
    uri: str = request.getfixturevalue("postgres_uri")
    _truncate(uri)
    return uri


def _count_metrics(backend: str, run_id: str) -> tuple[int, int]:
    """(rows, distinct (key, step)) in the metrics table itself, bypassing the API."""
    sql = (
        "SELECT COUNT(*), COUNT(DISTINCT key || '@' || CAST(step AS VARCHAR(20))) "
        "FROM metrics WHERE run_uuid = "
    )
    if backend.startswith("sqlite:"):
        conn = sqlite3.connect(backend.removeprefix("sqlite:///"))
        try:
            row = conn.execute(sql + "?", (run_id,)).fetchone()
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(backend) as pg:
            row = pg.execute(sql + "%s", (run_id,)).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _spawn(target: Callable[..., None], *args: Any) -> multiprocessing.process.BaseProcess:
    proc = multiprocessing.get_context("spawn").Process(target=target, args=args, daemon=True)
    proc.start()
    return proc


def _report_errors(errors: Path, body: Callable[[], None]) -> None:
    try:
        body()
    except BaseException:
        errors.write_text(traceback.format_exc())
        raise


# ------------------------------------------------------------------------------- concurrency
def _log_share(url: str, run_id: str, p: int, errors: Path) -> None:
    """One client process: batches of 500 (450 own points + 50 on the shared key), then singles."""

    def body() -> None:
        client = MlflowxClient(url)
        own = shared = 0
        for _ in range(BATCHES):
            batch: list[Metric] = []
            for i in range(BATCH_SIZE):
                if i < SHARED_PER_BATCH:
                    step = p * 100_000 + shared
                    batch.append(Metric("shared", float(step), T0 + step, step))
                    shared += 1
                else:
                    batch.append(Metric(f"p{p}/batch", own * 0.5, T0 + own, own))
                    own += 1
            client.log_batch(run_id, metrics=batch)
        for i in range(SINGLES):
            client.log_metric(run_id, f"p{p}/single", -float(i), timestamp=T0 + i, step=i)

    _report_errors(errors, body)


@pytest.mark.parametrize(
    ("kind", "workers"),
    [("sqlite", 1), ("sqlite", 2), ("postgres", 2)],
    ids=["sqlite-1worker", "sqlite-2workers", "postgres-2workers"],
)
def test_concurrent_clients_lose_and_duplicate_nothing(
    kind: str,
    workers: int,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _no_retries(monkeypatch)
    home = tmp_path / "server"
    backend = _backend(kind, home, request)
    server = start_mlflowx_server(home, backend, workers=workers)
    try:
        client = MlflowxClient(server.url)
        run_id = client.create_run(client.create_experiment("load")).info.run_id
        errors = [tmp_path / f"client-{p}.err" for p in range(PROCESSES)]
        started = time.monotonic()
        procs = [_spawn(_log_share, server.url, run_id, p, errors[p]) for p in range(PROCESSES)]
        for proc in procs:
            proc.join(120)
        elapsed = time.monotonic() - started
        failures = [e.read_text() for e in errors if e.exists()]
        assert not failures, failures[0]
        assert [proc.exitcode for proc in procs] == [0] * PROCESSES

        for p in range(PROCESSES):
            batch = client.get_metric_history(run_id, f"p{p}/batch")
            assert [m.step for m in batch] == list(range(BATCHES * (BATCH_SIZE - SHARED_PER_BATCH)))
            single = client.get_metric_history(run_id, f"p{p}/single")
            assert [m.step for m in single] == list(range(SINGLES))
            assert [m.value for m in single] == [-float(i) for i in range(SINGLES)]
        shared = client.get_metric_history(run_id, "shared")
        expected = sorted(
            p * 100_000 + i for p in range(PROCESSES) for i in range(BATCHES * SHARED_PER_BATCH)
        )
        assert [m.step for m in shared] == expected

        total = PROCESSES * PER_PROCESS
        assert _count_metrics(backend, run_id) == (total, total)
        # Concurrent upserts of the latest value kept the greatest step of every key.
        latest = client.get_run(run_id).data.latest_metrics
        assert latest["shared"].step == expected[-1]
        assert {latest[f"p{p}/single"].step for p in range(PROCESSES)} == {SINGLES - 1}
        assert "Traceback" not in server.logs()
    finally:
        server.stop()
    print(
        f"{kind}, {workers} worker(s): {total} metrics from {PROCESSES} clients in {elapsed:.1f}s"
    )


# ------------------------------------------------------------------------------- SIGKILL
def _stream(url: str, run_id: str, acks: Path, errors: Path) -> None:
    """Log one point at a time; record each step once the server has acknowledged it."""

    def body() -> None:
        client = MlflowxClient(url)
        with open(acks, "a", buffering=1) as out:
            for step in range(1_000_000):
                client.log_metric(run_id, "stream", step * 0.25, timestamp=T0 + step, step=step)
                out.write(f"{step}\n")

    try:
        _report_errors(errors, body)
    except Exception:
        pass  # the server was killed under it: expected, recorded in `errors` for the test


def _acked(acks: Path) -> list[int]:
    lines = acks.read_text().splitlines() if acks.exists() else []
    return [int(line) for line in lines]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_acknowledged_metrics_survive_sigkill(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_retries(monkeypatch)
    home = tmp_path / "server"
    backend = _backend(kind, home, request)
    server = start_mlflowx_server(home, backend)
    acks, errors = tmp_path / "acks.txt", tmp_path / "client.err"
    try:
        client = MlflowxClient(server.url)
        run_id = client.create_run(client.create_experiment("crash")).info.run_id
        proc = _spawn(_stream, server.url, run_id, acks, errors)
        deadline = time.monotonic() + 60
        while len(_acked(acks)) < 300 and time.monotonic() < deadline and proc.is_alive():
            time.sleep(0.02)
        assert len(_acked(acks)) >= 300, errors.read_text() if errors.exists() else "no acks"
        assert server.stop(signal.SIGKILL) == -signal.SIGKILL
        proc.join(60)
        assert not proc.is_alive()
    finally:
        server.stop(signal.SIGKILL)
    # The client stopped on a transport error, not on an error answer from the server.
    assert "TemporarilyUnavailable" in errors.read_text()
    acked = _acked(acks)
    assert acked == list(range(len(acked)))

    restarted = start_mlflowx_server(home, backend)
    try:
        stored = [m.step for m in MlflowxClient(restarted.url).get_metric_history(run_id, "stream")]
    finally:
        restarted.stop()
    # Every acknowledged point is there, once; at most the one in flight at the kill is extra.
    assert stored[: len(acked)] == acked
    assert stored in (acked, [*acked, len(acked)])
