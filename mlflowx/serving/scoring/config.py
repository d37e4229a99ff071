"""Scoring server settings, read from the environment at the edges (CLI, app factory)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from mlflowx.exceptions import InvalidParameter

__all__ = [
    "ENV_ALLOWED_HOSTS",
    "ENV_CORS_ORIGINS",
    "ENV_INLINE_MAX_KB",
    "ENV_MAX_BODY_MB",
    "ENV_MODEL_URI",
    "ENV_TIMEOUT",
    "ScoringConfig",
]

ENV_MODEL_URI = "MLFLOWX_SERVING_MODEL_URI"
ENV_MAX_BODY_MB = "MLFLOWX_SCORING_MAX_BODY_MB"
ENV_TIMEOUT = "MLFLOWX_SCORING_SERVER_REQUEST_TIMEOUT"
_MLFLOW_TIMEOUT = "MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT"
ENV_INLINE_MAX_KB = "MLFLOWX_SCORING_INLINE_MAX_KB"
#: Host names and CORS origins the scoring server accepts (comma-separated; the CLI fills the
#: host list with localhost and the bound name).
ENV_ALLOWED_HOSTS = "MLFLOWX_SCORING_ALLOWED_HOSTS"
ENV_CORS_ORIGINS = "MLFLOWX_SCORING_CORS_ALLOWED_ORIGINS"


def _number(name: str, default: float, *fallbacks: str) -> float:
    for key in (name, *fallbacks):
        raw = os.environ.get(key, "").strip()
        if raw:
            try:
                value = float(raw)
            except ValueError:
                raise InvalidParameter(f"{key}={raw!r} is not a number") from None
            if value < 0:
                raise InvalidParameter(f"{key}={raw!r} must not be negative")
            return value
    return default


@dataclass(frozen=True)
class ScoringConfig:
    """How the scoring server treats requests.

    Attributes:
        max_body_bytes: larger request bodies get 413 (``MLFLOWX_SCORING_MAX_BODY_MB``, 100).
        timeout: seconds a prediction may take before the request gets 504
            (``MLFLOWX_SCORING_SERVER_REQUEST_TIMEOUT``, else MLflow's
            ``MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT``, 60). Applies to predictions run in the
            worker thread, i.e. bodies over ``inline_max_bytes``.
        inline_max_bytes: bodies up to this size are predicted on the event loop, which saves a
            thread hand-off (``MLFLOWX_SCORING_INLINE_MAX_KB``, 256: a 1,000-row numeric batch
            takes a few ms; 0 sends every prediction to the worker thread, so the timeout applies
            to all).
    """

    max_body_bytes: int = 100 * 1024 * 1024
    timeout: float = 60.0
    inline_max_bytes: int = 256 * 1024

    @classmethod
    def from_env(cls) -> ScoringConfig:
        return cls(
            max_body_bytes=int(_number(ENV_MAX_BODY_MB, 100) * 1024 * 1024),
            timeout=_number(ENV_TIMEOUT, 60, _MLFLOW_TIMEOUT),
            inline_max_bytes=int(_number(ENV_INLINE_MAX_KB, 256) * 1024),
        )
