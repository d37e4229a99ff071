"""``@mlflowx.task``: a Prefect task that logs into the enclosing tracked run."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar, cast, overload

from prefect import Task
from prefect.context import FlowRunContext, TaskRunContext

from mlflowx.entities import Metric, Param, Run, RunStatus, RunTag, now_ms
from mlflowx.exceptions import InvalidParameter
from mlflowx.orchestration import _context as oc
from mlflowx.orchestration._context import (
    Tracking,
    activate,
    client_for,
    flow_run_tags,
)
from mlflowx.orchestration._flatten import flatten_results
from mlflowx.orchestration.tracked._runs import (
    error_text,
    experiment_id_for,
    find_run,
    log_batch,
    log_results_of,
    split_params,
)
from mlflowx.orchestration.tracked._wrapping import bound_arguments, copy_signature
from mlflowx.store.uris import context_tracking_uri, get_tracking_uri, normalize_uri
from mlflowx.tracking import _context as fluent_ctx
from mlflowx.tracking.client import MlflowxClient
from mlflowx.tracking.fluent import PARENT_RUN_TAG, ActiveRun
from mlflowx.utils.validation import MAX_PARAMS_TAGS_PER_BATCH

__all__ = ["child_run", "task"]
P = ParamSpec("P")
R = TypeVar("R")

#: Prefect task run id -> tracking run id of tracked task runs that failed and may be retried.
_RETRYING_TASK_RUNS: dict[str, str] = {}


def _task_run_tags(task_run: Any) -> dict[str, str]:
    """The ``mlflowx.prefect.*`` tags naming a Prefect task run (empty outside one)."""
    if task_run is None:
        return {}
    tags = {
        oc.TASK_RUN_ID_TAG: str(task_run.id),
        oc.TASK_RUN_NAME_TAG: str(task_run.name),
        oc.ATTEMPT_TAG: str(task_run.run_count),
    }
    if task_run.flow_run_id is not None:
        tags[oc.FLOW_RUN_ID_TAG] = str(task_run.flow_run_id)
    return tags


def _parent() -> tuple[Tracking | None, Run | None]:
    """The run a task run belongs to: this context's, else its tracked flow run's."""
    stack = fluent_ctx.active_runs.get()
    if stack:
        info = stack[-1].info
        uri = context_tracking_uri.get() or get_tracking_uri()
        return Tracking(uri, info.run_id, info.experiment_id), stack[-1]
    return oc.flow_tracking(FlowRunContext.get()), None


class _TaskRun:
    """The child run of one tracked task run attempt."""

    __slots__ = ("client", "fresh", "params", "task_run_key", "tracking")

    def __init__(self, name: str, values: dict[str, Any], log_params: bool) -> None:
        parent, _ = _parent()
        uri = parent.uri if parent is not None else get_tracking_uri()
        client = self.client = client_for(uri)
        store = client.store
        context = TaskRunContext.get()
        task_run = context.task_run if context is not None else None
        attempt = task_run.run_count if task_run is not None else 1
        self.task_run_key = str(task_run.id) if task_run is not None else None
        eid = parent.experiment_id if parent is not None else _default_experiment(client)
        run_id = None
        if attempt > 1 and self.task_run_key is not None:
            run_id = _RETRYING_TASK_RUNS.pop(self.task_run_key, None) or find_run(
                client, eid, oc.TASK_RUN_ID_TAG, self.task_run_key
            )
        self.fresh = run_id is None
        if run_id is not None:  # a retry: same run, one more attempt
            store.log_batch(run_id, [], [], [RunTag(oc.ATTEMPT_TAG, str(attempt))])
            store.update_run_info(run_id, RunStatus.RUNNING, None)
        else:
            tags = oc.process_source_tags()
            if parent is not None:
                tags[PARENT_RUN_TAG] = parent.run_id
            tags.update(_task_run_tags(task_run))
            tags[oc.TASK_NAME_TAG] = name
            run = store.create_run(
                eid,
                tags.get("mlflow.user"),
                None,
                [RunTag(k, v) for k, v in tags.items()],
                task_run.name if task_run is not None else name,
            )
            run_id = run.info.run_id
        self.tracking = Tracking(uri, run_id, eid)
        self.params = values if (self.fresh and log_params) else None

    def _end(self, status: RunStatus, metrics: list[Metric], tags: list[RunTag]) -> None:
        params: list[Param] = []
        if self.params:
            params, extra = split_params(self.params)
            tags.extend(extra)
        run_id, store = self.tracking.run_id, self.client.store
        if len(params) + len(tags) <= MAX_PARAMS_TAGS_PER_BATCH and len(metrics) <= 1000:
            store.finish_run(run_id, status, now_ms(), metrics, params, tags)  # one write
        else:
            log_batch(self.client, run_id, metrics, params, tags)
            store.update_run_info(run_id, status, now_ms())

    def succeeded(self, value: Any, log_results: bool) -> None:
        metrics: list[Metric] = []
        tags: list[RunTag] = []
        if log_results:
            results = flatten_results(value)
            if results.models or results.model_infos:
                log_results_of(self.client, self.tracking, None, value)
            else:
                t = now_ms()
                metrics = [Metric(k, v, t, 0) for k, v in results.metrics.items()]
                tags = [RunTag(k, v) for k, v in results.tags.items()]
        self._end(RunStatus.FINISHED, metrics, tags)

    def failed(self, exc: BaseException) -> None:
        context = TaskRunContext.get()
        attempt = context.task_run.run_count if context is not None else 1
        text = error_text(exc)
        tags = [RunTag(oc.ERROR_TAG, text), RunTag(f"{oc.TAG_PREFIX}attempt.{attempt}.error", text)]
        if context is not None and self.task_run_key is not None:
            retries = context.task.retries or 0
            if attempt <= retries:  # Prefect may run it again: the next attempt reuses this run
                _RETRYING_TASK_RUNS[self.task_run_key] = self.tracking.run_id
        self._end(RunStatus.FAILED, [], tags)


@contextmanager
def child_run(
    run_name: str,
    *,
    parent_run_id: str | None = None,
    experiment: str | None = None,
    tracking_uri: str | None = None,
    tags: Mapping[str, Any] | None = None,
) -> Iterator[ActiveRun]:
    """A tracking run for one piece of work inside a task, active in this context while the
    block runs, ended FINISHED (FAILED on an exception, KILLED on Ctrl-C) when it exits.

    It is a child of ``parent_run_id`` when given (a task sent to another process, where the
    enclosing run does not travel), else of the run active in this context or of the enclosing
    tracked flow run, else a top-level run in ``experiment`` (else the default experiment).
    ``tracking_uri`` goes with ``parent_run_id``: where that run lives. Tagged like a tracked
    task's run: Prefect flow-run lineage, and the task run when inside one.
    """
    if parent_run_id is not None:
        uri = normalize_uri(tracking_uri) if tracking_uri else get_tracking_uri()
        parent_eid = client_for(uri).get_run(parent_run_id).info.experiment_id
        parent: Tracking | None = Tracking(uri, parent_run_id, parent_eid)
    else:
        parent, _ = _parent()
        if parent is not None:
            uri = parent.uri
        else:
            uri = normalize_uri(tracking_uri) if tracking_uri else get_tracking_uri()
    client = client_for(uri)
    context = TaskRunContext.get()
    all_tags = {
        **oc.process_source_tags(),
        **flow_run_tags(),
        **_task_run_tags(context.task_run if context is not None else None),
        **{str(k): str(v) for k, v in (tags or {}).items() if v is not None},
    }
    if parent is not None:
        all_tags[PARENT_RUN_TAG] = parent.run_id
        eid = parent.experiment_id
    else:
        eid = experiment_id_for(client, experiment) if experiment else _default_experiment(client)
    run = client.create_run(eid, tags=all_tags, run_name=run_name)
    status = RunStatus.FAILED
    try:
        with activate(Tracking(uri, run.info.run_id, eid), run):
            yield ActiveRun(run)
        status = RunStatus.FINISHED
    except KeyboardInterrupt:
        status = RunStatus.KILLED
        raise
    finally:
        client.set_terminated(run.info.run_id, status.value)


def _default_experiment(client: MlflowxClient) -> str:
    chosen = fluent_ctx.active_experiment_id.get()
    env_id, env_name = fluent_ctx.env_experiment()
    if chosen or env_id:
        return cast(str, chosen or env_id)
    return experiment_id_for(client, env_name) if env_name else "0"


def _wrap_task_fn(fn: Callable[..., Any], name: str, track: bool, log_results: bool) -> Any:
    signature = inspect.signature(fn)
    is_async = inspect.iscoroutinefunction(fn)

    if not track:
        # Untracked: only put the flow's run back in context where it was lost (another process).
        def reactivate() -> Tracking | None:
            if fluent_ctx.active_runs.get():
                return None
            return oc.flow_tracking(FlowRunContext.get())

        if is_async:

            @functools.wraps(fn)
            async def async_plain(*args: Any, **kwargs: Any) -> Any:
                tracking = reactivate()
                if tracking is None:
                    return await fn(*args, **kwargs)
                with activate(tracking):
                    return await fn(*args, **kwargs)

            return async_plain

        @functools.wraps(fn)
        def plain(*args: Any, **kwargs: Any) -> Any:
            tracking = reactivate()
            if tracking is None:
                return fn(*args, **kwargs)
            with activate(tracking):
                return fn(*args, **kwargs)

        return plain

    def start(args: Any, kwargs: Any) -> _TaskRun:
        return _TaskRun(name, bound_arguments(signature, args, kwargs), True)

    if is_async:

        @functools.wraps(fn)
        async def async_tracked(*args: Any, **kwargs: Any) -> Any:
            run = start(args, kwargs)
            with activate(run.tracking):
                try:
                    value = await fn(*args, **kwargs)
                except BaseException as exc:
                    run.failed(exc)
                    raise
                run.succeeded(value, log_results)
            return value

        return async_tracked

    @functools.wraps(fn)
    def tracked(*args: Any, **kwargs: Any) -> Any:
        run = start(args, kwargs)
        with activate(run.tracking):
            try:
                value = fn(*args, **kwargs)
            except BaseException as exc:
                run.failed(exc)
                raise
            run.succeeded(value, log_results)
        return value

    return tracked


@overload
def task(fn: Callable[P, R], /) -> Task[P, R]: ...


@overload
def task(
    fn: None = None,
    /,
    *,
    track: bool = False,
    log_results: bool = True,
    **prefect_task_kwargs: Any,
) -> Callable[[Callable[P, R]], Task[P, R]]: ...


def task(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    track: bool = False,
    log_results: bool = True,
    **prefect_task_kwargs: Any,
) -> Task[Any, Any] | Callable[[Callable[P, R]], Task[P, R]]:
    """A Prefect task that logs into the enclosing tracked run, wherever Prefect runs it.

    With ``track=True`` each task run is a child run of the enclosing run (the tracked flow's, or
    a tracked parent task's): parameters as params, return value as metrics and tags
    (``log_results``), the Prefect task run id as the ``mlflowx.prefect.task_run_id`` tag. A
    retried task run reuses its run; each attempt's error is kept as a tag. Without ``track``,
    ``mlflowx.log_metric`` inside the task still lands in the flow's run, also in other processes.
    The other keywords go to :class:`prefect.Task`.
    """
    if fn is None:
        return functools.partial(  # type: ignore[return-value]
            task, track=track, log_results=log_results, **prefect_task_kwargs
        )
    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        raise InvalidParameter(
            f"Task function {fn.__name__!r} is a generator; tracked tasks must return a value"
        )
    name = prefect_task_kwargs.get("name") or fn.__name__
    wrapper = _wrap_task_fn(fn, name, track, log_results)
    copy_signature(fn, wrapper)
    # Prefect keys tasks and their cache by this function's code, not the wrapper's.
    wrapper.__prefect_task_source__ = fn
    return Task(fn=wrapper, **prefect_task_kwargs)
