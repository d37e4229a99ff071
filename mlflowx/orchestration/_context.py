"""Where a tracked Prefect run finds its tracking run: context variables, then the flow run.

Inside one process the active run travels in the fluent API's context variables
(:mod:`mlflowx.tracking._context`), which Prefect copies into the threads that run ``.submit``
and ``.map`` tasks. Other processes (a Dask worker, say) do not share them, but Prefect ships the
``Flow`` object with every task it sends there; a tracked flow keeps a reference to
:data:`ACTIVE_FLOW_RUNS`, so the copy that arrives in the worker carries the tracking URI,
experiment and run id of every flow run active in the sending process at that moment.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from mlflowx.entities import Run, RunInfo, RunStatus
from mlflowx.store.uris import context_tracking_uri, get_tracking_uri
from mlflowx.tracking import _context as fluent_ctx
from mlflowx.tracking._source import source_tags
from mlflowx.tracking.client import MlflowxClient
from mlflowx.tracking.fluent import ActiveRun

__all__ = [
    "ACTIVE_FLOW_RUNS",
    "TAG_PREFIX",
    "Tracking",
    "activate",
    "client_for",
    "current_tracking",
    "flow_run_tags",
    "prefect_flow_run_tags",
    "process_source_tags",
]

TAG_PREFIX = "mlflowx.prefect."
FLOW_RUN_ID_TAG = TAG_PREFIX + "flow_run_id"
FLOW_NAME_TAG = TAG_PREFIX + "flow_name"
FLOW_RUN_NAME_TAG = TAG_PREFIX + "flow_run_name"
DEPLOYMENT_ID_TAG = TAG_PREFIX + "deployment_id"
DEPLOYMENT_NAME_TAG = TAG_PREFIX + "deployment_name"
WORK_POOL_TAG = TAG_PREFIX + "work_pool"
WORK_QUEUE_TAG = TAG_PREFIX + "work_queue"
FLOW_RUN_URL_TAG = TAG_PREFIX + "flow_run_url"
TASK_RUN_ID_TAG = TAG_PREFIX + "task_run_id"
TASK_NAME_TAG = TAG_PREFIX + "task_name"
TASK_RUN_NAME_TAG = TAG_PREFIX + "task_run_name"
ATTEMPT_TAG = TAG_PREFIX + "attempt"
STATE_TAG = TAG_PREFIX + "state"
STATE_MESSAGE_TAG = TAG_PREFIX + "state_message"
ERROR_TAG = TAG_PREFIX + "error"

#: Prefect state types that end a run, and the run status each ends a tracking run with.
STATUS_BY_STATE = {
    "COMPLETED": RunStatus.FINISHED,
    "FAILED": RunStatus.FAILED,
    "CRASHED": RunStatus.FAILED,
    "CANCELLING": RunStatus.KILLED,
    "CANCELLED": RunStatus.KILLED,
}
#: Prefect's final state types (CANCELLING is on its way there).
FINAL_STATES = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})


@dataclass(frozen=True, slots=True)
class Tracking:
    """A tracking run as it travels between processes: where it is and which one it is."""

    uri: str
    run_id: str
    experiment_id: str


class _ActiveFlowRuns(dict[str, Tracking]):
    """Pickles as a plain-dict snapshot taken in one step: Dask pickles the flow (and this) in
    its own thread while flow runs of this process may start or end."""

    def __reduce__(self) -> tuple[type[dict[str, Tracking]], tuple[dict[str, Tracking]]]:
        return dict, (dict(self),)


#: Prefect flow run id -> the tracking run of that flow run, for flow runs active in this process.
ACTIVE_FLOW_RUNS: dict[str, Tracking] = _ActiveFlowRuns()

_clients: dict[str, MlflowxClient] = {}
_clients_lock = threading.Lock()
_source_tags: dict[str, str] | None = None


def client_for(uri: str) -> MlflowxClient:
    """One client per tracking URI in this process (the fluent API's, so they share caches)."""
    client = _clients.get(uri)
    if client is None:
        with _clients_lock:
            client = _clients.setdefault(uri, MlflowxClient(uri))
    return client


def process_source_tags() -> dict[str, str]:
    """MLflow's system tags (user, source, git commit), computed once per process."""
    global _source_tags
    if _source_tags is None:
        _source_tags = source_tags()
    return dict(_source_tags)


def _run_stub(tracking: Tracking) -> ActiveRun:
    """An active-run entry for a run made elsewhere: the fluent API only needs its ids."""
    return ActiveRun(Run(RunInfo(run_id=tracking.run_id, experiment_id=tracking.experiment_id)))


@contextmanager
def activate(tracking: Tracking, run: Run | None = None) -> Iterator[None]:
    """Make ``run`` (or the run ``tracking`` names) the active run of this context, with its
    tracking URI and experiment, so fluent calls (``mlflowx.log_metric``) land in it."""
    entry = ActiveRun(run) if run is not None else _run_stub(tracking)
    uri_token = context_tracking_uri.set(tracking.uri)
    runs_token = fluent_ctx.active_runs.set((*fluent_ctx.active_runs.get(), entry))
    exp_token = fluent_ctx.active_experiment_id.set(tracking.experiment_id)
    try:
        yield
    finally:
        fluent_ctx.active_experiment_id.reset(exp_token)
        fluent_ctx.active_runs.reset(runs_token)
        context_tracking_uri.reset(uri_token)


def _prefect_flow_run_context() -> Any:
    from prefect.context import FlowRunContext

    return FlowRunContext.get()


def flow_tracking(flow_run_context: Any) -> Tracking | None:
    """The tracking run of the flow run in ``flow_run_context``, from this process or from the
    snapshot the flow object carried to this process."""
    if flow_run_context is None or flow_run_context.flow_run is None:
        return None
    key = str(flow_run_context.flow_run.id)
    found = ACTIVE_FLOW_RUNS.get(key)
    if found is None:
        carried = getattr(flow_run_context.flow, "_mlflowx_active", None)
        if isinstance(carried, Mapping):
            found = carried.get(key)
    return found


def current_tracking() -> Tracking | None:
    """The active tracking run: this context's, else the enclosing tracked flow run's."""
    stack = fluent_ctx.active_runs.get()
    if stack:
        info = stack[-1].info
        return Tracking(get_tracking_uri(), info.run_id, info.experiment_id)
    return flow_tracking(_prefect_flow_run_context())


def _ui_url(flow_run_id: str) -> str | None:
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL

    ui = PREFECT_UI_URL.value()
    if not ui:
        api = PREFECT_API_URL.value()
        if not api:
            return None
        ui = api[: -len("/api")] if api.rstrip("/").endswith("/api") else api
    return f"{ui.rstrip('/')}/runs/flow-run/{flow_run_id}"


def _deployment_name(deployment_id: Any) -> str | None:
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            return str(client.read_deployment(deployment_id).name)
    except Exception:  # lineage is best effort: never fail a flow run over a name
        return None


def prefect_flow_run_tags(flow_run: Any, flow_name: str | None = None) -> dict[str, str]:
    """The ``mlflowx.prefect.*`` lineage tags of a Prefect flow run."""
    tags = {FLOW_RUN_ID_TAG: str(flow_run.id)}
    if flow_name:
        tags[FLOW_NAME_TAG] = flow_name
    if flow_run.name:
        tags[FLOW_RUN_NAME_TAG] = str(flow_run.name)
    if flow_run.deployment_id is not None:
        tags[DEPLOYMENT_ID_TAG] = str(flow_run.deployment_id)
        name = _deployment_name(flow_run.deployment_id)
        if name:
            tags[DEPLOYMENT_NAME_TAG] = name
    if getattr(flow_run, "work_pool_name", None):
        tags[WORK_POOL_TAG] = str(flow_run.work_pool_name)
    if getattr(flow_run, "work_queue_name", None):
        tags[WORK_QUEUE_TAG] = str(flow_run.work_queue_name)
    url = _ui_url(str(flow_run.id))
    if url:
        tags[FLOW_RUN_URL_TAG] = url
    return tags


def flow_run_tags() -> dict[str, str]:
    """Lineage tags for the current Prefect flow run (empty outside a flow run): its id, flow
    name, run name, deployment id and name, work pool and queue, and its link in the Prefect UI.

    Keys are ``mlflowx.prefect.*``, the same tags a tracked flow puts on its run; record them
    on a model version to trace it back to the flow run that made it.
    """
    context = _prefect_flow_run_context()
    if context is None or context.flow_run is None:
        return {}
    flow = getattr(context, "flow", None)
    return prefect_flow_run_tags(context.flow_run, getattr(flow, "name", None))
