"""An XGBoost model's image: built offline, it serves the model's predictions and carries only
that model's framework (the CPU build of XGBoost, no NVIDIA libraries, no LightGBM)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from mlflowx.serving.docker import BuiltImage, build_model_image
from tests.fixtures.server import free_port
from tests.serving.test_docker_helpers import (
    CACHE_DIR,
    GROUP,
    payload,
    remove_images,
    unique,
    wait_healthy,
)

pytestmark = pytest.mark.xdist_group(GROUP)


@pytest.fixture(scope="module")
def xgb_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Any]:
    import xgboost as xgb
    from sklearn.datasets import load_iris

    import mlflowx.xgboost

    X, y = load_iris(return_X_y=True, as_frame=True)
    model = xgb.XGBClassifier(n_estimators=10, max_depth=3).fit(X, y)
    path = tmp_path_factory.mktemp("xgb-image") / "model"
    mlflowx.xgboost.save_model(model, path, input_example=X.head(3))
    return path, X, model


@pytest.fixture(scope="module")
def xgb_image(
    docker_client: Any, base_image: str, xgb_dir: tuple[Path, Any, Any]
) -> Iterator[BuiltImage]:
    name = f"{unique('mlflowx-test-xgb-')}:1"
    started = time.monotonic()
    built = build_model_image(
        str(xgb_dir[0]), name, base_image=base_image, network=False, client=docker_client,
        cache_dir=CACHE_DIR,
    )  # fmt: skip
    print(f"\nbuilt {name} offline in {time.monotonic() - started:.0f} s, "
          f"{built.size_bytes / 1e6:.0f} MB")  # fmt: skip
    yield built
    remove_images(docker_client, name)


def test_xgboost_image_serves_its_model(
    docker_client: Any, xgb_image: BuiltImage, xgb_dir: tuple[Path, Any, Any]
) -> None:
    _, X, model = xgb_dir
    port = free_port()
    container = docker_client.containers.run(
        xgb_image.name, detach=True, ports={"8080/tcp": ("127.0.0.1", port)},
        name=unique("mlflowx-test-xgb-run-"),
    )  # fmt: skip
    try:
        wait_healthy(container)
        rows = X.sample(20, random_state=0)
        response = httpx.post(f"http://127.0.0.1:{port}/invocations", json=payload(rows))
        assert response.status_code == 200, response.text
        assert np.array_equal(response.json()["predictions"], model.predict(rows))
    finally:
        container.remove(force=True)


def test_xgboost_image_carries_only_its_framework(
    docker_client: Any, xgb_image: BuiltImage
) -> None:
    check = (
        "import importlib.util as u, importlib.metadata as md; "
        "names = {d.metadata['Name'].lower() for d in md.distributions()}; "
        "print(bool(u.find_spec('xgboost')), 'xgboost-cpu' in names, "
        "sorted(n for n in names if n.startswith('nvidia') or n in "
        "('xgboost', 'lightgbm', 'torch', 'prefect', 'mlflow')))"
    )
    out = docker_client.containers.run(
        xgb_image.name, ["python3", "-c", check], remove=True, network_mode="none"
    )
    assert out.decode().strip() == "True True []"
