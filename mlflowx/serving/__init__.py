"""Serving: the scoring server (MLflow's protocol), model images and serving containers.

``create_scoring_app`` needs FastAPI (the ``serving`` extra) and is imported on first use, so
``mlflowx.serving.process`` and the Docker tooling stay importable without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlflowx.serving.process import ScoringProcess, start_scoring_server

if TYPE_CHECKING:
    from mlflowx.serving.scoring.app import create_scoring_app

__all__ = ["ScoringProcess", "create_scoring_app", "start_scoring_server"]


def __getattr__(name: str) -> Any:
    if name == "create_scoring_app":
        from mlflowx.serving.scoring.app import create_scoring_app

        return create_scoring_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
