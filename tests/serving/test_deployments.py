"""Docker deployments: a proxy on the deployment's network in front of model containers;
create/get/list/delete, a rollout and a failed rollout under continuous traffic."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import docker.errors
import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from mlflowx.cli import app
from mlflowx.exceptions import AlreadyExists, NotFound
from mlflowx.serving.docker import DeploymentError, DockerDeployments, build_model_image
from tests.fixtures.server import free_port
from tests.serving.test_docker_helpers import (
    CACHE_DIR,
    GROUP,
    payload,
    remove_images,
    save_broken_model,
    save_iris_model,
    unique,
)

pytestmark = pytest.mark.xdist_group(GROUP)


@dataclass
class Models:
    rows: Any
    first: tuple[str, str, Any]  # (model dir, image, expected predictions)
    second: tuple[str, str, Any]
    broken: tuple[str, str]


@pytest.fixture(scope="module")
def models(
    docker_client: Any, base_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Models]:
    """Three images: two models that answer differently, and one that cannot load its model.
    The first build pays for the dependencies; the others reuse those layers."""
    root = tmp_path_factory.mktemp("deploy")
    X, first = save_iris_model(root / "first")
    _, second = save_iris_model(root / "second", shift=1)
    save_broken_model(root / "broken")
    rows = X.sample(5, random_state=1)
    tag = unique("mlflowx-test-deploy-")
    names = [f"{tag}:{kind}" for kind in ("first", "second", "broken")]
    try:
        for kind, name in zip(("first", "second", "broken"), names, strict=True):
            started = time.monotonic()
            built = build_model_image(
                str(root / kind), name, base_image=base_image, client=docker_client,
                cache_dir=CACHE_DIR,
            )  # fmt: skip
            print(f"\nbuilt {name} in {time.monotonic() - started:.0f} s "
                  f"({built.size_bytes / 1e6:.0f} MB)")  # fmt: skip
        yield Models(
            rows=rows,
            first=(str(root / "first"), names[0], first.predict(rows)),
            second=(str(root / "second"), names[1], second.predict(rows)),
            broken=(str(root / "broken"), names[2]),
        )
    finally:
        remove_images(docker_client, *names)


@pytest.fixture
def deployments(docker_client: Any, base_image: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("MLFLOWX_BASE_IMAGE", base_image)  # the proxy image is built on it
    started = time.monotonic()
    # Steps and their times show with `pytest -s`.
    return DockerDeployments(
        docker_client, progress=lambda step: print(f"[{time.monotonic() - started:6.1f}s] {step}")
    )


@pytest.fixture
def name(deployments: DockerDeployments) -> Iterator[str]:
    chosen = unique("t")
    yield chosen
    with contextlib.suppress(NotFound):
        deployments.delete(chosen)


def _predict(url: str, rows: Any, client: httpx.Client | None = None) -> Any:
    response = (client or httpx).post(f"{url}/invocations", json=payload(rows), timeout=60)
    assert response.status_code == 200, response.text
    return np.array(response.json()["predictions"])


def test_create_get_list_delete(
    deployments: DockerDeployments, docker_client: Any, models: Models, name: str
) -> None:
    port = free_port()
    uri, image, expected = models.first
    created = deployments.create(name, uri, port, image=image)
    assert created.name == name
    assert created.url == f"http://127.0.0.1:{port}"
    assert (created.port, created.model_uri, created.image) == (port, uri, image)
    assert np.array_equal(_predict(created.url, models.rows), expected)

    # The model container is on the deployment's (internal) network only, nothing published.
    model = docker_client.containers.get(created.container_id)
    assert list(model.attrs["NetworkSettings"]["Networks"]) == [created.network]
    assert not any(model.attrs["NetworkSettings"]["Ports"].values())
    proxy = docker_client.containers.get(created.proxy_container_id)
    bindings = proxy.attrs["HostConfig"]["PortBindings"]["8080/tcp"]
    assert bindings == [{"HostIp": "127.0.0.1", "HostPort": str(port)}]
    assert docker_client.networks.get(created.network).attrs["Internal"] is True

    # State is read back from Docker alone, by a fresh object.
    fresh = DockerDeployments(docker_client)
    got = fresh.get(name)
    assert (got.container_id, got.proxy_container_id, got.image) == (
        created.container_id,
        created.proxy_container_id,
        image,
    )
    assert name in [d.name for d in fresh.list()]
    with pytest.raises(AlreadyExists, match="already exists"):
        deployments.create(name, uri, free_port(), image=image)

    runner = CliRunner()
    result = runner.invoke(app, ["deployments", "get", "-t", "docker", "--name", name])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["container_id"] == created.container_id
    result = runner.invoke(app, ["deployments", "list", "-t", "docker"])
    assert result.exit_code == 0, result.output
    assert name in result.output

    result = runner.invoke(app, ["deployments", "delete", "-t", "docker", "--name", name])
    assert result.exit_code == 0, result.output
    with pytest.raises(NotFound, match="No Docker deployment"):
        deployments.get(name)
    assert not docker_client.containers.list(
        all=True, filters={"label": f"io.mlflowx.deployment={name}"}
    )
    assert not docker_client.networks.list(names=[created.network])
    docker_client.images.get(image)  # images are kept


def test_create_with_a_model_that_cannot_load_leaves_nothing(
    deployments: DockerDeployments, docker_client: Any, models: Models, name: str
) -> None:
    uri, image = models.broken
    with pytest.raises(DeploymentError, match="failed to load"):
        deployments.create(name, uri, free_port(), image=image, health_timeout=240)
    assert not docker_client.containers.list(
        all=True, filters={"label": f"io.mlflowx.deployment={name}"}
    )
    assert not docker_client.networks.list(names=[f"mlflowx-{name}"])


@dataclass
class Traffic:
    """A client thread that sends requests without pause and counts every outcome."""

    url: str
    rows: Any
    ok: int = 0
    failures: list[str] = field(default_factory=list)
    seen: list[tuple[float, tuple[int, ...]]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        body = payload(self.rows)
        with httpx.Client(timeout=60) as client:
            while not self.stop.is_set():
                try:
                    response = client.post(f"{self.url}/invocations", json=body)
                except httpx.HTTPError as exc:
                    self.failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                if response.status_code != 200:
                    self.failures.append(f"{response.status_code}: {response.text[:200]}")
                    continue
                self.ok += 1
                answer = tuple(response.json()["predictions"])
                if not self.seen or self.seen[-1][1] != answer:
                    self.seen.append((time.monotonic(), answer))


def test_rollouts_under_continuous_traffic_lose_no_request(
    deployments: DockerDeployments, docker_client: Any, models: Models, name: str
) -> None:
    first_uri, first_image, first_expected = models.first
    second_uri, second_image, second_expected = models.second
    created = deployments.create(name, first_uri, free_port(), image=first_image)
    traffic = Traffic(created.url, models.rows)
    thread = threading.Thread(target=traffic.run, daemon=True)
    thread.start()
    try:
        while traffic.ok < 20 and not traffic.failures:
            time.sleep(0.1)

        # A rollout: the new container becomes healthy, the proxy switches, the old one stops.
        updated = deployments.update(name, second_uri, image=second_image)
        rolled_out_at = time.monotonic()
        assert updated.image == second_image
        assert updated.model_uri == second_uri
        assert updated.container_id != created.container_id
        with pytest.raises(docker.errors.NotFound, match="No such container"):
            docker_client.containers.get(created.container_id)
        after_rollout = traffic.ok
        while traffic.ok < after_rollout + 20 and not traffic.failures:
            time.sleep(0.1)

        # A failed rollout: the new container never becomes healthy, so it is removed and the
        # second model keeps serving.
        broken_uri, broken_image = models.broken
        with pytest.raises(DeploymentError, match="keeps serving"):
            deployments.update(name, broken_uri, image=broken_image, health_timeout=240)
        kept = deployments.get(name)
        assert (kept.container_id, kept.image) == (updated.container_id, second_image)
        models_left = docker_client.containers.list(
            all=True, filters={"label": [f"io.mlflowx.deployment={name}", "io.mlflowx.role=model"]}
        )
        assert [c.id for c in models_left] == [updated.container_id]
        after_failure = traffic.ok
        while traffic.ok < after_failure + 20 and not traffic.failures:
            time.sleep(0.1)
    finally:
        traffic.stop.set()
        thread.join(timeout=120)

    assert traffic.failures == []
    first, second = tuple(first_expected), tuple(second_expected)
    # Every answer came from one of the two models. While nginx reloads, old and new workers both
    # accept for a moment, so answers may alternate inside the rollout; once `update` has
    # returned (old workers gone, old container stopped), and through the failed rollout, only the
    # second model answers.
    assert {answer for _, answer in traffic.seen} == {first, second}
    assert traffic.seen[0][1] == first
    assert [a for t, a in traffic.seen if t > rolled_out_at] in ([], [second])
    assert traffic.seen[-1][1] == second
    assert np.array_equal(_predict(created.url, models.rows), second_expected)
    print(f"\n{traffic.ok} requests through two rollouts, 0 failed")
