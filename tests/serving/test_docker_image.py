"""Model images: Dockerfile content, an offline (network-disabled) build, the running container
(predictions, non-root user, HEALTHCHECK, no Prefect), the missing-base-image error, the CLI."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from mlflowx.cli import app
from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.serving.docker import BuiltImage, build_model_image, generate_dockerfile
from mlflowx.serving.docker.image import model_requirements, render_dockerfile
from tests.fixtures.server import free_port
from tests.serving.test_docker_helpers import (
    CACHE_DIR,
    GROUP,
    payload,
    remove_images,
    save_iris_model,
    unique,
    wait_healthy,
)

pytestmark = pytest.mark.xdist_group(GROUP)


@pytest.fixture(scope="module")
def iris_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Any]:
    path = tmp_path_factory.mktemp("image") / "iris"
    X, model = save_iris_model(path)
    return path, X, model


@pytest.fixture(scope="module")
def model_image(
    docker_client: Any, base_image: str, iris_dir: tuple[Path, Any, Any]
) -> Iterator[BuiltImage]:
    """One image for the module, built with networking disabled inside the build."""
    name = f"{unique('mlflowx-test-image-')}:1"
    started = time.monotonic()
    built = build_model_image(
        str(iris_dir[0]), name, base_image=base_image, network=False, client=docker_client,
        cache_dir=CACHE_DIR,
    )  # fmt: skip
    print(f"\nbuilt {name} offline in {time.monotonic() - started:.0f} s, "
          f"{built.size_bytes / 1e6:.0f} MB")  # fmt: skip
    yield built
    remove_images(docker_client, name)


@pytest.fixture(scope="module")
def running(docker_client: Any, model_image: BuiltImage) -> Iterator[tuple[Any, str]]:
    port = free_port()
    container = docker_client.containers.run(
        model_image.name, detach=True, ports={"8080/tcp": ("127.0.0.1", port)},
        name=unique("mlflowx-test-run-"),
    )  # fmt: skip
    try:
        wait_healthy(container)
        yield container, f"http://127.0.0.1:{port}"
    finally:
        container.remove(force=True)


def test_dockerfile_installs_offline_and_runs_non_root() -> None:
    text = render_dockerfile("mlflowx-base:py311", "mlflowx-0.1.0-py3-none-any.whl", model_uri="m")
    assert text.count("FROM mlflowx-base:py311") == 2  # deps stage, then the runtime stage
    assert "--no-index" in text
    assert "--find-links /tmp/wheelhouse" in text
    assert "pip install" in text
    assert "--no-deps" in text
    assert "USER 10001:10001" in text
    assert "HEALTHCHECK" in text
    assert "urllib.request" in text
    assert "curl" not in text
    cmd = json.loads(text.split("\nCMD ", 1)[1].splitlines()[0])
    assert cmd[:2] == ["sh", "-c"]
    assert "exec mlflowx models serve -m /opt/ml/model" in cmd[2]
    assert "--host 0.0.0.0" in cmd[2]
    assert "--workers" in cmd[2]


def test_model_requirements_leave_out_mlflow(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "mlflow==3.17.2\nscikit-learn==1.9.1  # pinned\n\n# comment\nmlflowx\nnumpy>=2\n"
    )
    assert model_requirements(tmp_path) == ["scikit-learn==1.9.1", "numpy>=2"]
    (tmp_path / "requirements.txt").write_text("-e ./src\n")
    with pytest.raises(InvalidParameter, match="pip options"):
        model_requirements(tmp_path)


def test_model_requirements_take_xgboost_without_its_gpu_libraries(tmp_path: Path) -> None:
    # MLflow 3.17 writes both names for an XGBoost model; the image installs the CPU build once.
    (tmp_path / "requirements.txt").write_text(
        "xgboost==3.2.0\nxgboost-cpu==3.2.0\nscikit-learn==1.9.1\nXGBoost>=2\n"
    )
    assert model_requirements(tmp_path) == ["xgboost-cpu==3.2.0", "scikit-learn==1.9.1"]


def test_generate_dockerfile_writes_an_offline_context(
    docker_client: Any,
    base_image: str,
    iris_dir: tuple[Path, Any, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "ctx"
    dockerfile = generate_dockerfile(
        str(iris_dir[0]), out, base_image=base_image, client=docker_client, cache_dir=CACHE_DIR
    )
    assert dockerfile == out / "Dockerfile"
    assert f"FROM {base_image} AS deps" in dockerfile.read_text()
    assert (out / "model" / "MLmodel").is_file()
    wheels = {p.name.split("-")[0].lower() for p in (out / "wheelhouse").glob("*.whl")}
    assert {"scikit_learn", "fastapi", "uvicorn", "pandas", "skops"} <= wheels
    assert not wheels & {"prefect", "sqlalchemy", "sqlmodel", "alembic", "mlflow", "mlflowx"}
    assert next(p.name for p in (out / "dist").iterdir()).startswith("mlflowx-")

    # The command writes the same context (the wheelhouse comes from the cache).
    monkeypatch.setenv("MLFLOWX_DOCKER_CACHE", str(CACHE_DIR))
    result = CliRunner().invoke(
        app,
        ["models", "generate-dockerfile", "-m", str(iris_dir[0]), "-d", str(tmp_path / "cli"),
         "--base-image", base_image],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli" / "Dockerfile").read_text() == dockerfile.read_text()
    assert sorted(p.name for p in (tmp_path / "cli" / "wheelhouse").iterdir()) == sorted(
        p.name for p in (out / "wheelhouse").iterdir()
    )


def test_offline_image_serves_correct_predictions(
    running: tuple[Any, str], iris_dir: tuple[Path, Any, Any]
) -> None:
    _, X, model = iris_dir
    rows = X.sample(20, random_state=0)
    response = httpx.post(f"{running[1]}/invocations", json=payload(rows), timeout=30)
    assert response.status_code == 200, response.text
    assert np.array_equal(response.json()["predictions"], model.predict(rows))
    assert httpx.get(f"{running[1]}/health", timeout=10).status_code == 200


def test_container_runs_as_non_root_and_turns_healthy(
    running: tuple[Any, str], model_image: BuiltImage, docker_client: Any
) -> None:
    container, _ = running
    code, out = container.exec_run(["id", "-u"])
    assert code == 0
    assert out.decode().strip() == "10001"
    container.reload()
    assert container.attrs["State"]["Health"]["Status"] == "healthy"
    config = docker_client.images.get(model_image.name).attrs["Config"]
    assert config["User"] == "10001:10001"
    assert config["Healthcheck"]["Test"][:2] == ["CMD", "python3"]
    assert config["Labels"]["io.mlflowx.model-uri"]


def test_image_has_no_prefect_or_sql_stack(docker_client: Any, model_image: BuiltImage) -> None:
    check = (
        "import importlib.util as u; "
        "print([m for m in ('prefect', 'sqlalchemy', 'alembic', 'dask', 'mlflow') "
        "if u.find_spec(m)], bool(u.find_spec('sklearn')), bool(u.find_spec('mlflowx')))"
    )
    out = docker_client.containers.run(
        model_image.name, ["python3", "-c", check], remove=True, network_mode="none"
    )
    assert out.decode().strip() == "[] True True"
    assert model_image.size_bytes > 100e6


def test_missing_base_image_says_how_to_build_one(
    docker_client: Any, iris_dir: tuple[Path, Any, Any]
) -> None:
    absent = f"{unique('mlflowx-absent-')}:py311"
    with pytest.raises(NotFound, match=r"infra/base-image\.sh") as info:
        build_model_image(
            str(iris_dir[0]), "mlflowx-never-built:1", base_image=absent, client=docker_client,
            cache_dir=CACHE_DIR,
        )  # fmt: skip
    assert absent in info.value.message
    assert "--base-image" in info.value.message
    assert "MLFLOWX_BASE_IMAGE" in info.value.message
    with pytest.raises(NotFound, match="latest"):
        build_model_image(
            str(iris_dir[0]), "mlflowx-never-built:1", base_image="mlflowx-absent-base",
            client=docker_client, cache_dir=CACHE_DIR,
        )  # fmt: skip
    with pytest.raises(InvalidParameter, match="explicit tag"):
        build_model_image(str(iris_dir[0]), "no-tag-given", client=docker_client)


def test_cli_build_docker_reuses_the_cache(
    docker_client: Any,
    base_image: str,
    model_image: BuiltImage,
    iris_dir: tuple[Path, Any, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOWX_DOCKER_CACHE", str(CACHE_DIR))
    name = f"{unique('mlflowx-test-cli-')}:2"
    try:
        result = CliRunner().invoke(
            app,
            ["models", "build-docker", "-m", str(iris_dir[0]), "-n", name,
             "--base-image", base_image, "--no-network"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert f"Built {name}" in result.output
        layers = docker_client.images.get(name).attrs["RootFS"]["Layers"]
        base_layers = docker_client.images.get(base_image).attrs["RootFS"]["Layers"]
        # Same wheelhouse: the user and the dependency venv layers come from the build cache.
        shared = set(layers) & set(
            docker_client.images.get(model_image.name).attrs["RootFS"]["Layers"]
        )
        assert len(shared) >= len(base_layers) + 2
    finally:
        remove_images(docker_client, name)
