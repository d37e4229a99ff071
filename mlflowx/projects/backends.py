"""Submitting project runs: in this process (``local``) or to a Prefect work pool (``prefect``)."""

from __future__ import annotations

import contextvars
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from mlflowx.entities import RunStatus
from mlflowx.exceptions import InvalidParameter
from mlflowx.orchestration._context import FLOW_RUN_ID_TAG
from mlflowx.projects.backend_config import parse_backend_config
from mlflowx.projects.execution import (
    PROJECT_RUN_ENV,
    ProjectRunFailed,
    RunConfig,
    project_tags,
    resolve_experiment,
)
from mlflowx.projects.params import convert
from mlflowx.projects.project import EXTRA_PARAMETERS, Project, load
from mlflowx.store.uris import get_tracking_uri
from mlflowx.tracking.client import MlflowxClient

__all__ = [
    "BACKENDS",
    "LocalSubmittedRun",
    "PrefectSubmittedRun",
    "SubmittedRun",
    "deploy",
    "flow_parameters",
    "run",
]

BACKENDS = ("local", "prefect")
_PREFECT_STATUS = {
    "SCHEDULED": "SCHEDULED", "PENDING": "SCHEDULED", "PAUSED": "SCHEDULED",
    "RUNNING": "RUNNING", "COMPLETED": "FINISHED", "FAILED": "FAILED", "CRASHED": "FAILED",
    "CANCELLING": "KILLED", "CANCELLED": "KILLED",
}  # fmt: skip


class SubmittedRun(ABC):
    """A project run that was started (MLflow's ``SubmittedRun``)."""

    def __init__(self, run_id: str, tracking_uri: str) -> None:
        self.run_id = run_id
        self.tracking_uri = tracking_uri

    @abstractmethod
    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends; ``True`` when it succeeded."""

    @abstractmethod
    def get_status(self) -> str:
        """``SCHEDULED``, ``RUNNING``, ``FINISHED``, ``FAILED`` or ``KILLED``."""

    @abstractmethod
    def cancel(self) -> None:
        """Stop the run (its command is terminated); the tracking run ends ``KILLED``."""

    def _tracking_status(self) -> str:
        return MlflowxClient(self.tracking_uri).get_run(self.run_id).info.status.value

    def _mark_killed(self) -> None:
        client = MlflowxClient(self.tracking_uri)
        if not client.get_run(self.run_id).info.status.is_terminated:
            client.set_terminated(self.run_id, RunStatus.KILLED.value)


class LocalSubmittedRun(SubmittedRun):
    """A flow run in this process (in a thread when not waited for)."""

    def __init__(self, run_id: str, tracking_uri: str, config: RunConfig) -> None:
        super().__init__(run_id, tracking_uri)
        self._config = config
        self._thread: threading.Thread | None = None
        self.state: Any = None
        self.flow_run_id: str | None = None

    def _start(self, flow: Any, params: Mapping[str, Any], background: bool) -> None:
        def target() -> None:
            self.state = flow(**params, return_state=True)
            self.flow_run_id = str(self.state.state_details.flow_run_id)

        if not background:
            target()
            return
        # Carry this context (Prefect's settings, the active profile) into the thread.
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(target,), name=f"mlflowx-project-{self.run_id}"
        )
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                return False
        return self.state is not None and bool(self.state.is_completed())

    def get_status(self) -> str:
        return self._tracking_status()

    def cancel(self) -> None:
        self._config.handle.cancel()
        self.wait(60)
        self._mark_killed()


class PrefectSubmittedRun(SubmittedRun):
    """A flow run of a deployment, executed by a worker of a work pool."""

    def __init__(self, run_id: str, tracking_uri: str, flow_run_id: UUID) -> None:
        super().__init__(run_id, tracking_uri)
        self.flow_run_id = flow_run_id

    def _state(self) -> Any:
        from prefect import get_client

        with get_client(sync_client=True) as client:
            return client.read_flow_run(self.flow_run_id).state

    def wait(self, timeout: float | None = None, poll: float = 1.0) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            state = self._state()
            if state is not None and state.is_final():
                return bool(state.is_completed())
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(poll)

    def get_status(self) -> str:
        state = self._state()
        return _PREFECT_STATUS.get(state.type.value, "RUNNING") if state else "SCHEDULED"

    def cancel(self) -> None:
        from prefect import get_client
        from prefect.states import Cancelled, Cancelling

        state = self._state()
        with get_client(sync_client=True) as client:
            if state is not None and state.is_running():
                client.set_flow_run_state(self.flow_run_id, Cancelling(), force=True)
            elif state is None or not state.is_final():
                client.set_flow_run_state(self.flow_run_id, Cancelled(), force=True)
        self.wait(timeout=120)
        self._mark_killed()


def flow_parameters(
    project: Project, entry: str, parameters: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Split user parameters into typed flow parameters and ``extra_parameters``."""
    spec = project.entry_point(entry)
    where = f"entry point {entry!r} of project {project.name!r}"
    declared: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for key, value in (parameters or {}).items():
        if key in spec.parameters:
            declared[key] = convert(key, spec.parameters[key], value, where)
        else:
            extra[key] = str(value)
    missing = [n for n, p in spec.parameters.items() if p.required and n not in declared]
    if missing:
        raise InvalidParameter(
            f"No value given for the required parameter(s) {', '.join(map(repr, missing))} "
            f"of {where}"
        )
    if extra:
        declared[EXTRA_PARAMETERS] = extra
    return declared


def _require_prefect_api() -> None:
    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        raise InvalidParameter(
            "The prefect backend needs a Prefect server that workers also reach: set "
            "PREFECT_API_URL (e.g. http://127.0.0.1:4200/api after `prefect server start`)"
        )


def _pool_type(work_pool: str) -> str:
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            pool = client.read_work_pool(work_pool)
        except ObjectNotFound:
            raise InvalidParameter(
                f"No Prefect work pool {work_pool!r}; create it with `prefect work-pool create "
                f"{work_pool} --type process` (or docker)"
            ) from None
    return str(pool.type)


def _image_job_variables(
    pool_type: str, image: str, tracking_uri: str, pushed: bool
) -> dict[str, Any]:
    """Job variables running ``image`` on a pool of ``pool_type``: a pushed image is pulled
    when the worker's host lacks it (its tag is a content digest), a local one never is."""
    from mlflowx.projects.docker_image import docker_job_variables

    policy = "IfNotPresent" if pushed else "Never"
    if pool_type == "docker":
        return docker_job_variables(image, tracking_uri, pull_policy=policy)
    variables: dict[str, Any] = {"image": image, "env": {"MLFLOWX_TRACKING_URI": tracking_uri}}
    if pool_type == "kubernetes":
        variables["image_pull_policy"] = policy
    return variables


def deploy(
    project: Project | str,
    entry: str = "main",
    *,
    work_pool: str,
    name: str | None = None,
    version: str | None = None,
    cron: str | None = None,
    timezone: str = "UTC",
    parameters: Mapping[str, Any] | None = None,
    env_manager: str | None = None,
    experiment_name: str | None = None,
    tracking_uri: str | None = None,
    image: str | None = None,
    job_variables: Mapping[str, Any] | None = None,
    push: bool = False,
    registry: str | None = None,
) -> UUID:
    """Create or update the deployment of an entry point's flow on ``work_pool``.

    The flow is written to ``<project>/.mlflowx/flow_<entry>.py`` so workers can load it. On a
    ``docker`` pool the flow runs in ``image`` (built by :func:`~mlflowx.projects.docker_image.
    build_project_image` when not given). With ``registry`` (or ``push`` and an ``image`` that
    names a registry) the image is pushed (:func:`~mlflowx.projects.docker_image.push_image`) and
    the deployment names the pushed reference with a pull policy that makes the worker pull it,
    so workers on other hosts (Docker, Kubernetes, ECS pools) run the project baked in the image.
    """
    from prefect import Flow
    from prefect.schedules import Cron

    if isinstance(project, str):
        project = load(project, version)
    _require_prefect_api()
    tracking_uri = tracking_uri or get_tracking_uri()
    variables: dict[str, Any] = {"env": {"MLFLOWX_TRACKING_URI": tracking_uri}}
    pool_type = _pool_type(work_pool)
    pushed = push or registry is not None
    if pushed and pool_type == "process":
        raise InvalidParameter(
            f"Work pool {work_pool!r} is a process pool: it runs the project from this folder, "
            "so there is no image to push; use a docker, kubernetes or ecs pool, or drop "
            "push/registry (--push/--registry)"
        )
    docker = pool_type == "docker" or pushed
    if docker:
        env_manager = "local"  # the image is the environment
    options = {"env_manager": env_manager, "experiment_name": experiment_name,
               "backend": "prefect", "tracking_uri": tracking_uri}  # fmt: skip
    entrypoint = project.write_flow_module(entry, **options)  # before a Docker image bakes it in
    if docker:
        from mlflowx.projects.docker_image import build_project_image

        image = image or build_project_image(project)
        if pushed:
            from mlflowx.projects.docker_image import push_image

            image = push_image(image, registry)
        variables = _image_job_variables(pool_type, image, tracking_uri, pushed)
    flow: Any = Flow.from_source(source=str(project.directory), entrypoint=entrypoint)
    for key, value in (job_variables or {}).items():
        if key == "env" and isinstance(value, Mapping):
            variables["env"] = {**variables.get("env", {}), **value}
        else:
            variables[key] = value
    declared = flow_parameters(project, entry, parameters) if parameters else None
    deployment_id: UUID = flow.deploy(
        name=name or work_pool,
        work_pool_name=work_pool,
        job_variables=variables,
        schedules=[Cron(cron, timezone=timezone)] if cron else None,
        parameters=declared,
        tags=["mlflowx", "mlproject"],
        description=f"MLproject {project.name!r} entry point {entry!r} ({project.source.uri})",
        print_next_steps=False,
        build=False,
        push=False,
        ignore_warnings=True,
    )
    return deployment_id


def run(
    uri: str,
    entry_point: str = "main",
    version: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    experiment_name: str | None = None,
    experiment_id: str | None = None,
    backend: str = "local",
    env_manager: str | None = None,
    synchronous: bool = True,
    run_name: str | None = None,
    work_pool: str | None = None,
    docker_client: Any = None,
    backend_config: Mapping[str, Any] | str | None = None,
    registry: str | None = None,
) -> SubmittedRun:
    """Run an MLproject entry point as a Prefect flow (MLflow's ``mlflow.projects.run``).

    ``backend="local"`` runs the flow in this process; ``"prefect"`` deploys it to
    ``work_pool`` and submits a flow run. With ``synchronous`` (the default) it waits and raises
    :class:`ProjectRunFailed` when the run fails.

    ``backend_config`` (a mapping, a JSON string or a ``.json`` file, as MLflow's) sets the
    prefect backend's ``work_pool``, ``image``, ``registry`` and ``job_variables``; the
    keyword arguments of the same name win. With ``registry`` the project image is pushed there
    and the worker pulls it, so workers on other hosts can run the project (see :func:`deploy`).
    """
    if backend not in BACKENDS:
        raise InvalidParameter(f"Unknown backend {backend!r}; choose one of {BACKENDS}")
    on_prefect = parse_backend_config(backend_config)
    work_pool = work_pool or on_prefect.work_pool
    registry = registry or on_prefect.registry
    if backend == "local" and (backend_config or registry):
        raise InvalidParameter(
            "backend_config and registry apply to the prefect backend (--backend prefect); "
            "the local backend runs the project in this process"
        )
    if backend == "prefect":
        if not work_pool:
            raise InvalidParameter("The prefect backend needs a work pool (--work-pool NAME)")
        _require_prefect_api()
    project = load(uri, version)
    env = project.resolve_env_manager(env_manager)
    params = flow_parameters(project, entry_point, parameters)
    tracking_uri = get_tracking_uri()
    client = MlflowxClient(tracking_uri)
    exp = resolve_experiment(client, experiment_name, experiment_id)
    tags = project_tags(project, entry_point, env, backend)
    tracking_run = client.create_run(exp, tags=tags, run_name=run_name)
    run_id = tracking_run.info.run_id
    submitted: SubmittedRun
    if backend == "local":
        config = RunConfig(env_manager=env, backend="local", tracking_uri=tracking_uri,
                           run_id=run_id, docker_client=docker_client)  # fmt: skip
        local = LocalSubmittedRun(run_id, tracking_uri, config)
        local._start(project.to_flow(entry_point, config), params, background=not synchronous)
        submitted = local
    else:
        assert work_pool is not None
        try:
            deployment_id = deploy(
                project, entry_point, work_pool=work_pool, name=f"{work_pool}-run",
                env_manager=env, tracking_uri=tracking_uri, image=on_prefect.image,
                registry=registry, job_variables=on_prefect.job_variables,
            )  # fmt: skip
            flow_run_id = _submit(deployment_id, params, run_id)
        except BaseException:  # nothing will run: the tracking run must not stay RUNNING
            client.set_terminated(run_id, "FAILED")
            raise
        client.set_tag(run_id, FLOW_RUN_ID_TAG, str(flow_run_id))
        submitted = PrefectSubmittedRun(run_id, tracking_uri, flow_run_id)
    if synchronous and not submitted.wait():
        state = getattr(submitted, "state", None)
        detail = state.message if state is not None and state.message else submitted.get_status()
        raise ProjectRunFailed(f"Run (ID {run_id!r}) of {uri!r} failed: {detail}")
    return submitted


def _submit(deployment_id: UUID, params: Mapping[str, Any], run_id: str) -> UUID:
    """Start a flow run of the deployment that adopts the tracking run ``run_id``."""
    from prefect import get_client
    from prefect.deployments import run_deployment

    with get_client(sync_client=True) as prefect:
        baked = prefect.read_deployment(deployment_id).job_variables or {}
    # A run's job variables replace the deployment's key by key: keep its env, add the run id.
    flow_run: Any = run_deployment(
        deployment_id, parameters=dict(params), timeout=0, as_subflow=False,
        job_variables={"env": {**baked.get("env", {}), PROJECT_RUN_ENV: run_id}},
    )  # fmt: skip
    return UUID(str(flow_run.id))
