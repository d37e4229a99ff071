"""Step notifications from the task library, for progress displays (``make demo``).

Listeners are process-wide callables ``(step, status, detail)``; ``status`` is ``started``,
``done`` or ``failed``. Tasks that run in other processes notify listeners there, not here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

__all__ = ["Listener", "add_listener", "notify", "remove_listener", "reports", "step"]

P = ParamSpec("P")
R = TypeVar("R")

Listener = Callable[[str, str, str], None]
_listeners: list[Listener] = []


def add_listener(listener: Listener) -> None:
    _listeners.append(listener)


def remove_listener(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def notify(step_name: str, status: str, detail: str = "") -> None:
    for listener in list(_listeners):
        listener(step_name, status, detail)


@contextmanager
def step(step_name: str, detail: str = "") -> Iterator[None]:
    """Notify ``started``, then ``done`` or ``failed`` (with the error) around the block."""
    notify(step_name, "started", detail)
    try:
        yield
    except BaseException as exc:
        notify(step_name, "failed", f"{type(exc).__name__}: {exc}")
        raise
    notify(step_name, "done", detail)


def reports(
    step_name: str, summary: Callable[[object], str] | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a task function to notify around each call; ``summary(result)`` is the
    ``done`` detail."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            notify(step_name, "started")
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                notify(step_name, "failed", f"{type(exc).__name__}: {exc}")
                raise
            notify(step_name, "done", summary(result) if summary else "")
            return result

        return wrapper

    return decorate
