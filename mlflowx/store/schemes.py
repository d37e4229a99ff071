"""Backends chosen by URI scheme, through one registry per kind.

Built-in backends register here lazily (their modules are imported on first use); third-party
ones plug in through entry points (``mlflowx.tracking_stores``, ``mlflowx.artifact_repositories``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from mlflowx.exceptions import InvalidParameter

T = TypeVar("T")
Builder = Callable[[str], T]

__all__ = ["SchemeRegistry", "scheme_of"]


def scheme_of(uri: str) -> str:
    """``postgresql+psycopg://`` -> ``postgresql``; a bare or Windows-drive path -> ``file``."""
    scheme = urlsplit(uri).scheme.partition("+")[0].lower()
    if len(scheme) <= 1:  # "" or a drive letter
        return "file"
    return scheme


class SchemeRegistry(Generic[T]):
    def __init__(self, kind: str, entry_point_group: str) -> None:
        self.kind = kind
        self._group = entry_point_group
        self._builders: dict[str, Builder[T]] = {}
        self._lock = threading.Lock()
        self._cache: dict[str, T] = {}

    def register(self, *schemes: str) -> Callable[[Builder[T]], Builder[T]]:
        def decorator(builder: Builder[T]) -> Builder[T]:
            for scheme in schemes:
                self._builders[scheme] = builder
            return builder

        return decorator

    def schemes(self) -> list[str]:
        return sorted(self._builders)

    def builder(self, uri: str) -> Builder[T]:
        scheme = scheme_of(uri)
        with self._lock:
            if scheme not in self._builders:
                # Imported here: importlib.metadata costs ~40 ms, paid only for unknown schemes.
                from importlib.metadata import entry_points

                for ep in entry_points(group=self._group, name=scheme):
                    self._builders[scheme] = ep.load()
        if scheme not in self._builders:
            raise InvalidParameter(
                f"No {self.kind} for the URI {uri!r} (scheme {scheme!r}); known schemes: "
                f"{', '.join(self.schemes())}"
            )
        return self._builders[scheme]

    def resolve(self, uri: str) -> T:
        return self.builder(uri)(uri)

    def cached(self, uri: str) -> T:
        """The process-wide backend for ``uri``: built on first use, then reused."""
        backend = self._cache.get(uri)
        if backend is None:
            with self._lock:
                backend = self._cache.get(uri)
            if backend is None:
                built = self.resolve(uri)
                with self._lock:
                    backend = self._cache.setdefault(uri, built)
                if backend is not built:  # another thread won the race
                    getattr(built, "close", lambda: None)()
        return backend

    def clear_cache(self) -> None:
        """Close (when they can be closed) and forget every cached backend."""
        with self._lock:
            backends, self._cache = list(self._cache.values()), {}
        for backend in backends:
            getattr(backend, "close", lambda: None)()
