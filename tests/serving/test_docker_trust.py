"""A model image passes ``--allow-code`` / ``--allow-pickle`` to its server only when the
person building it gave them, and a model that needs them is refused before the build."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from mlflowx.cli import app
from mlflowx.exceptions import UntrustedModel
from tests.fixtures.server import free_port
from tests.serving._scoring import code_model
from tests.serving.test_docker_helpers import (
    CACHE_DIR,
    GROUP,
    remove_images,
    save_iris_model,
    unique,
    wait_healthy,
)

pytestmark = pytest.mark.xdist_group(GROUP)


def test_image_serves_model_code_only_when_built_with_allow_code(
    docker_client: Any, base_image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOWX_DOCKER_CACHE", str(CACHE_DIR))
    monkeypatch.setenv("MLFLOWX_ALLOW_MODEL_CODE", "true")  # the build host's: does not count
    path = code_model(tmp_path, Path("/home/mlflowx/ran"))
    save_iris_model(tmp_path / "iris")  # same requirements: the cached runtime image is reused
    shutil.copy(tmp_path / "iris" / "requirements.txt", path / "requirements.txt")
    name = f"{unique('mlflowx-test-code-')}:1"
    args = ["models", "build-docker", "-m", str(path), "-n", name, "--base-image", base_image]
    refused = CliRunner().invoke(app, args)
    assert isinstance(refused.exception, UntrustedModel), refused.output
    assert "--allow-code" in str(refused.exception)
    assert not docker_client.images.list(name=name)
    port = free_port()
    container = None
    try:
        built = CliRunner().invoke(app, [*args, "--allow-code"])
        assert built.exit_code == 0, built.output
        image = docker_client.images.get(name)
        assert image.labels["io.mlflowx.allow-code"] == "true"
        assert image.labels["io.mlflowx.allow-pickle"] == "false"
        assert image.attrs["Config"]["Cmd"][2].endswith("--allow-code")
        container = docker_client.containers.run(
            name, detach=True, ports={"8080/tcp": ("127.0.0.1", port)},
            name=unique("mlflowx-test-code-run-"),
        )  # fmt: skip
        wait_healthy(container)
        answer = httpx.post(f"http://127.0.0.1:{port}/invocations", json={"inputs": [1, 2]})
        assert answer.json() == {"predictions": [1, 2]}
    finally:
        if container is not None:
            container.remove(force=True)
        remove_images(docker_client, name)
