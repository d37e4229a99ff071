"""Tracked Prefect flows and tasks: ``@mlflowx.flow`` and ``@mlflowx.task(track=True)``.

A tracked flow is a real :class:`prefect.Flow` whose function is wrapped: when a flow run starts
the wrapper opens a tracking run (parameters as params, Prefect lineage as ``mlflowx.prefect.*``
tags) and makes it the active run of the context; Prefect state hooks end it when the flow run
reaches its final state (Completed -> FINISHED, Failed/Crashed -> FAILED, Cancelled -> KILLED)
and log the return value (numbers as metrics, models as logged models). A tracked task is a real
:class:`prefect.Task` whose runs are child runs of the enclosing run, written with three store
calls (create, one batch, end) and no Prefect API call.
"""

from mlflowx.orchestration._context import flow_run_tags
from mlflowx.orchestration.tracked._runs import current_run_id
from mlflowx.orchestration.tracked.flows import FlowConfig, TrackedFlow, flow, tracked_flow
from mlflowx.orchestration.tracked.tasks import child_run, task

__all__ = [
    "FlowConfig",
    "TrackedFlow",
    "child_run",
    "current_run_id",
    "flow",
    "flow_run_tags",
    "task",
    "tracked_flow",
]
