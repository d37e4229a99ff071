"""Runs for the task library: a child of the flow's run when there is one, lineage tags."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import mlflowx

__all__ = ["FLOW_RUN_ID_TAG", "child_run", "flow_run_lineage", "str_tags"]

#: The tag naming the Prefect flow run on runs and model versions.
FLOW_RUN_ID_TAG = "mlflowx.prefect.flow_run_id"


def flow_run_lineage() -> dict[str, str]:
    """Tags naming the Prefect flow run (and deployment, work pool) we are in; empty outside one.

    Uses ``mlflowx.orchestration.flow_run_tags`` when the tracked-flow module provides it, so the
    names match the flow's own run; otherwise reads Prefect's runtime.
    """
    try:
        from mlflowx.orchestration import tracked

        return {str(k): str(v) for k, v in tracked.flow_run_tags().items()}
    except (ImportError, AttributeError):
        pass
    from prefect import runtime

    flow_run_id = runtime.flow_run.id
    if not flow_run_id:
        return {}
    tags = {
        FLOW_RUN_ID_TAG: str(flow_run_id),
        "mlflowx.prefect.flow_run_name": str(runtime.flow_run.name or ""),
        "mlflowx.prefect.flow_name": str(runtime.flow_run.flow_name or ""),
    }
    if runtime.deployment.id:
        tags["mlflowx.prefect.deployment_id"] = str(runtime.deployment.id)
        tags["mlflowx.prefect.deployment_name"] = str(runtime.deployment.name or "")
    ui = runtime.flow_run.ui_url
    if ui:
        tags["mlflowx.prefect.flow_run_url"] = str(ui)
    return tags


def str_tags(tags: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in tags.items() if v is not None}


def _current_run_id() -> str | None:
    try:
        from mlflowx.orchestration import tracked

        found = tracked.current_run_id()
        return str(found) if found else None
    except (ImportError, AttributeError):
        active = mlflowx.active_run()
        return active.info.run_id if active is not None else None


@contextmanager
def child_run(
    run_name: str,
    *,
    parent_run_id: str | None = None,
    experiment: str | None = None,
    tracking_uri: str | None = None,
    tags: Mapping[str, Any] | None = None,
) -> Iterator[mlflowx.ActiveRun]:
    """Start a run for one task: a child of ``parent_run_id``, else of the run active in this
    context (the tracked flow's or task's run), else a top-level run in ``experiment``.

    ``tracking_uri`` is for tasks that run in other processes (Dask workers), where neither the
    active run nor an in-process ``set_tracking_uri`` travels.
    """
    if tracking_uri:
        mlflowx.set_tracking_uri(tracking_uri)
        os.environ["MLFLOWX_TRACKING_URI"] = tracking_uri
    all_tags = {**flow_run_lineage(), **dict(tags or {})}
    if mlflowx.active_run() is not None:
        # In a tracked flow or task (this thread or a copied context): nest under its run.
        run = mlflowx.start_run(run_name=run_name, nested=True, tags=str_tags(all_tags))
    else:
        parent = parent_run_id or _current_run_id()
        experiment_id = None
        if parent is not None:
            experiment_id = mlflowx.get_run(parent).info.experiment_id
            all_tags["mlflow.parentRunId"] = parent
        elif experiment:
            found = mlflowx.get_experiment_by_name(experiment)
            experiment_id = found.experiment_id if found else mlflowx.create_experiment(experiment)
        run = mlflowx.start_run(
            run_name=run_name, experiment_id=experiment_id, tags=str_tags(all_tags)
        )
    with run:
        yield run
