"""Lineage in Prefect: artifacts on flow and task runs that point back to the tracking run and
the model version they made, in the mlflowx web UI.

The tracking side points to Prefect with ``mlflowx.prefect.*`` tags (``_context``); this is the
other direction. Each artifact is Markdown (a Prefect "link" artifact is a Markdown link), made
with the Prefect client for an explicit flow or task run, so that it also works from state
hooks. Creating one is best effort: a failure is logged and never fails the user's flow.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from mlflowx import settings

__all__ = [
    "DEPLOYMENT_KEY",
    "MODEL_VERSION_KEY",
    "RUN_KEY",
    "RUN_SUMMARY_KEY",
    "link_run",
    "model_version_url",
    "publish",
    "run_summary_markdown",
    "run_url",
]

logger = logging.getLogger(__name__)

#: Artifact keys (Prefect allows lowercase letters, digits and dashes).
RUN_KEY = "mlflowx-run"
RUN_SUMMARY_KEY = "mlflowx-run-summary"
MODEL_VERSION_KEY = "mlflowx-model-version"
DEPLOYMENT_KEY = "mlflowx-deployment"
_SUMMARY_ROWS = 20


def run_url(tracking_uri: str, experiment_id: str, run_id: str) -> str | None:
    """The run's page in the web UI (the route MLflow's client prints), when the UI is known."""
    base = settings.ui_url(tracking_uri)
    if base is None:
        return None
    experiment, run = quote(str(experiment_id), safe=""), quote(run_id, safe="")
    return f"{base}/#/experiments/{experiment}/runs/{run}"


def model_version_url(tracking_uri: str, name: str, version: str) -> str | None:
    base = settings.ui_url(tracking_uri)
    if base is None:
        return None
    return f"{base}/#/models/{quote(name, safe='')}/versions/{quote(str(version), safe='')}"


def link_run(tracking_uri: str, info: Any, flow_run_id: str) -> bool:
    """The flow run's link artifact to its tracking run's page in the web UI (``info``: the
    run's ``RunInfo``); without a known UI address, its ids and what to set."""
    url = run_url(tracking_uri, info.experiment_id, info.run_id)
    name = info.run_name or info.run_id
    text = (
        f"[{name}: tracking run in mlflowx]({url})\n"
        if url
        else f"Tracking run `{info.run_id}` (experiment `{info.experiment_id}`) in "
        f"`{tracking_uri}`. Set `MLFLOWX_UI_URL` for a link to its page in the mlflowx UI.\n"
    )
    return publish(RUN_KEY, text, "The tracking run of this flow run", flow_run_id=flow_run_id)


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")[:200]


def run_summary_markdown(
    run: Any, tracking_uri: str, url: str | None, *, title: str = "mlflowx tracking run"
) -> str:
    """A tracking run as Markdown: ids, status, its latest metrics and its params."""
    info, data = run.info, run.data
    lines = [f"## {title}", ""]
    if url:
        lines.append(f"**[{info.run_name or info.run_id}]({url})**")
    else:
        lines.append(
            f"**{info.run_name or info.run_id}**: set `MLFLOWX_UI_URL` (or track to a server) "
            "for a link to its page in the mlflowx UI."
        )
    lines += [
        "",
        f"- run id: `{info.run_id}`",
        f"- experiment id: `{info.experiment_id}`",
        f"- status: **{info.status}**",
        f"- tracking URI: `{tracking_uri}`",
    ]
    for heading, values in (("Metrics", data.metrics), ("Parameters", data.params)):
        if not values:
            continue
        lines += ["", f"### {heading}", "", "| name | value |", "|---|---|"]
        shown = sorted(values.items())[:_SUMMARY_ROWS]
        lines += [f"| {_cell(k)} | {_cell(v)} |" for k, v in shown]
        if len(values) > _SUMMARY_ROWS:
            lines.append(f"| … | {len(values) - _SUMMARY_ROWS} more |")
    return "\n".join(lines) + "\n"


def publish(
    key: str,
    markdown: str,
    description: str,
    *,
    flow_run_id: str | None = None,
    task_run_id: str | None = None,
) -> bool:
    """Create a Markdown artifact on a flow or task run (by default the current ones)."""
    try:
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.actions import ArtifactCreate
        from prefect.utilities.context import get_task_and_flow_run_ids

        if flow_run_id is None and task_run_id is None:
            current_task, current_flow = get_task_and_flow_run_ids()
            task_run_id = str(current_task) if current_task else None
            flow_run_id = str(current_flow) if current_flow else None
        if flow_run_id is None and task_run_id is None:
            return False
        request: Mapping[str, Any] = {
            "type": "markdown",
            "key": key,
            "description": description,
            "data": markdown,
            "flow_run_id": flow_run_id,
            "task_run_id": task_run_id,
        }
        with get_client(sync_client=True) as client:
            client.create_artifact(artifact=ArtifactCreate(**request))
        return True
    except Exception:  # lineage is best effort: never fail a flow over an artifact
        logger.warning("mlflowx: could not create the Prefect artifact %r", key, exc_info=True)
        return False
