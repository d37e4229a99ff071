"""``@mlflowx.flow``: a Prefect flow whose runs are tracking runs."""

from __future__ import annotations

import functools
import inspect
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar, cast, overload

from prefect import Flow
from prefect.context import FlowRunContext

from mlflowx.entities import Run, RunStatus, RunTag
from mlflowx.exceptions import InvalidParameter
from mlflowx.orchestration import _context as oc
from mlflowx.orchestration import lineage
from mlflowx.orchestration._context import (
    ACTIVE_FLOW_RUNS,
    Tracking,
    activate,
    client_for,
)
from mlflowx.orchestration.tracked._runs import (
    error_text,
    experiment_id_for,
    find_run,
    log_batch,
    log_results_of,
    split_params,
)
from mlflowx.orchestration.tracked._wrapping import bound_arguments, copy_signature
from mlflowx.store.uris import get_tracking_uri, normalize_uri
from mlflowx.tracking import _context as fluent_ctx
from mlflowx.tracking.client import MlflowxClient
from mlflowx.tracking.fluent import PARENT_RUN_TAG
from mlflowx.utils.validation import MAX_TAG_VAL_LENGTH

__all__ = ["FlowConfig", "TrackedFlow", "flow", "tracked_flow"]
logger = logging.getLogger("mlflowx.orchestration")

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class FlowConfig:
    """What ``@mlflowx.flow`` was given, kept on the flow (and on its ``with_options`` copies)."""

    experiment: str | None = None
    run_name: str | None = None
    tracking_uri: str | None = None
    log_results: bool = True
    #: Below: for flows that mlflowx compiles (MLprojects), not options of ``@mlflowx.flow``.
    #: An experiment id that wins over ``experiment``; the experiment id used when nothing
    #: chooses one (default: the experiment named after the flow).
    experiment_id: str | None = None
    fallback_experiment_id: str | None = None
    #: Log the flow's parameters as params, and this process's source (user, script, git
    #: commit) as MLflow's source tags; off when the flow logs its own.
    log_params: bool = True
    source_tags: bool = True
    #: A tracking run created for this flow run beforehand, to continue instead of creating
    #: one: its id, or the environment variable that holds it (on a worker).
    run_id: str | None = None
    run_id_env: str | None = None

    def adopted_run_id(self) -> str | None:
        if self.run_id:
            return self.run_id
        return (os.environ.get(self.run_id_env) or None) if self.run_id_env else None

    def resolve_uri(self) -> str:
        return normalize_uri(self.tracking_uri) if self.tracking_uri else get_tracking_uri()


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

        existing = ACTIVE_FLOW_RUNS.get(key) if key else None
        retry = flow_run is not None and flow_run.run_count > 1
        adopted = None if existing is not None or retry else config.adopted_run_id()
        attempt = str(flow_run.run_count) if flow_run is not None else "1"
        run_id: str | None
        if existing is not None:
            eid, run_id = existing.experiment_id, existing.run_id
        elif adopted is not None:
            eid, run_id = client.get_run(adopted).info.experiment_id, adopted
        else:
            eid = self._experiment(client, flow_name, parent)
            run_id = find_run(client, eid, oc.FLOW_RUN_ID_TAG, key) if retry and key else None
        if run_id is not None:  # a retry of this flow run, or a run made for it: continue it
            more = {oc.ATTEMPT_TAG: attempt}
            if adopted is not None and flow_run is not None:
                more.update(oc.prefect_flow_run_tags(flow_run, flow_name))
            log_batch(client, run_id, tags=[RunTag(k, v) for k, v in more.items()])
            client.store.update_run_info(run_id, RunStatus.RUNNING, None)
            self.run: Run = client.get_run(run_id)
            if adopted is not None and flow_run is not None:
                lineage.link_run(uri, self.run.info, str(flow_run.id))
        else:
            tags = oc.process_source_tags() if config.source_tags else {}
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
            params, extra = split_params(values) if config.log_params else ([], [])
            if params or extra:
                log_batch(client, self.run.info.run_id, params=params, tags=extra)
            if flow_run is not None:
                lineage.link_run(uri, self.run.info, str(flow_run.id))
        self.tracking = Tracking(uri, self.run.info.run_id, eid)
        if key is not None:
            ACTIVE_FLOW_RUNS[key] = self.tracking

    def _experiment(self, client: MlflowxClient, flow_name: str, parent: Run | None) -> str:
        config = self.config
        if config.experiment_id:
            return config.experiment_id
        if config.experiment:
            return experiment_id_for(client, config.experiment)
        if parent is not None:
            return parent.info.experiment_id
        chosen = fluent_ctx.active_experiment_id.get()
        env_id, env_name = fluent_ctx.env_experiment()
        if chosen or env_id:
            return str(chosen or env_id)
        if env_name or not config.fallback_experiment_id:
            return experiment_id_for(client, env_name or flow_name)
        return config.fallback_experiment_id

    def finish_direct(self, value: Any = None, exc: BaseException | None = None) -> None:
        """End a run that no Prefect engine drives (the flow's function called directly)."""
        if exc is None and _returned_cancelled(value):
            status = RunStatus.KILLED
        elif exc is None:
            status = RunStatus.FINISHED
            if self.config.log_results:
                log_results_of(self.client, self.tracking, self.run, value)
        else:
            status = RunStatus.KILLED if isinstance(exc, KeyboardInterrupt) else RunStatus.FAILED
            log_batch(
                self.client, self.tracking.run_id, tags=[RunTag(oc.ERROR_TAG, error_text(exc))]
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
        return _FlowRun(config, name, bound_arguments(signature, args, kwargs), context)

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
        text = error_text(exc)
        try:
            log_batch(
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
    copy_signature(fn, wrapper)
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
            log_results_of(client, tracking, None, value)
        log_batch(client, tracking.run_id, tags=tags)
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
    client = client_for(normalize_uri(uri) if uri else config.resolve_uri())
    experiment = config.experiment or job_env.get("MLFLOWX_EXPERIMENT_NAME")
    eid = experiment_id_for(client, experiment) if experiment else None
    run_id = find_run(client, eid, oc.FLOW_RUN_ID_TAG, str(flow_run.id))
    if run_id is not None:
        return Tracking(client.tracking_uri, run_id, client.get_run(run_id).info.experiment_id)
    if not failed:
        return None
    if eid is None:
        _, env_name = fluent_ctx.env_experiment()
        eid = experiment_id_for(client, env_name or flow.name)
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


class TrackedFlow(Flow[P, R]):
    """A :class:`prefect.Flow` whose runs are tracking runs (made by :func:`flow`).

    ``with_options`` keeps the tracking hooks, even when it is given new hook lists (Prefect's own
    ``with_options`` replaces them): the given hooks run after the tracking hook.
    """

    def with_options(self, **kwargs: Any) -> TrackedFlow[P, R]:
        copy = super().with_options(**kwargs)
        copy.__class__ = TrackedFlow
        _install(copy, getattr(self, "_mlflowx_config", FlowConfig()))
        return cast(TrackedFlow[P, R], copy)


@overload
def flow(fn: Callable[P, R], /) -> TrackedFlow[P, R]: ...


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
) -> Callable[[Callable[P, R]], TrackedFlow[P, R]]: ...


def flow(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    experiment: str | None = None,
    run_name: str | None = None,
    tracking_uri: str | None = None,
    log_results: bool = True,
    **prefect_flow_kwargs: Any,
) -> TrackedFlow[Any, Any] | Callable[[Callable[P, R]], TrackedFlow[P, R]]:
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
        return functools.partial(  # type: ignore[return-value]
            flow,
            experiment=experiment,
            run_name=run_name,
            tracking_uri=tracking_uri,
            log_results=log_results,
            **prefect_flow_kwargs,
        )
    config = FlowConfig(experiment, run_name, tracking_uri, log_results)
    return tracked_flow(fn, config, **prefect_flow_kwargs)


def tracked_flow(
    fn: Callable[..., Any], config: FlowConfig, **prefect_flow_kwargs: Any
) -> TrackedFlow[Any, Any]:
    """The tracked flow of ``fn`` with a full :class:`FlowConfig` (what ``@mlflowx.flow`` and
    compiled MLprojects build on); ``prefect_flow_kwargs`` go to :class:`prefect.Flow`."""
    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        raise InvalidParameter(
            f"Flow function {fn.__name__!r} is a generator; tracked flows must return a value"
        )
    name = prefect_flow_kwargs.get("name") or fn.__name__.replace("_", "-")
    wrapper = _wrap_flow_fn(fn, config, name)
    if "version" not in prefect_flow_kwargs:
        prefect_flow_kwargs["version"] = _source_version(fn)
    result: TrackedFlow[Any, Any] = TrackedFlow(fn=wrapper, **prefect_flow_kwargs)
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
