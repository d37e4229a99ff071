"""End the tracking runs of Prefect runs that ended without telling them.

A tracked flow ends its run from Prefect's final-state hooks. When the process running the flow
dies (SIGKILL, out of memory, a lost machine) and no worker watches it, no hook runs: Prefect
marks the flow run Crashed later (when its heartbeats stop, by the server's zombie automation,
or by hand), and the tracking run, with its task child runs, would stay RUNNING for good.

:func:`reconcile_runs` closes that gap. It finds RUNNING tracking runs that carry a Prefect flow
run id (``mlflowx.prefect.flow_run_id``), reads that flow run (and, for a task's child run, the
task run) from the Prefect API, and ends the runs whose Prefect run has reached a final state the
way the hooks would have: Completed -> FINISHED, Failed/Crashed -> FAILED, Cancelled -> KILLED,
with the state's name and message as tags and its time as the end time. A task run that is not
final inside a flow run that is ends with the flow run's state. Run it by hand
(``mlflowx pipelines reconcile``) or on a schedule (``flows/reconcile.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from mlflowx.entities import Run, RunStatus, RunTag, ViewType
from mlflowx.orchestration import _context as oc
from mlflowx.tracking.client import MlflowxClient
from mlflowx.utils.validation import MAX_TAG_VAL_LENGTH

__all__ = ["RECONCILED_TAG", "Reconciled", "reconcile_runs"]

logger = logging.getLogger("mlflowx.orchestration")

#: Set on a run that reconciliation ended: when (ISO 8601, UTC).
RECONCILED_TAG = oc.TAG_PREFIX + "reconciled"


_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Reconciled:
    """One tracking run that reconciliation ended (or, on a dry run, would end)."""

    run_id: str
    run_name: str
    experiment_id: str
    flow_run_id: str
    task_run_id: str | None
    state: str  # the Prefect state that decided it, e.g. "Crashed"
    status: str  # the run status it was given, e.g. "FAILED"
    end_time: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _running_runs(client: MlflowxClient, experiment_ids: Sequence[str]) -> Iterator[Run]:
    where = f"attributes.status = 'RUNNING' AND tags.`{oc.FLOW_RUN_ID_TAG}` IS NOT NULL"
    token: str | None = None
    while True:
        page = client.search_runs(
            list(experiment_ids), where, ViewType.ACTIVE_ONLY, _PAGE, page_token=token
        )
        yield from page
        token = page.token
        if not token:
            return


def _all_experiment_ids(client: MlflowxClient) -> list[str]:
    ids: list[str] = []
    token: str | None = None
    while True:
        page = client.search_experiments(max_results=_PAGE, page_token=token)
        ids.extend(e.experiment_id for e in page)
        token = page.token
        if not token:
            return ids


class _PrefectStates:
    """Final states of Prefect flow and task runs, each read once; ``None`` while not final
    (or when the Prefect API does not know the run)."""

    def __init__(self, prefect_client: Any) -> None:
        self._client = prefect_client
        self._cache: dict[tuple[str, str], Any] = {}

    def final(self, kind: str, run_id: str) -> Any:
        key = (kind, run_id)
        if key not in self._cache:
            self._cache[key] = self._read(kind, run_id)
        return self._cache[key]

    def _read(self, kind: str, run_id: str) -> Any:
        from prefect.exceptions import ObjectNotFound

        try:
            uuid = UUID(run_id)
        except ValueError:
            logger.warning("mlflowx: %s run id %r is not a UUID; skipped", kind, run_id)
            return None
        read = self._client.read_flow_run if kind == "flow" else self._client.read_task_run
        try:
            state = read(uuid).state
        except ObjectNotFound:
            logger.warning("mlflowx: Prefect has no %s run %s; its run is left as is", kind, uuid)
            return None
        if state is None or state.type.value not in oc.FINAL_STATES:
            return None
        return state


def _ms(timestamp: Any) -> int:
    if isinstance(timestamp, datetime):
        when = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)
        return int(when.timestamp() * 1000)
    return int(datetime.now(UTC).timestamp() * 1000)


def reconcile_runs(
    tracking_uri: str | None = None,
    experiment_ids: Sequence[str] | None = None,
    *,
    grace_seconds: float = 60.0,
    dry_run: bool = False,
    prefect_client: Any = None,
) -> list[Reconciled]:
    """End the RUNNING tracking runs whose Prefect flow or task run has ended (see the module).

    Args:
        tracking_uri: the tracking store (default: the current tracking URI).
        experiment_ids: where to look (default: every active experiment).
        grace_seconds: leave runs whose Prefect run ended less than this long ago: its hooks
            (which log the flow's results) may still be running.
        dry_run: report what would be ended, change nothing.
        prefect_client: a synchronous Prefect client (default: one for ``PREFECT_API_URL``).
    """
    client = MlflowxClient(tracking_uri)
    ids = list(experiment_ids) if experiment_ids is not None else _all_experiment_ids(client)
    if not ids:
        return []
    if prefect_client is None:
        from prefect import get_client

        with get_client(sync_client=True) as owned:
            return _reconcile(client, ids, _PrefectStates(owned), grace_seconds, dry_run)
    return _reconcile(client, ids, _PrefectStates(prefect_client), grace_seconds, dry_run)


def _reconcile(
    client: MlflowxClient,
    experiment_ids: list[str],
    states: _PrefectStates,
    grace_seconds: float,
    dry_run: bool,
) -> list[Reconciled]:
    now = datetime.now(UTC).timestamp() * 1000
    done: list[Reconciled] = []
    # Listed in full first: ending runs while paging through "status = RUNNING" would shift
    # the pages under the search and skip runs.
    for run in list(_running_runs(client, experiment_ids)):
        tags = run.data.tags
        flow_run_id = tags[oc.FLOW_RUN_ID_TAG]
        flow_state = states.final("flow", flow_run_id)
        if flow_state is None:
            continue
        if now - _ms(flow_state.timestamp) < grace_seconds * 1000:
            continue
        task_run_id = tags.get(oc.TASK_RUN_ID_TAG)
        state = (states.final("task", task_run_id) if task_run_id else None) or flow_state
        end_time = _ms(state.timestamp)
        status = oc.STATUS_BY_STATE[state.type.value]
        item = Reconciled(
            run_id=run.info.run_id,
            run_name=run.info.run_name or "",
            experiment_id=run.info.experiment_id,
            flow_run_id=flow_run_id,
            task_run_id=task_run_id,
            state=str(state.name),
            status=status.value,
            end_time=end_time,
        )
        if not dry_run:
            new_tags = [
                RunTag(oc.STATE_TAG, str(state.name)),
                RunTag(RECONCILED_TAG, datetime.now(UTC).isoformat(timespec="seconds")),
            ]
            if state.message and status is not RunStatus.FINISHED:
                new_tags.append(RunTag(oc.STATE_MESSAGE_TAG, state.message[:MAX_TAG_VAL_LENGTH]))
            client.store.finish_run(run.info.run_id, status, end_time, tags=new_tags)
            logger.info(
                "mlflowx: run %s ended %s (Prefect %s run %s is %s)",
                item.run_id,
                item.status,
                "task" if task_run_id else "flow",
                task_run_id or flow_run_id,
                item.state,
            )
        done.append(item)
    return done
