"""Trigger a deployed pipeline and find what its flow run made (the CLI's ``pipelines trigger``).

What a run made is found in the tracking store by the flow-run tags the tasks and the tracked
flow set (``mlflowx.prefect.flow_run_id``), so it works wherever the flow ran: a process worker,
a container, another machine.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.orchestration._context import FINAL_STATES, FLOW_RUN_ID_TAG

__all__ = [
    "PipelineOutputs",
    "TriggeredRun",
    "find_outputs",
    "merge_params",
    "parse_param",
    "trigger_deployment",
    "wait_for_flow_run",
]


class TriggeredRun(BaseModel):
    """A flow run created from a deployment, and (after waiting) how it ended."""

    flow_run_id: str
    flow_run_name: str
    deployment: str
    parameters: dict[str, Any]
    state: str
    state_message: str | None = None
    ui_url: str | None = None


class PipelineOutputs(BaseModel):
    """What a pipeline's flow run left in tracking: its runs and registered versions."""

    run_ids: list[str] = []
    flow_tracking_run_id: str | None = None
    model_versions: list[dict[str, str]] = []


def parse_param(item: str) -> tuple[list[str], Any]:
    """``a.b=v`` -> (["a", "b"], v); ``v`` is read as JSON when it parses, else as a string."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise InvalidParameter(f"--param {item!r} must look like key=value (key may be a.b.c)")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return [part for part in key.strip().split(".")], value


def merge_params(base: Mapping[str, Any], items: Iterable[str]) -> dict[str, Any]:
    """``base`` (the deployment's parameters) with each ``key.path=value`` applied, merging
    into nested mappings so that ``estimator.params.C=0.5`` keeps the estimator's other fields.
    """
    merged: dict[str, Any] = json.loads(json.dumps(dict(base), default=str))
    for item in items:
        path, value = parse_param(item)
        node = merged
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[path[-1]] = value
    return merged


def trigger_deployment(
    name: str,
    params: Iterable[str] = (),
    *,
    tags: Iterable[str] = (),
    flow_run_name: str | None = None,
) -> TriggeredRun:
    """Create a flow run of the deployment ``flow-name/deployment-name`` at ``PREFECT_API_URL``.

    Raises:
        NotFound: no such deployment.
        InvalidParameter: a malformed ``--param``, or parameters the server refuses.
    """
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    if "/" not in name:
        raise InvalidParameter(f"Deployment {name!r} must be named 'flow-name/deployment-name'")
    with get_client(sync_client=True) as client:
        try:
            deployment = client.read_deployment_by_name(name)
        except ObjectNotFound as exc:
            raise NotFound(f"No deployment {name!r} at the Prefect API") from exc
        parameters = merge_params(deployment.parameters or {}, params)
        try:
            run = client.create_flow_run_from_deployment(
                deployment.id, parameters=parameters, tags=list(tags), name=flow_run_name
            )
        except Exception as exc:  # the server's 4xx on parameters it refuses
            raise InvalidParameter(f"Prefect refused the flow run of {name}: {exc}") from exc
    return TriggeredRun(
        flow_run_id=str(run.id),
        flow_run_name=run.name,
        deployment=name,
        parameters=parameters,
        state=run.state.type.value if run.state else "SCHEDULED",
        ui_url=_ui_url(str(run.id)),
    )


def _ui_url(flow_run_id: str) -> str | None:
    from prefect.settings import PREFECT_UI_URL

    base = PREFECT_UI_URL.value()
    return f"{base.rstrip('/')}/runs/flow-run/{flow_run_id}" if base else None


def wait_for_flow_run(
    run: TriggeredRun,
    *,
    timeout: float = 3600,
    poll: float = 2,
    on_state: Callable[[str], None] | None = None,
) -> TriggeredRun:
    """Poll the flow run until it is Completed, Failed, Crashed or Cancelled.

    Raises:
        TimeoutError: it did not finish within ``timeout`` seconds.
    """
    from prefect import get_client

    deadline = time.monotonic() + timeout
    last = None
    with get_client(sync_client=True) as client:
        while True:
            flow_run = client.read_flow_run(UUID(run.flow_run_id))
            state = flow_run.state
            name = state.type.value if state else "PENDING"
            if name != last and on_state is not None:
                on_state(str(state.name) if state else name)
            last = name
            if name in FINAL_STATES:
                return run.model_copy(
                    update={"state": name, "state_message": state.message if state else None}
                )
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"Flow run {run.flow_run_id} was still {name} after {timeout:g} s"
                )
            time.sleep(poll)


def find_outputs(flow_run_id: str, tracking_uri: str | None = None) -> PipelineOutputs:
    """The tracking runs and model versions tagged with ``flow_run_id``."""
    from mlflowx.registry.client import RegistryClient
    from mlflowx.tracking import MlflowxClient

    client = MlflowxClient(tracking_uri)
    quoted = flow_run_id.replace("'", "")
    experiment_ids = [e.experiment_id for e in client.search_experiments()]
    runs = (
        client.search_runs(experiment_ids, filter_string=f"tags.`{FLOW_RUN_ID_TAG}` = '{quoted}'")
        if experiment_ids
        else []
    )
    top = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    versions: list[Any]
    try:
        versions = list(
            RegistryClient(tracking_uri).search_model_versions(
                f"tags.`{FLOW_RUN_ID_TAG}` = '{quoted}'"
            )
        )
    except NotFound:
        versions = []
    return PipelineOutputs(
        run_ids=[r.info.run_id for r in runs],
        flow_tracking_run_id=top[0].info.run_id if top else None,
        model_versions=[
            {
                "name": v.name,
                "version": str(v.version),
                "run_id": v.run_id or "",
                "aliases": ",".join(v.aliases),
            }
            for v in versions
        ],
    )
