"""Moved to :mod:`mlflowx.utils.uvicorn_setup` (the scoring server uses it too); re-exported."""

from __future__ import annotations

from mlflowx.utils.uvicorn_setup import NoDelayHttpProtocol, http_protocol

__all__ = ["NoDelayHttpProtocol", "http_protocol"]
