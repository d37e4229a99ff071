"""URI helpers shared by stores and clients."""

from __future__ import annotations

__all__ = ["join_uri"]


def join_uri(root: str, *parts: str) -> str:
    """Append path segments to a path or URI with ``/`` (no normalisation of the root)."""
    return "/".join([root.rstrip("/"), *parts])
