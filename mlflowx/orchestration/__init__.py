"""Prefect-native pipelines: tracked flows and tasks, and the task library.

``@mlflowx.flow`` / ``@mlflowx.task(track=True)`` (see :mod:`mlflowx.orchestration.tracked`).
"""

from mlflowx.orchestration._context import flow_run_tags
from mlflowx.orchestration.tracked import TrackedFlow, current_run_id, flow, task

__all__ = ["TrackedFlow", "current_run_id", "flow", "flow_run_tags", "task"]
