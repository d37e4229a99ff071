"""``deploy``: roll the champion out as a serving container (Docker) or a local scoring-server
process, check its health and one prediction, and record the rollout on the model version.

Also ``build_image`` and ``deploy_model``: the Docker steps on their own, as Prefect tasks.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from pathlib import Path
from typing import Any, Literal

from prefect import task
from pydantic import BaseModel

import mlflowx
from mlflowx.exceptions import InvalidParameter, MlflowxError
from mlflowx.orchestration import lineage
from mlflowx.orchestration._context import flow_run_tags
from mlflowx.orchestration.tasks.evaluate import CHAMPION_ALIAS
from mlflowx.orchestration.tasks.progress import reports
from mlflowx.orchestration.tasks.specs import DeploySpec
from mlflowx.utils.net import free_port

__all__ = [
    "DEPLOYMENT_TAG_PREFIX",
    "DeploymentCheckFailed",
    "Rollout",
    "build_image",
    "build_model_image_task",
    "deploy",
    "deploy_champion",
    "deploy_model",
    "deploy_model_container",
    "docker_available",
    "running_servers",
    "stop_servers",
]

DEPLOYMENT_TAG_PREFIX = "mlflowx.deployment."
logger = logging.getLogger("mlflowx.orchestration")
#: Scoring servers started in this process with ``keep_running``; ``stop_servers`` ends them.
_RUNNING: dict[str, Any] = {}


class DeploymentCheckFailed(MlflowxError, code="DEPLOYMENT_CHECK_FAILED", http_status=500):
    """The rolled-out model did not answer its health check or its test prediction."""


class Rollout(BaseModel):
    """Where the champion now serves, and the prediction it gave for the check request."""

    target: Literal["process", "docker"]
    name: str
    model_name: str
    version: str
    model_uri: str
    url: str
    pid: int | None = None
    image: str | None = None
    container_id: str | None = None
    prediction: Any = None


def docker_available() -> bool:
    """Whether a Docker daemon answers (the Docker SDK installed and the socket reachable)."""
    try:
        import docker

        client = docker.from_env(timeout=5)
        try:
            client.ping()
        finally:
            client.close()
    except Exception:
        return False
    return True


def _resolve(model_name: str, alias: str) -> tuple[str, str]:
    from mlflowx.registry.client import RegistryClient

    version = RegistryClient().get_model_version_by_alias(model_name, alias).version
    return str(version), f"models:/{model_name}/{version}"


def _check_payload(model_uri: str) -> dict[str, Any]:
    """The model's own serving input example: a ready ``/invocations`` body."""
    from mlflowx.models import Model
    from mlflowx.models.example import load_serving_input_example
    from mlflowx.models.uri import fetch_model

    with fetch_model(model_uri) as fetched:
        info = Model.load(fetched.path).saved_input_example_info or {}
        text = load_serving_input_example(fetched.path, info)
    if not text:
        raise InvalidParameter(
            f"{model_uri} has no input example to check the deployment with; log the model "
            "with input_example="
        )
    payload: dict[str, Any] = json.loads(text)
    return payload


def _wait_healthy(url: str, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{url}/health", timeout=5)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.25)
    raise DeploymentCheckFailed(f"{url}/health did not answer 200 in {timeout:.0f} s: {last}")


def _predict(url: str, payload: dict[str, Any]) -> Any:
    import httpx

    try:
        response = httpx.post(f"{url}/invocations", json=payload, timeout=60)
    except httpx.HTTPError as exc:
        raise DeploymentCheckFailed(f"{url}/invocations failed: {exc}") from exc
    if response.status_code != 200:
        raise DeploymentCheckFailed(
            f"{url}/invocations answered HTTP {response.status_code}: {response.text[:500]}"
        )
    body = response.json()
    predictions = body.get("predictions") if isinstance(body, dict) else body
    if not predictions:
        raise DeploymentCheckFailed(f"{url}/invocations returned no predictions: {body!r}")
    return predictions


def _tag_version(model_name: str, version: str, tags: dict[str, Any]) -> None:
    from mlflowx.registry.client import RegistryClient

    client = RegistryClient()
    for key, value in {**tags, **flow_run_tags()}.items():
        if value is not None:
            client.set_model_version_tag(model_name, version, key, str(value))


def _registered(model_uri: str) -> tuple[str, str] | None:
    """(name, version) when ``model_uri`` names a registered version, else ``None``."""
    from mlflowx.registry.uri import parse_model_uri, resolve_model_uri

    if not model_uri.startswith("models:/"):
        return None
    if parse_model_uri(model_uri).name is None:
        return None
    return resolve_model_uri(model_uri)


def _serving_pid(pid: int) -> bool:
    """Whether ``pid`` is a live ``mlflowx models serve`` process on this machine."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"models" in cmdline and b"serve" in cmdline


def _stop_earlier_process(name: str, model_uri: str) -> None:
    """Stop the scoring server an earlier rollout of ``name`` left on this host (e.g. last
    night's flow run, in another process): a process rollout replaces the previous one."""
    import os
    import signal

    from mlflowx.registry.client import RegistryClient

    model_name = model_uri.removeprefix("models:/").split("/")[0]
    query = (
        f"name = '{model_name}' AND tags.`{DEPLOYMENT_TAG_PREFIX}name` = '{name}' "
        f"AND tags.`{DEPLOYMENT_TAG_PREFIX}target` = 'process'"
    )
    for version in RegistryClient().search_model_versions(query):
        tags = version.tags
        pid = tags.get(f"{DEPLOYMENT_TAG_PREFIX}pid", "")
        if tags.get(f"{DEPLOYMENT_TAG_PREFIX}host") != socket.gethostname() or not pid.isdigit():
            continue
        if _serving_pid(int(pid)):
            try:
                os.killpg(int(pid), signal.SIGTERM)  # its own session: the server and workers
            except ProcessLookupError:
                pass


def _process(name: str, model_uri: str, spec: DeploySpec, timeout: float) -> Any:
    import mlflowx
    from mlflowx.serving import start_scoring_server

    previous = _RUNNING.pop(name, None)
    if previous is not None:
        previous.stop()
    _stop_earlier_process(name, model_uri)
    # The server is another process: the tracking URI in force here must travel with it.
    env = {"MLFLOWX_TRACKING_URI": mlflowx.get_tracking_uri()}
    try:
        return start_scoring_server(
            model_uri, host="127.0.0.1", port=spec.port or None, env=env, timeout=timeout
        )
    except MlflowxError as exc:
        raise DeploymentCheckFailed(
            f"The scoring server for {model_uri} did not start: {exc}"
        ) from exc


def _container(name: str, model_uri: str, spec: DeploySpec) -> Any:
    from mlflowx.serving.docker import DockerDeployments

    deployments = DockerDeployments()
    try:
        deployments.get(name)
    except MlflowxError:
        return deployments.create(
            name, model_uri, spec.port or free_port(), base_image=spec.base_image
        )
    return deployments.update(name, model_uri, base_image=spec.base_image)


def deploy_champion(
    model_name: str,
    spec: DeploySpec | None = None,
    *,
    alias: str = CHAMPION_ALIAS,
    timeout: float = 120,
) -> Rollout | None:
    """Roll out ``models:/<model_name>@<alias>`` (pinned to the version the alias names now).

    ``spec.target`` ``docker`` creates (or updates) a serving container (a local scoring server
    when no Docker daemon answers); ``process`` starts a local scoring server, replacing the one
    an earlier rollout of the same name left on this host; ``none`` does nothing and returns
    ``None``. The rollout must answer
    ``/health`` and one prediction on the model's input example, else
    :class:`DeploymentCheckFailed`. The version is tagged ``mlflowx.deployment.*``.
    """
    spec = spec or DeploySpec()
    if spec.target == "none":
        return None
    version, model_uri = _resolve(model_name, alias)
    name = spec.name or model_name
    payload = _check_payload(model_uri)
    target = spec.target
    if target == "docker" and not docker_available():
        logger.warning(
            "Deploy target 'docker': no Docker daemon answers here; rolling %s out as a local "
            "scoring-server process instead",
            model_uri,
        )
        target = "process"
    common = {"name": name, "model_name": model_name, "version": version, "model_uri": model_uri}
    if target == "docker":
        deployment = _container(name, model_uri, spec)
        url = str(deployment.url)
        _wait_healthy(url, timeout)
        prediction = _predict(url, payload)
        rollout = Rollout(
            **common,
            target="docker",
            url=url,
            image=str(deployment.image),
            container_id=str(deployment.container_id),
            prediction=prediction,
        )
    else:
        server = _process(name, model_uri, spec, timeout)
        url = str(server.url)
        try:
            prediction = _predict(url, payload)
        except BaseException:
            server.stop()
            raise
        rollout = Rollout(
            **common,
            target="process",
            url=url,
            pid=int(server.pid),
            prediction=prediction,
        )
        if spec.keep_running:
            _RUNNING[name] = server
        else:
            server.stop()
    _tag_version(
        model_name,
        version,
        {
            f"{DEPLOYMENT_TAG_PREFIX}target": rollout.target,
            f"{DEPLOYMENT_TAG_PREFIX}name": name,
            f"{DEPLOYMENT_TAG_PREFIX}url": url,
            f"{DEPLOYMENT_TAG_PREFIX}pid": rollout.pid,
            f"{DEPLOYMENT_TAG_PREFIX}host": socket.gethostname(),
            f"{DEPLOYMENT_TAG_PREFIX}image": rollout.image,
            f"{DEPLOYMENT_TAG_PREFIX}container_id": rollout.container_id,
        },
    )
    _publish_rollout(rollout)
    return rollout


def _publish_rollout(rollout: Rollout) -> None:
    """The task run's Markdown note of where the version now answers."""
    page = lineage.model_version_url(
        mlflowx.get_registry_uri(), rollout.model_name, rollout.version
    )
    version = f"{rollout.model_name} version {rollout.version}"
    lines = [
        "## mlflowx deployment",
        "",
        f"- model: [{version}]({page})" if page else f"- model: {version} (`{rollout.model_uri}`)",
        f"- endpoint: {rollout.url}",
        f"- target: {rollout.target}",
    ]
    if rollout.container_id:
        lines.append(f"- container: `{rollout.container_id}` from image `{rollout.image}`")
    if rollout.pid:
        lines.append(f"- process: pid {rollout.pid} on {socket.gethostname()}")
    lineage.publish(lineage.DEPLOYMENT_KEY, "\n".join(lines) + "\n", f"{version} deployed")


def running_servers() -> dict[str, Any]:
    """Scoring servers this process started and left running (deployment name -> process)."""
    return dict(_RUNNING)


def stop_servers() -> None:
    """Stop the scoring servers this process left running."""
    while _RUNNING:
        _, server = _RUNNING.popitem()
        server.stop()


def build_model_image_task(
    model_uri: str, image: str, *, base_image: str | None = None, network: bool = True
) -> dict[str, Any]:
    """Build a serving image for ``model_uri``; tag the registered version (if it is one) with
    the image and the flow run. Returns the image's name, id and size."""
    from mlflowx.serving.docker import build_model_image

    built = build_model_image(model_uri, image, base_image=base_image, network=network)
    found = _registered(model_uri)
    if found:
        _tag_version(
            *found,
            {
                f"{DEPLOYMENT_TAG_PREFIX}image": built.name,
                f"{DEPLOYMENT_TAG_PREFIX}image_id": built.id,
            },
        )
    return {"name": built.name, "id": built.id, "size_bytes": built.size_bytes}


def deploy_model_container(
    name: str,
    model_uri: str,
    port: int = 0,
    *,
    image: str | None = None,
    base_image: str | None = None,
) -> dict[str, Any]:
    """Create (or update) the serving container ``name`` for ``model_uri``; tag the registered
    version (if it is one) with the image, the container and the flow run."""
    from mlflowx.serving.docker import DockerDeployments

    deployments = DockerDeployments()
    try:
        deployments.get(name)
    except MlflowxError:
        deployment = deployments.create(
            name, model_uri, port or free_port(), image=image, base_image=base_image
        )
    else:
        deployment = deployments.update(name, model_uri, image=image, base_image=base_image)
    found = _registered(model_uri)
    if found:
        _tag_version(
            *found,
            {
                f"{DEPLOYMENT_TAG_PREFIX}target": "docker",
                f"{DEPLOYMENT_TAG_PREFIX}name": name,
                f"{DEPLOYMENT_TAG_PREFIX}url": deployment.url,
                f"{DEPLOYMENT_TAG_PREFIX}image": deployment.image,
                f"{DEPLOYMENT_TAG_PREFIX}container_id": deployment.container_id,
            },
        )
    return {
        "name": deployment.name,
        "url": deployment.url,
        "port": deployment.port,
        "model_uri": deployment.model_uri,
        "image": deployment.image,
        "container_id": deployment.container_id,
    }


def _summary(result: object) -> str:
    if result is None:
        return "skipped"
    assert isinstance(result, Rollout)
    return f"{result.model_uri} as a {result.target} at {result.url}"


deploy = task(name="deploy")(reports("deploy", _summary)(deploy_champion))
build_image = task(name="build_image")(build_model_image_task)
deploy_model = task(name="deploy_model")(deploy_model_container)
