"""Errors the scoring server answers with, in MLflow's ``{"error_code", "message"}`` body."""

from __future__ import annotations

from typing import ClassVar

from mlflowx.exceptions import BadRequest, TemporarilyUnavailable

__all__ = ["ModelNotReady", "PayloadTooLarge", "UnsupportedMediaType"]


class UnsupportedMediaType(BadRequest):
    """A content type (or charset, or content-type parameter) the server does not read."""

    http_status: ClassVar[int] = 415


class PayloadTooLarge(BadRequest):
    """The request body is over the configured limit (``MLFLOWX_SCORING_MAX_BODY_MB``)."""

    http_status: ClassVar[int] = 413


class ModelNotReady(TemporarilyUnavailable):
    """The model is still loading, or failed to load."""
