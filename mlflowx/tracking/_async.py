"""Background batching for ``log_metric(..., synchronous=False)`` and friends.

Calls are queued and a daemon thread sends them with ``log_batch`` in chunks within MLflow's
limits. Nothing is dropped: ``flush()`` (called by ``end_run`` and at interpreter exit) waits for
the queue to drain and re-raises the first error the thread met, naming the run.
"""

from __future__ import annotations

import atexit
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from mlflowx.entities import Metric, Param, RunTag
from mlflowx.exceptions import MlflowxError
from mlflowx.utils.validation import MAX_METRICS_PER_BATCH, MAX_PARAMS_TAGS_PER_BATCH

BatchSink = Callable[[str, list[Metric], list[Param], list[RunTag]], None]


@dataclass
class _Item:
    run_id: str
    metrics: list[Metric] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    tags: list[RunTag] = field(default_factory=list)
    done: threading.Event | None = None


class RunOperations:
    """What an asynchronous logging call returns: ``wait()`` blocks until it is stored."""

    def __init__(self, logger: AsyncLogger | None = None) -> None:
        self._logger = logger

    def wait(self) -> None:
        if self._logger is not None:
            self._logger.flush()


class AsyncLogger:
    def __init__(self, sink: BatchSink) -> None:
        self._sink = sink
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._error: BaseException | None = None

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._work, name="mlflowx-async-logging", daemon=True
                    )
                    self._thread.start()

    def submit(
        self,
        run_id: str,
        metrics: list[Metric] | None = None,
        params: list[Param] | None = None,
        tags: list[RunTag] | None = None,
    ) -> RunOperations:
        self._ensure_thread()
        self._queue.put(_Item(run_id, metrics or [], params or [], tags or []))
        return RunOperations(self)

    def _drain(self, first: _Item) -> tuple[list[_Item], list[threading.Event]]:
        items, events = [first], []
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        data = [i for i in items if i.done is None]
        events = [i.done for i in items if i.done is not None]
        return data, events

    def _send(self, items: list[_Item]) -> None:
        by_run: dict[str, _Item] = {}
        for item in items:
            agg = by_run.setdefault(item.run_id, _Item(item.run_id))
            agg.metrics.extend(item.metrics)
            agg.params.extend(item.params)
            agg.tags.extend(item.tags)
        for run_id, agg in by_run.items():
            # Params and tags first (at most 100 each per call), then metrics by 1000.
            params, tags, metrics = agg.params, agg.tags, agg.metrics
            while params or tags:
                self._sink(
                    run_id, [], params[:MAX_PARAMS_TAGS_PER_BATCH], tags[:MAX_PARAMS_TAGS_PER_BATCH]
                )
                params = params[MAX_PARAMS_TAGS_PER_BATCH:]
                tags = tags[MAX_PARAMS_TAGS_PER_BATCH:]
            for start in range(0, len(metrics), MAX_METRICS_PER_BATCH):
                self._sink(run_id, metrics[start : start + MAX_METRICS_PER_BATCH], [], [])

    def _work(self) -> None:
        while True:
            first = self._queue.get()
            items, events = self._drain(first)
            try:
                if items:
                    self._send(items)
            except BaseException as exc:  # kept and re-raised by flush()
                if self._error is None:
                    self._error = exc
            finally:
                for event in events:
                    event.set()

    def flush(self) -> None:
        """Wait until everything queued so far is stored; raise the first background error."""
        if self._thread is not None and self._thread.is_alive():
            done = threading.Event()
            self._queue.put(_Item("", done=done))
            done.wait()
        error, self._error = self._error, None
        if error is not None:
            if isinstance(error, MlflowxError):
                raise type(error)(f"Asynchronous logging failed: {error.message}") from error
            raise error


_loggers: list[AsyncLogger] = []


def register_for_exit(logger: AsyncLogger) -> None:
    _loggers.append(logger)


@atexit.register
def _flush_all_at_exit() -> None:
    for logger in _loggers:
        try:
            logger.flush()
        except Exception as exc:  # at exit there is no caller left to raise to
            import sys

            print(f"mlflowx: asynchronous logging failed at exit: {exc}", file=sys.stderr)
