"""Tracked Prefect flows and tasks: ``@mlflowx.flow`` and ``@mlflowx.task(track=True)``.

A tracked flow is a real :class:`prefect.Flow` whose function is wrapped: when a flow run starts
the wrapper opens a tracking run (parameters as params, Prefect lineage as ``mlflowx.prefect.*``
tags) and makes it the active run of the context; Prefect state hooks end it when the flow run
reaches its final state (Completed -> FINISHED, Failed/Crashed -> FAILED, Cancelled -> KILLED)
and log the return value (numbers as metrics, models as logged models). A tracked task is a real
:class:`prefect.Task` whose runs are child runs of the enclosing run, written with three store
calls (create, one batch, end) and no Prefect API call.
"""

from __future__ import annotations

import functools
import inspect
import logging
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast, overload

from prefect import Flow, Task
from prefect.context import FlowRunContext, TaskRunContext

from mlflowx.entities import Metric, ModelOutput, Param, Run, RunStatus, RunTag, now_ms
from mlflowx.exceptions import InvalidParameter, MlflowxError
from mlflowx.orchestration import _context as oc
from mlflowx.orchestration import lineage
from mlflowx.orchestration._context import (
    ACTIVE_FLOW_RUNS,
    Tracking,
    activate,
    client_for,
    current_tracking,
    flow_run_tags,
)
from mlflowx.orchestration._flatten import TRUNCATED_TAG, Results, flatten_params, flatten_results
from mlflowx.tracking import _context as fluent_ctx
from mlflowx.tracking._uri import _normalize, context_tracking_uri, get_tracking_uri
from mlflowx.tracking.client import MlflowxClient
from mlflowx.tracking.fluent import PARENT_RUN_TAG
from mlflowx.utils.validation import MAX_PARAMS_TAGS_PER_BATCH, MAX_TAG_VAL_LENGTH

__all__ = ["TrackedFlow", "current_run_id", "flow", "flow_run_tags", "task"]

logger = logging.getLogger("mlflowx.orchestration")

F = TypeVar("F", bound=Callable[..., Any])

#: Prefect task run id -> tracking run id of tracked task runs that failed and may be retried.
_RETRYING_TASK_RUNS: dict[str, str] = {}
#: (tracking URI, experiment name) -> experiment id.
_EXPERIMENTS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True, slots=True)
class FlowConfig:
    """What ``@mlflowx.flow`` was given, kept on the flow (and on its ``with_options`` copies)."""

    experiment: str | None = None
    run_name: str | None = None
    tracking_uri: str | None = None
    log_results: bool = True

    def resolve_uri(self) -> str:
        return _normalize(self.tracking_uri) if self.tracking_uri else get_tracking_uri()


# ---------------------------------------------------------------------------- public helpers
def current_run_id() -> str | None:
    """The id of the active tracking run: the innermost tracked task or flow run (or a run
    started with ``mlflowx.start_run``) of this context; ``None`` outside any."""
    tracking = current_tracking()
    return tracking.run_id if tracking is not None else None


# ---------------------------------------------------------------------------- store helpers
def _log_batch(
    client: MlflowxClient,
    run_id: str,
    metrics: Sequence[Metric] = (),
    params: Sequence[Param] = (),
    tags: Sequence[RunTag] = (),
) -> None:
    """One ``log_batch`` call, or a few when there are more params and tags than one allows."""
    store = client.store
    if len(params) + len(tags) <= MAX_PARAMS_TAGS_PER_BATCH and len(metrics) <= 1000:
        store.log_batch(run_id, list(metrics), list(params), list(tags))
        return
    items: list[Param | RunTag] = [*params, *tags]
    for start in range(0, max(len(items), 1), MAX_PARAMS_TAGS_PER_BATCH):
        chunk = items[start : start + MAX_PARAMS_TAGS_PER_BATCH]
        store.log_batch(
            run_id,
            list(metrics[start // MAX_PARAMS_TAGS_PER_BATCH * 1000 :][:1000]) if start == 0 else [],
            [p for p in chunk if isinstance(p, Param)],
            [t for t in chunk if isinstance(t, RunTag)],
        )
    for start in range(1000, len(metrics), 1000):
        store.log_batch(run_id, list(metrics[start : start + 1000]), [], [])


def _params(values: Mapping[str, Any]) -> tuple[list[Param], list[RunTag]]:
    flat, truncated = flatten_params(values)
    tags = [RunTag(TRUNCATED_TAG, ",".join(truncated))] if truncated else []
    return [Param(k, v) for k, v in flat.items()], tags


def _experiment_id(client: MlflowxClient, name: str) -> str:
    key = (client.tracking_uri, name)
    found = _EXPERIMENTS.get(key)
    if found is None:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            try:
                found = client.create_experiment(name)
            except MlflowxError:  # created by another process in between
                experiment = client.get_experiment_by_name(name)
                if experiment is None:
                    raise
                found = experiment.experiment_id
        else:
            found = experiment.experiment_id
        _EXPERIMENTS[key] = found
    return found


def _find_run(client: MlflowxClient, experiment_id: str | None, tag: str, value: str) -> str | None:
    """A run by one of its ``mlflowx.prefect.*`` tags (a retried or crashed Prefect run)."""
    if experiment_id is None:
        ids = [e.experiment_id for e in client.search_experiments(max_results=1000)]
    else:
        ids = [experiment_id]
    if not ids:
        return None
    found = client.search_runs(ids, f"tags.`{tag}` = '{value}'", max_results=1)
    return found[0].info.run_id if found else None


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_TAG_VAL_LENGTH]


def _log_results(client: MlflowxClient, tracking: Tracking, run: Run | None, value: Any) -> None:
    """Metrics and tags from a return value, models logged or linked (see ``_flatten``)."""
    results: Results = flatten_results(value)
    if not results:
        return
    t = now_ms()
    tags = dict(results.tags)
    if results.models or results.model_infos:
        with activate(tracking, run):
            for key, model in results.models.items():
                from mlflowx.sklearn import log_model

                info = log_model(model, name=key.replace("/", "_"))
                tags[key] = info.model_uri
        for key, info in results.model_infos.items():
            tags[key] = str(info.model_uri)
            model_id = getattr(info, "model_id", None)
            if model_id and getattr(info, "run_id", None) != tracking.run_id:
                client.log_outputs(tracking.run_id, [ModelOutput(str(model_id))])
    _log_batch(
        client,
        tracking.run_id,
        metrics=[Metric(k, v, t, 0) for k, v in results.metrics.items()],
        tags=[RunTag(k, v) for k, v in tags.items()],
    )


def _copy_signature(fn: Callable[..., Any], wrapper: Callable[..., Any]) -> None:
    """Give ``wrapper`` the signature of ``fn`` with its annotations resolved: Prefect resolves
    string annotations (``from __future__ import annotations``) in the *wrapper's* module."""
    signature = inspect.signature(fn)
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception:  # names only the caller's frame knows: leave them as they are
        hints = {}
    if hints:
        signature = signature.replace(
            parameters=[
                p.replace(annotation=hints.get(p.name, p.annotation))
                for p in signature.parameters.values()
            ],
            return_annotation=hints.get("return", signature.return_annotation),
        )
        wrapper.__annotations__ = {**getattr(fn, "__annotations__", {}), **hints}
    wrapper.__signature__ = signature  # type: ignore[attr-defined]


def _bound_arguments(signature: inspect.Signature, args: Any, kwargs: Any) -> dict[str, Any]:
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return {}
    bound.apply_defaults()
    values: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            values.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            values[name] = list(value)
        else:
            values[name] = value
    return values


# ---------------------------------------------------------------------------- flows
class _FlowRun:
    """The tracking side of one flow run (or one direct call of a tracked flow's function)."""

    def __init__(
        self,
        config: FlowConfig,
        flow_name: str,
        values: dict[str, Any],
        context: FlowRunContext | None,
    ) -> None:
        self.config = config
        self.engine = context is not None
        uri = config.resolve_uri()
        client = self.client = client_for(uri)
        stack = fluent_ctx.active_runs.get()
        parent = stack[-1] if stack else None
        flow_run = context.flow_run if context is not None else None
        key = str(flow_run.id) if flow_run is not None else None

        if config.experiment:
            eid = _experiment_id(client, config.experiment)
        elif parent is not None:
            eid = parent.info.experiment_id
        else:
            chosen = fluent_ctx.active_experiment_id.get()
            env_id, env_name = fluent_ctx.env_experiment()
            eid = chosen or env_id or _experiment_id(client, env_name or flow_name)

        existing = ACTIVE_FLOW_RUNS.get(key) if key else None
        run_id = existing.run_id if existing else None
        if run_id is None and flow_run is not None and flow_run.run_count > 1:
            run_id = _find_run(client, eid, oc.FLOW_RUN_ID_TAG, str(flow_run.id))
        attempt = str(flow_run.run_count) if flow_run is not None else "1"
        if run_id is not None:  # a retry of this flow run: same tracking run
            _log_batch(client, run_id, tags=[RunTag(oc.ATTEMPT_TAG, attempt)])
            client.store.update_run_info(run_id, RunStatus.RUNNING, None)
            self.run: Run = client.get_run(run_id)
        else:
            tags = oc.process_source_tags()
            if flow_run is not None:
                tags.update(oc.prefect_flow_run_tags(flow_run, flow_name))
                tags[oc.ATTEMPT_TAG] = attempt
            if parent is not None:
                tags[PARENT_RUN_TAG] = parent.info.run_id
            name = config.run_name
            if name:
                try:
                    name = name.format(**values)
                except (KeyError, IndexError, ValueError, AttributeError):
                    pass
            elif flow_run is not None:
                name = flow_run.name
            self.run = client.create_run(eid, tags=tags, run_name=name or flow_name)
            params, extra = _params(values)
            if params or extra:
                _log_batch(client, self.run.info.run_id, params=params, tags=extra)
            if flow_run is not None:
                lineage.link_run(uri, self.run.info, str(flow_run.id))
        self.tracking = Tracking(uri, self.run.info.run_id, eid)
        if key is not None:
            ACTIVE_FLOW_RUNS[key] = self.tracking

    def finish_direct(self, value: Any = None, exc: BaseException | None = None) -> None:
        """End a run that no Prefect engine drives (the flow's function called directly)."""
        if exc is None:
            status = RunStatus.FINISHED
            if self.config.log_results:
                _log_results(self.client, self.tracking, self.run, value)
        else:
            status = RunStatus.KILLED if isinstance(exc, KeyboardInterrupt) else RunStatus.FAILED
            _log_batch(
                self.client, self.tracking.run_id, tags=[RunTag(oc.ERROR_TAG, _error_text(exc))]
            )
        self.client.set_terminated(self.tracking.run_id, status.value)


def _publish_summary(client: MlflowxClient, tracking: Tracking) -> None:
    """The flow run's Markdown summary of its finished tracking run."""
    try:
        run = client.get_run(tracking.run_id)
    except Exception:
        logger.warning("mlflowx: could not read run %s to summarise it", tracking.run_id)
        return
    flow_run_id = run.data.tags.get(oc.FLOW_RUN_ID_TAG)
    if not flow_run_id:
        return
    url = lineage.run_url(tracking.uri, run.info.experiment_id, run.info.run_id)
    markdown = lineage.run_summary_markdown(run, tracking.uri, url)
    lineage.publish(
        lineage.RUN_SUMMARY_KEY, markdown, "The tracking run, as it ended", flow_run_id=flow_run_id
    )


def _engine_context(wrapper: Callable[..., Any]) -> FlowRunContext | None:
    """The Prefect flow run context when the engine is running *this* function."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return None
    if getattr(context.flow, "fn", None) is not wrapper:
        return None
    return context


def _returned_cancelled(value: Any) -> bool:
    from prefect.client.schemas.objects import State

    return isinstance(value, State) and value.is_cancelled()


def _wrap_flow_fn(fn: Callable[..., Any], config: FlowConfig, flow_name: str) -> Callable[..., Any]:
    signature = inspect.signature(fn)

    def start(args: Any, kwargs: Any) -> _FlowRun:
        context = _engine_context(wrapper)
        name = context.flow.name if context and context.flow else flow_name  # with_options(name=)
        return _FlowRun(config, name, _bound_arguments(signature, args, kwargs), context)

    def returned(run: _FlowRun, value: Any) -> None:
        if not run.engine:
            run.finish_direct(value)
        elif _returned_cancelled(value):  # Prefect runs no hook for a returned Cancelled state
            _end_flow_run(run.tracking, "CANCELLED", "Cancelled", None, None, config)

    def raised(run: _FlowRun, exc: BaseException) -> None:
        if not run.engine:
            run.finish_direct(exc=exc)
            return
        # The state hook ends the run; keep this attempt's error (a flow may be retried).
        context = FlowRunContext.get()
        attempt = context.flow_run.run_count if context and context.flow_run else 1
        text = _error_text(exc)
        try:
            _log_batch(
                run.client,
                run.tracking.run_id,
                tags=[
                    RunTag(oc.ERROR_TAG, text),
                    RunTag(f"{oc.TAG_PREFIX}attempt.{attempt}.error", text),
                ],
            )
        except Exception:  # never hide the flow's own error behind a tracking one
            logger.exception("mlflowx: could not record the error of flow run attempt %s", attempt)

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            run = start(args, kwargs)
            with activate(run.tracking, run.run):
                try:
                    value = await fn(*args, **kwargs)
                except BaseException as exc:
                    raised(run, exc)
                    raise
            returned(run, value)
            return value

        wrapper: Callable[..., Any] = async_wrapper
    else:

        @functools.wraps(fn)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            run = start(args, kwargs)
            with activate(run.tracking, run.run):
                try:
                    value = fn(*args, **kwargs)
                except BaseException as exc:
                    raised(run, exc)
                    raise
            returned(run, value)
            return value

        wrapper = sync_wrapper
    _copy_signature(fn, wrapper)
    return wrapper


def _end_flow_run(
    tracking: Tracking,
    state_type: str,
    state_name: str,
    message: str | None,
    value: Any,
    config: FlowConfig,
    has_value: bool = False,
) -> None:
    client = client_for(tracking.uri)
    status = oc.STATUS_BY_STATE.get(state_type, RunStatus.FAILED)
    tags = [RunTag(oc.STATE_TAG, state_name)]
    if message and status is not RunStatus.FINISHED:
        tags.append(RunTag(oc.STATE_MESSAGE_TAG, message[:MAX_TAG_VAL_LENGTH]))
    try:
        if has_value and config.log_results:
            _log_results(client, tracking, None, value)
        _log_batch(client, tracking.run_id, tags=tags)
    finally:
        client.set_terminated(tracking.run_id, status.value)
    _publish_summary(client, tracking)


def _state_value(state: Any) -> Any:
    """The flow's return value, or None when it cannot be read here (results stored elsewhere)."""
    try:
        return state.result(raise_on_failure=False, _sync=True)
    except Exception:
        logger.warning("mlflowx: could not read the flow run's result to log it", exc_info=True)
        return None


def _on_flow_state(flow: Flow[Any, Any], flow_run: Any, state: Any) -> None:
    """Prefect hook for the final states: end the flow run's tracking run to match."""
    config = getattr(flow, "_mlflowx_config", None) or FlowConfig()
    state_type = state.type.value
    tracking = ACTIVE_FLOW_RUNS.pop(str(flow_run.id), None)
    if tracking is None:
        tracking = _tracking_elsewhere(flow, flow_run, config, failed=state_type != "COMPLETED")
        if tracking is None:
            return
    completed = state_type == "COMPLETED"
    value = _state_value(state) if completed and config.log_results else None
    _end_flow_run(
        tracking, state_type, str(state.name), state.message, value, config, has_value=completed
    )


def _job_env(flow_run: Any) -> dict[str, str]:
    """The environment the flow run's infrastructure was given (deployment job variables, then
    the run's own), for hooks that the worker runs in its own process after a crash."""
    env: dict[str, str] = {}
    try:
        if flow_run.deployment_id is not None:
            from prefect.client.orchestration import get_client

            with get_client(sync_client=True) as prefect_client:
                deployment = prefect_client.read_deployment(flow_run.deployment_id)
            env.update((deployment.job_variables or {}).get("env") or {})
        env.update((getattr(flow_run, "job_variables", None) or {}).get("env") or {})
    except Exception:  # best effort: fall back to this process's environment
        logger.debug("mlflowx: could not read the job variables of %s", flow_run.id, exc_info=True)
    return {str(k): str(v) for k, v in env.items() if v is not None}


def _tracking_elsewhere(
    flow: Flow[Any, Any], flow_run: Any, config: FlowConfig, failed: bool
) -> Tracking | None:
    """The run of a flow run this process did not start: one started by a process that died
    (the runner reports the crash), else, for a run that failed before its function ran (bad
    parameters, infrastructure), a new run so that the failure shows in tracking."""
    job_env = _job_env(flow_run) if config.tracking_uri is None else {}
    uri = job_env.get("MLFLOWX_TRACKING_URI") or job_env.get("MLFLOW_TRACKING_URI")
    client = client_for(_normalize(uri) if uri else config.resolve_uri())
    experiment = config.experiment or job_env.get("MLFLOWX_EXPERIMENT_NAME")
    eid = _experiment_id(client, experiment) if experiment else None
    run_id = _find_run(client, eid, oc.FLOW_RUN_ID_TAG, str(flow_run.id))
    if run_id is not None:
        return Tracking(client.tracking_uri, run_id, client.get_run(run_id).info.experiment_id)
    if not failed:
        return None
    if eid is None:
        _, env_name = fluent_ctx.env_experiment()
        eid = _experiment_id(client, env_name or flow.name)
    tags = {**oc.process_source_tags(), **oc.prefect_flow_run_tags(flow_run, flow.name)}
    run = client.create_run(eid, tags=tags, run_name=config.run_name or flow_run.name or flow.name)
    return Tracking(client.tracking_uri, run.info.run_id, eid)


_FLOW_HOOKS = (
    "on_completion_hooks",
    "on_failure_hooks",
    "on_crashed_hooks",
    "on_cancellation_hooks",
)


def _install(flow_obj: Flow[Any, Any], config: FlowConfig) -> None:
    """Our hook first in each final-state hook list; the user's hooks kept after it."""
    setattr(flow_obj, "_mlflowx_config", config)  # noqa: B010 - not a declared attribute
    setattr(flow_obj, "_mlflowx_active", ACTIVE_FLOW_RUNS)  # noqa: B010
    for attr in _FLOW_HOOKS:
        hooks = [h for h in getattr(flow_obj, attr) if h is not _on_flow_state]
        setattr(flow_obj, attr, [_on_flow_state, *hooks])


class TrackedFlow(Flow[Any, Any]):
    """A :class:`prefect.Flow` whose runs are tracking runs (made by :func:`flow`).

    ``with_options`` keeps the tracking hooks, even when it is given new hook lists (Prefect's own
    ``with_options`` replaces them): the given hooks run after the tracking hook.
    """

    def with_options(self, **kwargs: Any) -> TrackedFlow:
        copy = super().with_options(**kwargs)
        copy.__class__ = TrackedFlow
        _install(copy, getattr(self, "_mlflowx_config", FlowConfig()))
        return cast(TrackedFlow, copy)


@overload
def flow(fn: F, /) -> TrackedFlow: ...


@overload
def flow(
    fn: None = None,
    /,
    *,
    experiment: str | None = None,
    run_name: str | None = None,
    tracking_uri: str | None = None,
    log_results: bool = True,
    **prefect_flow_kwargs: Any,
) -> Callable[[F], TrackedFlow]: ...


def flow(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    experiment: str | None = None,
    run_name: str | None = None,
    tracking_uri: str | None = None,
    log_results: bool = True,
    **prefect_flow_kwargs: Any,
) -> TrackedFlow | Callable[[F], TrackedFlow]:
    """A Prefect flow whose runs are tracking runs: ``@mlflowx.flow`` or
    ``@mlflowx.flow(experiment="x", ...)``; the other keywords go to :class:`prefect.Flow`.

    Args:
        experiment: experiment name (created if missing). Default: the experiment of an enclosing
            run, else ``mlflowx.set_experiment``'s, else ``MLFLOWX_EXPERIMENT_ID`` /
            ``MLFLOWX_EXPERIMENT_NAME``, else the flow's name.
        run_name: the run's name; ``{param}`` fields are filled from the parameters. Default:
            the Prefect flow run's name.
        tracking_uri: where to track. Default: ``mlflowx.set_tracking_uri``'s, else
            ``MLFLOWX_TRACKING_URI`` / ``MLFLOW_TRACKING_URI`` of the process that runs the flow
            (set it in the work pool's job variables), else the embedded SQLite store.
        log_results: log the return value (metrics, tags, models).
    """
    if fn is None:
        return functools.partial(
            flow,
            experiment=experiment,
            run_name=run_name,
            tracking_uri=tracking_uri,
            log_results=log_results,
            **prefect_flow_kwargs,
        )
    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        raise InvalidParameter(
            f"Flow function {fn.__name__!r} is a generator; tracked flows must return a value"
        )
    config = FlowConfig(experiment, run_name, tracking_uri, log_results)
    name = prefect_flow_kwargs.get("name") or fn.__name__.replace("_", "-")
    wrapper = _wrap_flow_fn(fn, config, name)
    if "version" not in prefect_flow_kwargs:
        prefect_flow_kwargs["version"] = _source_version(fn)
    result = TrackedFlow(fn=wrapper, **prefect_flow_kwargs)
    result._entrypoint = _entrypoint(fn)
    _install(result, config)
    return result


def _source_version(fn: Callable[..., Any]) -> str | None:
    """Prefect's default version (a hash of the flow's file), from the user's function."""
    from prefect.utilities.hashing import file_hash

    try:
        path = inspect.getsourcefile(fn)
        return file_hash(path) if path else None
    except (TypeError, OSError):
        return None


def _entrypoint(fn: Callable[..., Any]) -> str:
    """Prefect's default entrypoint, computed from the user's function (not the wrapper)."""
    module = fn.__module__
    if module and (module == "__main__" or module.startswith("__prefect_loader_")):
        path = inspect.getfile(fn)
        module = path if path != "__main__" else module
    return f"{module}:{getattr(fn, '__qualname__', fn.__name__)}"


# ---------------------------------------------------------------------------- tasks
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
            run_id = _RETRYING_TASK_RUNS.pop(self.task_run_key, None) or _find_run(
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
            if task_run is not None:
                tags[oc.TASK_RUN_ID_TAG] = str(task_run.id)
                tags[oc.TASK_RUN_NAME_TAG] = task_run.name
                tags[oc.ATTEMPT_TAG] = str(attempt)
                if task_run.flow_run_id is not None:
                    tags[oc.FLOW_RUN_ID_TAG] = str(task_run.flow_run_id)
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
            params, extra = _params(self.params)
            tags.extend(extra)
        run_id, store = self.tracking.run_id, self.client.store
        if len(params) + len(tags) <= MAX_PARAMS_TAGS_PER_BATCH and len(metrics) <= 1000:
            store.finish_run(run_id, status, now_ms(), metrics, params, tags)  # one write
        else:
            _log_batch(self.client, run_id, metrics, params, tags)
            store.update_run_info(run_id, status, now_ms())

    def succeeded(self, value: Any, log_results: bool) -> None:
        metrics: list[Metric] = []
        tags: list[RunTag] = []
        if log_results:
            results = flatten_results(value)
            if results.models or results.model_infos:
                _log_results(self.client, self.tracking, None, value)
            else:
                t = now_ms()
                metrics = [Metric(k, v, t, 0) for k, v in results.metrics.items()]
                tags = [RunTag(k, v) for k, v in results.tags.items()]
        self._end(RunStatus.FINISHED, metrics, tags)

    def failed(self, exc: BaseException) -> None:
        context = TaskRunContext.get()
        attempt = context.task_run.run_count if context is not None else 1
        text = _error_text(exc)
        tags = [RunTag(oc.ERROR_TAG, text), RunTag(f"{oc.TAG_PREFIX}attempt.{attempt}.error", text)]
        if context is not None and self.task_run_key is not None:
            retries = context.task.retries or 0
            if attempt <= retries:  # Prefect may run it again: the next attempt reuses this run
                _RETRYING_TASK_RUNS[self.task_run_key] = self.tracking.run_id
        self._end(RunStatus.FAILED, [], tags)


def _default_experiment(client: MlflowxClient) -> str:
    chosen = fluent_ctx.active_experiment_id.get()
    env_id, env_name = fluent_ctx.env_experiment()
    if chosen or env_id:
        return cast(str, chosen or env_id)
    return _experiment_id(client, env_name) if env_name else "0"


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
        return _TaskRun(name, _bound_arguments(signature, args, kwargs), True)

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
def task(fn: F, /) -> Task[Any, Any]: ...


@overload
def task(
    fn: None = None,
    /,
    *,
    track: bool = False,
    log_results: bool = True,
    **prefect_task_kwargs: Any,
) -> Callable[[F], Task[Any, Any]]: ...


def task(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    track: bool = False,
    log_results: bool = True,
    **prefect_task_kwargs: Any,
) -> Task[Any, Any] | Callable[[F], Task[Any, Any]]:
    """A Prefect task that logs into the enclosing tracked run, wherever Prefect runs it.

    With ``track=True`` each task run is a child run of the enclosing run (the tracked flow's, or
    a tracked parent task's): parameters as params, return value as metrics and tags
    (``log_results``), the Prefect task run id as the ``mlflowx.prefect.task_run_id`` tag. A
    retried task run reuses its run; each attempt's error is kept as a tag. Without ``track``,
    ``mlflowx.log_metric`` inside the task still lands in the flow's run, also in other processes.
    The other keywords go to :class:`prefect.Task`.
    """
    if fn is None:
        return functools.partial(task, track=track, log_results=log_results, **prefect_task_kwargs)
    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        raise InvalidParameter(
            f"Task function {fn.__name__!r} is a generator; tracked tasks must return a value"
        )
    name = prefect_task_kwargs.get("name") or fn.__name__
    wrapper = _wrap_task_fn(fn, name, track, log_results)
    _copy_signature(fn, wrapper)
    # Prefect keys tasks and their cache by this function's code, not the wrapper's.
    wrapper.__prefect_task_source__ = fn
    return Task(fn=wrapper, **prefect_task_kwargs)
