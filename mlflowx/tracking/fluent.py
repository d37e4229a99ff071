"""MLflow's fluent API: module-level functions acting on the active run."""

from __future__ import annotations

import atexit
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, overload

from mlflowx.entities import (
    DatasetInput,
    Experiment,
    InputTag,
    LifecycleStage,
    Metric,
    PagedList,
    Param,
    Run,
    RunStatus,
    RunTag,
    ViewType,
    now_ms,
)
from mlflowx.exceptions import InvalidParameter, MlflowxError, NotFound
from mlflowx.settings import env_flag
from mlflowx.store.artifacts.base import FileInfo
from mlflowx.store.uris import get_tracking_uri
from mlflowx.tracking import _context as ctx
from mlflowx.tracking._async import RunOperations
from mlflowx.tracking._source import source_tags
from mlflowx.tracking.client import MlflowxClient
from mlflowx.tracking.tables import runs_to_pandas

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ActiveRun",
    "active_run",
    "create_experiment",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "end_run",
    "flush_async_logging",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_run",
    "last_active_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "restore_run",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_tag",
    "set_tags",
]

PARENT_RUN_TAG = "mlflow.parentRunId"
NOTE_TAG = "mlflow.note.content"
DATASET_CONTEXT_TAG = "mlflow.data.context"

_clients: dict[str, MlflowxClient] = {}
_clients_lock = threading.Lock()
#: Runs started by the fluent API and not ended yet, in any context: ended at interpreter exit.
_open_runs: dict[str, MlflowxClient] = {}
_crashed = False


def _client() -> MlflowxClient:
    uri = get_tracking_uri()
    client = _clients.get(uri)
    if client is None:
        with _clients_lock:
            client = _clients.setdefault(uri, MlflowxClient(uri))
    return client


class ActiveRun(Run):
    """The run ``start_run`` returns; as a context manager it ends the run on exit:
    FINISHED normally, FAILED on an exception, KILLED on Ctrl-C."""

    __slots__ = ()

    def __init__(self, run: Run) -> None:
        super().__init__(run.info, run.data, run.inputs)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        stack = ctx.active_runs.get()
        if any(r.info.run_id == self.info.run_id for r in stack):
            # End this run and any nested run left open inside it.
            while (
                ctx.active_runs.get() and ctx.active_runs.get()[-1].info.run_id != self.info.run_id
            ):
                end_run(status.value)
            end_run(status.value)


# ------------------------------------------------------------------------ experiments
def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment the active one, creating it by name if it does not exist."""
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidParameter("Pass exactly one of experiment_name or experiment_id")
    client = _client()
    if experiment_id is not None:
        experiment = client.get_experiment(str(experiment_id))
    else:
        assert experiment_name is not None
        found = client.get_experiment_by_name(experiment_name)
        if found is None:
            try:
                new_id = client.create_experiment(experiment_name)
            except MlflowxError:
                # Created by someone else in between: use theirs.
                found = client.get_experiment_by_name(experiment_name)
                if found is None:
                    raise
                new_id = found.experiment_id
            found = client.get_experiment(new_id)
        experiment = found
    if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        raise InvalidParameter(
            f"Cannot set a deleted experiment {experiment.name!r} as the active experiment. "
            "You can restore the experiment, or permanently delete it to create a new one "
            "with the same name."
        )
    ctx.active_experiment_id.set(experiment.experiment_id)
    return experiment


def create_experiment(
    name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None
) -> str:
    return _client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    return _client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    return _client().get_experiment_by_name(name)


def delete_experiment(experiment_id: str) -> None:
    _client().delete_experiment(experiment_id)


def set_experiment_tag(key: str, value: Any) -> None:
    _client().set_experiment_tag(_experiment_id(), key, value)


def search_experiments(
    view_type: ViewType | int | str = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    """Every matching experiment (all pages), or at most ``max_results``."""
    client = _client()
    results: list[Experiment] = []
    token: str | None = None
    while True:
        want = 1000 if max_results is None else min(1000, max_results - len(results))
        page = client.search_experiments(view_type, want, filter_string, order_by, token)
        results.extend(page)
        token = page.token
        if not token or (max_results is not None and len(results) >= max_results):
            return results


def _experiment_id() -> str:
    chosen = ctx.active_experiment_id.get()
    if chosen is not None:
        return chosen
    env_id, env_name = ctx.env_experiment()
    if env_id:
        return env_id
    if env_name:
        return set_experiment(experiment_name=env_name).experiment_id
    return "0"


# ------------------------------------------------------------------------ runs
def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a new run, or resume ``run_id``, and make it the active run.

    Use it as a context manager so the run ends with the right status.
    """
    del log_system_metrics  # accepted for MLflow compatibility; system metrics are not collected
    client = _client()
    stack = ctx.active_runs.get()
    if stack and not nested and parent_run_id is None:
        raise InvalidParameter(
            f"Run with UUID {stack[-1].info.run_id} is already active. To start a new run, "
            "first end the current run with mlflowx.end_run(). To start a nested run, call "
            "start_run with nested=True"
        )
    resume_id = run_id or (ctx.env_run_id() if not stack else None)
    if resume_id:
        existing = client.get_run(resume_id)
        if existing.info.lifecycle_stage != LifecycleStage.ACTIVE:
            raise InvalidParameter(f"Cannot start run with ID {resume_id} because it is deleted")
        if run_name:
            client.update_run(resume_id, name=run_name)
        if tags:
            client.log_batch(resume_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])
        client.update_run(resume_id, status=RunStatus.RUNNING.value)
        run = client.get_run(resume_id)
    else:
        parent = parent_run_id or (stack[-1].info.run_id if stack and nested else None)
        if parent_run_id and stack and stack[-1].info.run_id != parent_run_id:
            raise InvalidParameter(
                f"Current run with UUID {stack[-1].info.run_id} does not match the specified "
                f"parent_run_id {parent_run_id}"
            )
        all_tags = source_tags()
        all_tags.update({k: str(v) for k, v in (tags or {}).items()})
        if parent:
            all_tags[PARENT_RUN_TAG] = parent
        if description:
            all_tags[NOTE_TAG] = description
        eid = (
            str(experiment_id)
            if experiment_id is not None
            else (stack[-1].info.experiment_id if stack and nested else _experiment_id())
        )
        run = client.create_run(eid, tags=all_tags, run_name=run_name)
    active = ActiveRun(run)
    ctx.active_runs.set((*stack, active))
    _open_runs[active.info.run_id] = client
    return active


def end_run(status: str = RunStatus.FINISHED.value) -> None:
    """End the active run (the innermost one)."""
    stack = ctx.active_runs.get()
    if not stack:
        return
    run = stack[-1]
    ctx.active_runs.set(stack[:-1])
    client = _open_runs.pop(run.info.run_id, None) or _client()
    try:
        client.flush_async_logging()
    finally:
        client.set_terminated(run.info.run_id, status)
        ctx.last_run.set(client.get_run(run.info.run_id))


def active_run() -> ActiveRun | None:
    stack = ctx.active_runs.get()
    return stack[-1] if stack else None  # type: ignore[return-value]


def last_active_run() -> Run | None:
    """The active run, else the run most recently ended in this context (freshly read)."""
    current = active_run()
    if current is not None:
        return _client().get_run(current.info.run_id)
    last = ctx.last_run.get()
    return None if last is None else _client().get_run(last.info.run_id)


def _run_id() -> str:
    stack = ctx.active_runs.get()
    if stack:
        return stack[-1].info.run_id
    return start_run().info.run_id


def get_run(run_id: str) -> Run:
    return _client().get_run(run_id)


def delete_run(run_id: str) -> None:
    _client().delete_run(run_id)


def restore_run(run_id: str) -> None:
    _client().restore_run(run_id)


# ------------------------------------------------------------------------ logging
def _synchronous(synchronous: bool | None) -> bool:
    if synchronous is None:
        return not (env_flag("MLFLOWX_ENABLE_ASYNC_LOGGING"))
    return synchronous


def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    return _client().log_param(_run_id(), key, value, _synchronous(synchronous))


def log_params(params: Mapping[str, Any], synchronous: bool | None = None) -> RunOperations | None:
    items = [Param(k, v if isinstance(v, str) else str(v)) for k, v in params.items()]
    return _client().log_batch(_run_id(), params=items, synchronous=_synchronous(synchronous))


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> RunOperations | None:
    """Log one metric point; committed before returning unless ``synchronous=False``.

    With ``model_id`` the point is also a metric of that logged model; ``dataset`` (anything
    with a ``name`` and a ``digest``) names the data it was computed on.
    """
    return _client().log_metric(
        run_id or _run_id(),
        key,
        value,
        timestamp,
        step,
        _synchronous(synchronous),
        *_dataset_ref(dataset),
        model_id=model_id,
    )


def _dataset_ref(dataset: Any) -> tuple[str | None, str | None]:
    if dataset is None:
        return None, None
    return getattr(dataset, "name", None), getattr(dataset, "digest", None)


def log_metrics(
    metrics: Mapping[str, float],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> RunOperations | None:
    t = now_ms() if timestamp is None else timestamp
    name, digest = _dataset_ref(dataset)
    items = [Metric(k, v, t, step or 0, None, model_id, name, digest) for k, v in metrics.items()]
    return _client().log_batch(
        run_id or _run_id(), metrics=items, synchronous=_synchronous(synchronous)
    )


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> None:
    _client().set_tag(_run_id(), key, value, _synchronous(synchronous))


def set_tags(tags: Mapping[str, Any], synchronous: bool | None = None) -> RunOperations | None:
    items = [RunTag(k, str(v)) for k, v in tags.items()]
    return _client().log_batch(_run_id(), tags=items, synchronous=_synchronous(synchronous))


def delete_tag(key: str) -> None:
    _client().delete_tag(_run_id(), key)


def flush_async_logging() -> None:
    for client in list(_clients.values()):
        client.flush_async_logging()


def log_input(
    dataset: Any, context: str | None = None, tags: Mapping[str, str] | None = None
) -> None:
    """Record that the active run used ``dataset`` (from :mod:`mlflowx.data`)."""
    entity = dataset.to_entity() if hasattr(dataset, "to_entity") else dataset
    input_tags = [InputTag(k, str(v)) for k, v in (tags or {}).items()]
    if context:
        input_tags.append(InputTag(DATASET_CONTEXT_TAG, context))
    _client().log_inputs(_run_id(), [DatasetInput(entity, input_tags)])


# ------------------------------------------------------------------------ artifacts
def log_artifact(local_path: str | Path, artifact_path: str | None = None) -> None:
    _client().log_artifact(_run_id(), local_path, artifact_path)


def log_artifacts(local_dir: str | Path, artifact_path: str | None = None) -> None:
    _client().log_artifacts(_run_id(), local_dir, artifact_path)


def log_text(text: str, artifact_file: str) -> None:
    _client().log_text(_run_id(), text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str) -> None:
    _client().log_dict(_run_id(), dictionary, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> None:
    _client().log_figure(_run_id(), figure, artifact_file)


def log_image(image: Any, artifact_file: str) -> None:
    _client().log_image(_run_id(), image, artifact_file)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    return _client().get_artifact_uri(_run_id(), artifact_path)


def list_artifacts(run_id: str | None = None, path: str | None = None) -> list[FileInfo]:
    return _client().list_artifacts(run_id or _run_id(), path)


# ------------------------------------------------------------------------ search
@overload
def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: ViewType | int | str = ViewType.ACTIVE_ONLY,
    max_results: int = 100_000,
    order_by: Sequence[str] | None = None,
    output_format: Literal["pandas"] = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> pd.DataFrame: ...


@overload
def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: ViewType | int | str = ViewType.ACTIVE_ONLY,
    max_results: int = 100_000,
    order_by: Sequence[str] | None = None,
    *,
    output_format: Literal["list"],
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> list[Run]: ...


def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: ViewType | int | str = ViewType.ACTIVE_ONLY,
    max_results: int = 100_000,
    order_by: Sequence[str] | None = None,
    output_format: Literal["pandas", "list"] = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> pd.DataFrame | list[Run]:
    """Runs matching ``filter_string``, as a pandas DataFrame (default) or a list of runs."""
    client = _client()
    if output_format not in ("pandas", "list"):
        raise InvalidParameter(
            f"Unsupported output_format {output_format!r}; expected 'pandas' or 'list'"
        )
    ids = [str(e) for e in experiment_ids or []]
    for name in experiment_names or []:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise NotFound(f"Could not find experiment with name {name!r}")
        ids.append(experiment.experiment_id)
    if not ids and not experiment_names:
        if search_all_experiments:
            ids = [e.experiment_id for e in search_experiments(view_type=ViewType.ALL)]
        else:
            ids = [_experiment_id()]
    runs: list[Run] = []
    token: str | None = None
    while len(runs) < max_results:
        page: PagedList[Run] = client.search_runs(
            ids,
            filter_string,
            run_view_type,
            min(50_000, max_results - len(runs)),
            order_by,
            token,
        )
        runs.extend(page)
        token = page.token
        if not token:
            break
    if output_format == "list":
        return runs
    return runs_to_pandas(runs)


# ------------------------------------------------------------------------ exit handling
_previous_excepthook = sys.excepthook


def _excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    global _crashed
    _crashed = True
    _previous_excepthook(exc_type, exc, tb)


sys.excepthook = _excepthook


@atexit.register
def _end_open_runs_at_exit() -> None:
    """Runs still open when the interpreter exits end FINISHED, or FAILED after a crash."""
    status = RunStatus.FAILED if _crashed else RunStatus.FINISHED
    for run_id, client in list(_open_runs.items()):
        try:
            client.flush_async_logging()
            client.set_terminated(run_id, status.value)
        except Exception as exc:
            print(f"mlflowx: could not end run {run_id} at exit: {exc}", file=sys.stderr)
    _open_runs.clear()


def _reset_for_tests() -> None:
    """Forget fluent state (active runs, experiment, clients); used by the test suite."""
    ctx.active_runs.set(())
    ctx.last_run.set(None)
    ctx.last_logged_model_id.set(None)
    ctx.active_experiment_id.set(None)
    _open_runs.clear()
    _clients.clear()
