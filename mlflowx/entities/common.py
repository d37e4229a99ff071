from __future__ import annotations

import time
from collections.abc import Iterable
from enum import IntEnum, StrEnum
from typing import TypeVar

from mlflowx.exceptions import InvalidParameter

T = TypeVar("T")


def now_ms() -> int:
    """Milliseconds since the epoch, MLflow's unit for every timestamp."""
    return time.time_ns() // 1_000_000


class LifecycleStage(StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


class RunStatus(StrEnum):
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @classmethod
    def parse(cls, value: str | RunStatus) -> RunStatus:
        try:
            return cls(str(value).upper())
        except ValueError:
            known = ", ".join(s.value for s in cls)
            raise InvalidParameter(
                f"Invalid run status {value!r}; expected one of {known}"
            ) from None

    @property
    def is_terminated(self) -> bool:
        return self in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)


class ViewType(IntEnum):
    """Which lifecycle stages a search returns (MLflow's numbering)."""

    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3

    @classmethod
    def parse(cls, value: int | str | ViewType | None) -> ViewType:
        if value is None:
            return cls.ACTIVE_ONLY
        if isinstance(value, str):
            key = value.strip().upper()
            if key.isdigit():
                value = int(key)
            elif key in cls.__members__:
                return cls[key]
            else:
                raise InvalidParameter(
                    f"Invalid view type {value!r}; expected ACTIVE_ONLY, DELETED_ONLY or ALL"
                )
        try:
            return cls(int(value))
        except ValueError:
            raise InvalidParameter(f"Invalid view type {value!r}") from None

    def stages(self) -> tuple[LifecycleStage, ...]:
        if self is ViewType.ACTIVE_ONLY:
            return (LifecycleStage.ACTIVE,)
        if self is ViewType.DELETED_ONLY:
            return (LifecycleStage.DELETED,)
        return (LifecycleStage.ACTIVE, LifecycleStage.DELETED)


class PagedList(list[T]):
    """A page of results plus the token for the next page (``None`` on the last page)."""

    def __init__(self, items: Iterable[T], token: str | None) -> None:
        super().__init__(items)
        self.token = token
