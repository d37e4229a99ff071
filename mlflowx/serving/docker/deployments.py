"""Deployments of models as Docker containers behind a stable reverse proxy.

A deployment ``NAME`` is:

- the network ``mlflowx-NAME`` (internal: model containers have no route out);
- the proxy container ``mlflowx-NAME-proxy`` (nginx), on the default bridge with
  ``127.0.0.1:PORT`` published and also attached to the deployment network;
- one model container ``mlflowx-NAME-model-G`` (generation G) on the deployment network only.

All state is in Docker: labels on the containers (deployment, role, model URI, image, port,
generation) and the proxy's upstream file (which model container serves). ``get``/``list`` read
Docker; there is no state file.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from mlflowx.docker import Progress, check_image_tag, docker_client
from mlflowx.docker.client import progress_or_noop
from mlflowx.exceptions import AlreadyExists, InvalidParameter, InvalidState, NotFound
from mlflowx.serving.docker.image import CONTAINER_PORT, Trust, build_model_image
from mlflowx.serving.docker.proxy import (
    HEALTH_PATH,
    PROXY_PORT,
    ensure_proxy_image,
    read_upstream,
    switch_upstream,
    upstream_conf,
)

__all__ = ["DeploymentError", "DockerDeployments", "ModelDeployment"]

L_DEPLOYMENT = "io.mlflowx.deployment"
L_ROLE = "io.mlflowx.role"
L_MODEL_URI = "io.mlflowx.model-uri"
L_IMAGE = "io.mlflowx.image"
L_PORT = "io.mlflowx.port"
L_NETWORK = "io.mlflowx.network"
L_GENERATION = "io.mlflowx.generation"
DEFAULT_HEALTH_TIMEOUT = 180.0
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,40}")


class DeploymentError(InvalidState):
    """A deployment could not be created or rolled out (the previous state keeps serving)."""


@dataclass(frozen=True)
class ModelDeployment:
    """A model deployed as a container behind the deployment's proxy."""

    name: str
    url: str
    port: int
    model_uri: str
    image: str
    container_id: str
    proxy_container_id: str
    network: str
    status: str = ""


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidParameter(
            f"Invalid deployment name {name!r}: use 1-41 lowercase letters, digits, '.', '_' or "
            "'-', starting with a letter or digit (it names containers, a network and images)"
        )
    return name


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _logs_tail(container: Any, lines: int = 25) -> str:
    try:
        return str(container.logs(tail=lines).decode(errors="replace").strip())
    except Exception:
        return "(no logs)"


def _load_failure(state: dict[str, Any]) -> str | None:
    """The scoring server's load error, when its last health check says the model failed."""
    log = (state.get("Health") or {}).get("Log") or []
    if not log:
        return None
    output = str(log[-1].get("Output", "")).strip()
    try:
        body = json.loads(output)
    except ValueError:
        return None
    if isinstance(body, dict) and body.get("status") == "failed":
        return str(body.get("error") or "no reason given")
    return None


class DockerDeployments:
    """Create, roll out, inspect and delete model deployments on a Docker daemon.

    ``client`` is a ``docker.DockerClient``; by default one from the environment.
    """

    def __init__(self, client: Any = None, *, progress: Progress | None = None) -> None:
        self._client = docker_client(client)
        self._say = progress_or_noop(progress)

    @property
    def client(self) -> Any:
        return self._client

    # --- reading state ------------------------------------------------------------------------

    def _containers(self, name: str, role: str | None = None) -> list[Any]:
        labels = [f"{L_DEPLOYMENT}={name}"] + ([f"{L_ROLE}={role}"] if role else [])
        found = self._client.containers.list(all=True, filters={"label": labels})
        return list(found)

    def _proxy(self, name: str) -> Any:
        proxies = self._containers(name, "proxy")
        if not proxies:
            raise NotFound(f"No Docker deployment named {name!r}")
        return proxies[0]

    @staticmethod
    def _generation(container: Any) -> int:
        try:
            return int(container.labels.get(L_GENERATION, "0"))
        except ValueError:
            return 0

    def _active_model(self, name: str, proxy: Any) -> Any | None:
        models = self._containers(name, "model")
        current = read_upstream(proxy)
        for model in models:
            if current and model.id == current:
                return model
        running = [m for m in models if m.status == "running"] or models
        return max(running, key=self._generation) if running else None

    def get(self, name: str) -> ModelDeployment:
        """The deployment ``name`` as Docker describes it now."""
        _check_name(name)
        proxy = self._proxy(name)
        model = self._active_model(name, proxy)
        port = int(proxy.labels.get(L_PORT, "0"))
        status = proxy.status
        if model is None:
            status = "no model container"
        elif model.status != "running":
            status = f"model container {model.status}"
        else:
            health = (model.attrs.get("State", {}).get("Health") or {}).get("Status")
            status = f"{proxy.status}, model {health or model.status}"
        return ModelDeployment(
            name=name,
            url=f"http://127.0.0.1:{port}",
            port=port,
            model_uri=model.labels.get(L_MODEL_URI, "") if model is not None else "",
            image=model.labels.get(L_IMAGE, "") if model is not None else "",
            container_id=str(model.id) if model is not None else "",
            proxy_container_id=str(proxy.id),
            network=proxy.labels.get(L_NETWORK, ""),
            status=status,
        )

    def list(self) -> list[ModelDeployment]:
        """Every deployment on this Docker daemon, by name."""
        proxies = self._client.containers.list(all=True, filters={"label": [f"{L_ROLE}=proxy"]})
        names = sorted({p.labels.get(L_DEPLOYMENT, "") for p in proxies} - {""})
        found: list[ModelDeployment] = []
        for name in names:
            with contextlib.suppress(NotFound):
                found.append(self.get(name))
        return found

    # --- building blocks ----------------------------------------------------------------------

    def _image_for(
        self,
        name: str,
        model_uri: str,
        image: str | None,
        base_image: str | None,
        generation: int,
        trust: Trust,
    ) -> str:
        if image is not None:
            import docker.errors

            try:
                self._client.images.get(image)
            except docker.errors.ImageNotFound:
                raise NotFound(f"Image {image!r} is not present on this Docker daemon") from None
            return image
        tag = check_image_tag(f"mlflowx-{name}:g{generation}")
        built = build_model_image(
            model_uri, tag, base_image=base_image, client=self._client, progress=self._say,
            allow_pickle=trust.allow_pickle, allow_code=trust.allow_code,
        )  # fmt: skip
        return built.name

    def _start_model(
        self, name: str, model_uri: str, image: str, network: str, generation: int, workers: int
    ) -> Any:
        self._say(f"Starting model container {generation} of {name} ({image})")
        return self._client.containers.run(
            image,
            name=f"mlflowx-{name}-model-{generation}",
            detach=True,
            network=network,
            environment={"MLFLOWX_WORKERS": str(workers), "MLFLOWX_PORT": str(CONTAINER_PORT)},
            labels={
                L_DEPLOYMENT: name,
                L_ROLE: "model",
                L_MODEL_URI: model_uri,
                L_IMAGE: image,
                L_NETWORK: network,
                L_GENERATION: str(generation),
            },
            restart_policy={"Name": "unless-stopped"},
        )

    def _wait_healthy(self, container: Any, timeout: float) -> None:
        """Until Docker reports the container healthy; raises DeploymentError when it exits,
        restarts, turns unhealthy, or ``timeout`` passes."""
        self._say(f"Waiting for {container.name} to become healthy (up to {timeout:.0f} s)")
        deadline = time.monotonic() + timeout
        while True:
            container.reload()
            state = container.attrs.get("State", {})
            health = (state.get("Health") or {}).get("Status")
            if health == "healthy":
                return
            problem = None
            if state.get("Status") in {"exited", "dead"} or state.get("Restarting"):
                problem = f"it stopped (exit code {state.get('ExitCode')})"
            elif int(container.attrs.get("RestartCount", 0) or 0) > 0:
                problem = "it crashed and was restarted"
            elif _load_failure(state):
                problem = f"the model failed to load ({_load_failure(state)})"
            elif health == "unhealthy":
                problem = "its health check failed"
            elif health is None:
                problem = "its image has no HEALTHCHECK"
            elif time.monotonic() > deadline:
                problem = f"it was not healthy after {timeout:.0f} s"
            if problem:
                raise DeploymentError(
                    f"Model container {container.name} did not become healthy: {problem}. "
                    f"Last log lines:\n{_logs_tail(container)}"
                )
            time.sleep(0.5)

    def _wait_proxy(self, port: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{HEALTH_PATH}", timeout=2):
                    return
            except (urllib.error.URLError, OSError) as exc:
                last = exc
                time.sleep(0.3)
        raise DeploymentError(f"The proxy on 127.0.0.1:{port} did not answer in time ({last})")

    @staticmethod
    def _remove(container: Any, *, graceful: bool = False) -> None:
        with contextlib.suppress(Exception):
            if graceful:
                container.stop(timeout=30)
        with contextlib.suppress(Exception):
            container.remove(force=True)

    # --- operations ---------------------------------------------------------------------------

    def create(
        self,
        name: str,
        model_uri: str,
        port: int,
        *,
        image: str | None = None,
        base_image: str | None = None,
        health_timeout: float = DEFAULT_HEALTH_TIMEOUT,
        workers: int = 1,
        allow_pickle: bool = False,
        allow_code: bool = False,
    ) -> ModelDeployment:
        """Deploy ``model_uri`` as ``name``, answering on ``http://127.0.0.1:port``.

        Builds the model image unless ``image`` is given (``allow_pickle`` / ``allow_code``
        go to :func:`build_model_image`); the proxy image is built on first use. Nothing is
        left behind when the model container does not become healthy.
        """
        _check_name(name)
        if not 0 < port < 65536:
            raise InvalidParameter(f"Invalid port {port}: expected 1-65535")
        if self._containers(name):
            raise AlreadyExists(
                f"Docker deployment {name!r} already exists; use `update` to roll out a new model"
            )
        if not _port_free(port):
            raise InvalidParameter(f"Port {port} on 127.0.0.1 is already in use")
        proxy_image = ensure_proxy_image(self._client, base_image, self._say)
        trust = Trust(allow_pickle, allow_code)
        image = self._image_for(name, model_uri, image, base_image, 1, trust)
        network_name = f"mlflowx-{name}"
        labels = {L_DEPLOYMENT: name, L_NETWORK: network_name}
        network = self._client.networks.create(
            network_name, driver="bridge", internal=True, labels=labels
        )
        created: list[Any] = []
        try:
            model = self._start_model(name, model_uri, image, network_name, 1, workers)
            created.append(model)
            self._wait_healthy(model, health_timeout)
            self._say(f"Starting proxy on 127.0.0.1:{port}")
            proxy = self._client.containers.create(
                proxy_image,
                name=f"mlflowx-{name}-proxy",
                detach=True,
                network="bridge",
                ports={f"{PROXY_PORT}/tcp": ("127.0.0.1", port)},
                environment={
                    "MLFLOWX_UPSTREAM_CONF": upstream_conf(
                        str(model.id), str(model.name), CONTAINER_PORT
                    )
                },
                labels={**labels, L_ROLE: "proxy", L_PORT: str(port)},
                restart_policy={"Name": "unless-stopped"},
            )
            created.append(proxy)
            network.connect(proxy)
            proxy.start()
            self._wait_proxy(port, 60.0)
        except BaseException as exc:
            for container in created:
                self._remove(container)
            with contextlib.suppress(Exception):
                network.remove()
            if isinstance(exc, DeploymentError):
                raise DeploymentError(
                    f"Creating deployment {name!r} failed: {exc.message}"
                ) from exc
            if type(exc).__module__.startswith("docker"):
                raise DeploymentError(f"Creating deployment {name!r} failed: {exc}") from exc
            raise
        return self.get(name)

    def update(
        self,
        name: str,
        model_uri: str,
        *,
        image: str | None = None,
        base_image: str | None = None,
        health_timeout: float = DEFAULT_HEALTH_TIMEOUT,
        workers: int | None = None,
        allow_pickle: bool = False,
        allow_code: bool = False,
    ) -> ModelDeployment:
        """Roll ``name`` out to ``model_uri`` with no downtime (``allow_pickle`` /
        ``allow_code``: as in :meth:`create`).

        Starts the new model container next to the old one, waits until Docker reports it
        healthy, re-points the proxy (``nginx -s reload``: in-flight requests finish on the old
        workers), then stops the old container. A new container that does not become healthy is
        removed, the old one keeps serving, and DeploymentError says why.
        """
        current = self.get(name)
        proxy = self._client.containers.get(current.proxy_container_id)
        if proxy.status != "running":
            raise DeploymentError(
                f"The proxy of deployment {name!r} is {proxy.status}; delete and create it again"
            )
        models = self._containers(name, "model")
        old = [m for m in models if m.id == current.container_id]
        generation = max((self._generation(m) for m in models), default=0) + 1
        if workers is None:
            env = (old[0].attrs.get("Config", {}).get("Env") or []) if old else []
            given = [e.split("=", 1)[1] for e in env if e.startswith("MLFLOWX_WORKERS=")]
            workers = int(given[0]) if given else 1
        trust = Trust(allow_pickle, allow_code)
        image = self._image_for(name, model_uri, image, base_image, generation, trust)
        new = self._start_model(name, model_uri, image, current.network, generation, workers)
        try:
            self._wait_healthy(new, health_timeout)
            self._say(f"Re-pointing the proxy of {name} to {new.name}")
            switch_upstream(proxy, upstream_conf(str(new.id), str(new.name), CONTAINER_PORT))
        except BaseException as exc:
            self._remove(new)
            message = exc.message if isinstance(exc, InvalidState) else str(exc)
            if isinstance(exc, Exception):
                raise DeploymentError(
                    f"Rollout of {model_uri} to deployment {name!r} failed; the previous model "
                    f"({current.model_uri}) keeps serving. {message}"
                ) from exc
            raise
        for container in models:  # the old generation(s), now out of the proxy's upstream
            self._say(f"Stopping {container.name}")
            self._remove(container, graceful=True)
        return self.get(name)

    def delete(self, name: str) -> None:
        """Remove the deployment's containers and network (images are kept)."""
        _check_name(name)
        containers = self._containers(name)
        networks = self._client.networks.list(filters={"label": [f"{L_DEPLOYMENT}={name}"]})
        if not containers and not networks:
            raise NotFound(f"No Docker deployment named {name!r}")
        for container in containers:
            self._say(f"Removing {container.name}")
            self._remove(container)
        for network in networks:
            with contextlib.suppress(Exception):
                network.remove()
