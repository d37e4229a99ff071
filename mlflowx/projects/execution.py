"""Running one entry point: the command in its environment, streamed output, in a tracking run.

:func:`run_entry` is the body of every compiled flow. A compiled flow is a tracked flow
(:mod:`mlflowx.orchestration.tracked`): that machinery makes, continues (a run created by the
submitter: ``RunConfig.run_id`` in-process, ``MLFLOWX_PROJECT_RUN_ID`` on a worker) and ends the
tracking run, with the same Prefect lineage tags as every tracked flow. This module adds what is
particular to projects: MLflow's project tags, the parameters as the entry point resolves them,
and the run handed to the command through its environment.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlflowx.entities import DEFAULT_EXPERIMENT_ID, RunTag
from mlflowx.exceptions import InvalidState, MlflowxError
from mlflowx.orchestration._context import client_for, current_tracking
from mlflowx.projects.envs import RunHandle
from mlflowx.projects.params import build_command, resolve_parameters
from mlflowx.tracking._context import env_experiment
from mlflowx.tracking._source import _user
from mlflowx.tracking.client import MlflowxClient

if TYPE_CHECKING:
    from prefect.client.schemas.objects import State

    from mlflowx.projects.project import Project

__all__ = [
    "PROJECT_RUN_ENV",
    "ProjectRunFailed",
    "RunConfig",
    "execute",
    "project_tags",
    "resolve_experiment",
    "run_entry",
]

#: Hands a pre-created tracking run to a flow run started on a worker.
PROJECT_RUN_ENV = "MLFLOWX_PROJECT_RUN_ID"
_log = logging.getLogger("mlflowx.projects")


class ProjectRunFailed(InvalidState):
    """The project's command ended with a non-zero exit code (``returncode``)."""

    def __init__(self, message: str, returncode: int | None = None) -> None:
        super().__init__(message)
        self.returncode = returncode


@dataclass
class RunConfig:
    """How a compiled flow runs: fixed when the flow is compiled (or baked into a deployment)."""

    env_manager: str | None = None
    backend: str = "local"
    experiment_name: str | None = None
    experiment_id: str | None = None
    run_name: str | None = None
    tracking_uri: str | None = None
    run_id: str | None = None
    handle: RunHandle = field(default_factory=RunHandle)
    docker_client: Any = None


def resolve_experiment(client: MlflowxClient, name: str | None, experiment_id: str | None) -> str:
    if experiment_id:
        return str(experiment_id)
    env_id, env_name = env_experiment()
    name = name or env_name
    if name:
        found = client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        try:
            return client.create_experiment(name)
        except MlflowxError:
            again = client.get_experiment_by_name(name)
            if again is None:
                raise
            return again.experiment_id
    return env_id or DEFAULT_EXPERIMENT_ID


def project_tags(project: Project, entry: str, env_manager: str, backend: str) -> dict[str, str]:
    """MLflow's tags for a project run, plus the environment and backend."""
    source = project.source
    tags = {
        "mlflow.user": _user(),
        "mlflow.source.name": (source.repo_url if source.version else None) or source.uri,
        "mlflow.source.type": "PROJECT",
        "mlflow.project.entryPoint": entry,
        "mlflow.project.env": env_manager,
        "mlflow.project.backend": backend,
    }
    if source.commit:
        tags["mlflow.source.git.commit"] = source.commit
    if source.repo_url:
        tags["mlflow.source.git.repoURL"] = source.repo_url
        tags["mlflow.gitRepoURL"] = source.repo_url
    if source.version:
        tags["mlflowx.source.git.version"] = source.version
    if source.branch:
        tags["mlflow.source.git.branch"] = source.branch
    if env_manager == "docker" and project.spec.docker_env is not None:
        tags["mlflow.docker.image.name"] = project.spec.docker_env.image
    return tags


def _run_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    try:
        from prefect.logging import get_run_logger

        adapter = get_run_logger()
    except Exception:  # outside a flow run (direct calls, tests)
        return _log
    # The command's output belongs in the flow run's logs whatever PREFECT_LOGGING_LEVEL says
    # (that setting quiets Prefect's own chatter): a child of `prefect.flow_runs`, which ships to
    # the API, with its own INFO level and the run logger's context (flow run id).
    output = logging.getLogger("prefect.flow_runs.mlflowx_project")
    output.setLevel(logging.INFO)
    return logging.LoggerAdapter(output, getattr(adapter, "extra", None) or {})


def _command_env(
    tracking_uri: str, run_id: str, experiment_id: str, artifact_uri: str | None
) -> dict[str, str]:
    env = {
        PROJECT_RUN_ENV: "",  # a project started by this command must get its own run
        "MLFLOWX_RUN_ID": run_id,
        "MLFLOWX_TRACKING_URI": tracking_uri,
        "MLFLOWX_EXPERIMENT_ID": experiment_id,
    }
    if tracking_uri.startswith(("http://", "https://")):
        # MLflow's own client reads these; only meaningful when it can reach the store, i.e. an
        # mlflowx server speaking MLflow's REST API (it cannot read mlflowx's SQLite schema).
        env |= {
            "MLFLOW_RUN_ID": run_id,
            "MLFLOW_TRACKING_URI": tracking_uri,
            "MLFLOW_EXPERIMENT_ID": experiment_id,
        }
    if artifact_uri and (artifact_uri.startswith("/") or artifact_uri.startswith("file://")):
        env["MLFLOWX_ARTIFACT_DIR"] = artifact_uri.removeprefix("file://")
    return env


def execute(
    project: Project, entry: str, params: Mapping[str, Any], config: RunConfig
) -> dict[str, Any]:
    """Run ``entry`` with ``params`` in this process, outside Prefect's engine: the compiled
    flow's function called directly, so its tracking run is made and ended the same way.
    Returns ``{"run_id", "exit_code"}`` or raises :class:`ProjectRunFailed`."""
    result = project.to_flow(entry, config).fn(**params)
    if not isinstance(result, dict):  # the command was cancelled
        raise ProjectRunFailed(f"The command of entry point {entry!r} was cancelled")
    return result


def run_entry(
    project: Project, entry: str, params: Mapping[str, Any], config: RunConfig
) -> dict[str, Any] | State[Any]:
    """The body of a compiled flow, inside its tracking run (the active run of this context):
    tag the run as MLflow tags project runs, log the parameters, run the command in its
    environment with the run handed over through the environment, stream its output.

    Returns ``{"run_id", "exit_code"}``, a Cancelled state when the command was stopped by a
    cancellation, or raises :class:`ProjectRunFailed` (the flow, and its run, then fail)."""
    from prefect.states import Cancelled

    logger = _run_logger()
    tracking = current_tracking()
    if tracking is None:
        raise InvalidState(f"Entry point {entry!r} runs only inside its compiled flow")
    client = client_for(tracking.uri)
    run_id = tracking.run_id
    env_manager = project.resolve_env_manager(config.env_manager)
    spec = project.entry_point(entry)
    where = f"entry point {entry!r} of project {project.name!r}"
    tags = project_tags(project, entry, env_manager, config.backend)
    client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])
    run = client.get_run(run_id)
    logger.info("Tracking run %s (experiment %s)", run_id, run.info.experiment_id)
    storage = Path(tempfile.mkdtemp(prefix="mlflowx-project-"))
    try:
        declared, extra = resolve_parameters(spec, params, where, project.directory)
        _log_params(client, run_id, run.data.params, {**declared, **extra})
        declared, extra = resolve_parameters(spec, params, where, project.directory, storage)
        command = build_command(spec, declared, extra, where)
        environment = project.environment(env_manager, docker_client=config.docker_client)
        sink: Callable[[str], None] = lambda line: logger.info("%s", line)  # noqa: E731
        environment.prepare(sink)
        logger.info("Running in %s: %s", env_manager, command.describe())
        env = _command_env(tracking.uri, run_id, run.info.experiment_id, run.info.artifact_uri)
        env |= command.env  # the parameter values the command refers to
        code = environment.run(command.text, project.directory, env, sink, config.handle)
    finally:
        shutil.rmtree(storage, ignore_errors=True)
    if code != 0 and config.handle.cancelled:
        return Cancelled(message=f"Run {run_id}: the command of {where} was cancelled")
    if code != 0:
        raise ProjectRunFailed(
            f"Run {run_id}: the command of {where} exited with code {code}", code
        )
    return {"run_id": run_id, "exit_code": 0}


def _log_params(client: MlflowxClient, run_id: str, logged: Any, values: Mapping[str, Any]) -> None:
    """Log the run's parameters (skipping those already there: a resumed run)."""
    from mlflowx.entities import Param

    have = dict(logged) if isinstance(logged, Mapping) else {}
    fresh = [Param(k, str(v)) for k, v in values.items() if k not in have]
    if fresh:
        client.log_batch(run_id, params=fresh)
