"""A PyTorch model's image: torch's CPU build comes from the host's local wheel directory (it is
not on PyPI), the image carries torch but no other flavor's framework, and it serves the same
predictions as the model loaded in-process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import torch

import mlflowx.pyfunc
import mlflowx.pytorch
from mlflowx.serving.docker import BuiltImage, build_model_image
from tests.fixtures.server import free_port
from tests.serving.test_docker_helpers import CACHE_DIR, GROUP, remove_images, unique, wait_healthy

pytestmark = pytest.mark.xdist_group(GROUP)

X = np.random.default_rng(0).random((8, 4), dtype=np.float32)


@pytest.fixture(scope="module")
def torch_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    path = tmp_path_factory.mktemp("torch-image") / "model"
    mlflowx.pytorch.save_model(net, path, input_example=X)
    return path


@pytest.fixture(scope="module")
def torch_image(docker_client: Any, base_image: str, torch_model: Path) -> Iterator[BuiltImage]:
    name = f"{unique('mlflowx-test-torch-')}:1"
    started = time.monotonic()
    built = build_model_image(
        str(torch_model), name, base_image=base_image, network=False, client=docker_client,
        cache_dir=CACHE_DIR,
    )  # fmt: skip
    print(f"\nbuilt {name} in {time.monotonic() - started:.0f} s, {built.size_bytes / 1e6:.0f} MB")
    yield built
    remove_images(docker_client, name)


def test_torch_image_serves_the_same_predictions(
    docker_client: Any, torch_image: BuiltImage, torch_model: Path
) -> None:
    assert "+cpu" in (torch_model / "requirements.txt").read_text()  # not a PyPI version
    port = free_port()
    container = docker_client.containers.run(
        torch_image.name, detach=True, ports={"8080/tcp": ("127.0.0.1", port)},
        name=unique("mlflowx-test-torch-run-"),
    )  # fmt: skip
    try:
        wait_healthy(container)
        response = httpx.post(
            f"http://127.0.0.1:{port}/invocations", json={"inputs": X.tolist()}, timeout=60
        )
        assert response.status_code == 200, response.text
        expected = mlflowx.pyfunc.load_model(torch_model).predict(X)
        np.testing.assert_allclose(response.json()["predictions"], expected, rtol=1e-6)
        script = (
            "import importlib.util as u; "
            "print([m for m in ('torch', 'keras', 'onnxruntime', 'statsmodels', 'xgboost') "
            "if u.find_spec(m)])"
        )
        code, out = container.exec_run(["/opt/mlflowx/bin/python", "-c", script])
        assert code == 0, out
        assert out.decode().strip() == "['torch']"
    finally:
        container.remove(force=True)


def test_host_find_links_keeps_local_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflowx.docker.find_links import host_find_links

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    missing = tmp_path / "missing"
    monkeypatch.setenv("PIP_FIND_LINKS", f"{wheels} file://{wheels} {missing} https://example.org")
    found = host_find_links()
    assert found[0] == wheels.resolve()
    assert found.count(wheels.resolve()) == 1
    assert missing.resolve() not in found
