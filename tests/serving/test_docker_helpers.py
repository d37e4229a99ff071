"""Helpers shared by the Docker image and deployment tests (this module holds no tests).

Models are small scikit-learn classifiers on iris; images are built with the shared wheelhouse
cache (one download per base image and requirement set, kept across test sessions in the temp
directory) so only the first build of a session pays for installing the dependencies.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from pathlib import Path
from typing import Any

import pandas as pd

from tests.fixtures.docker import DOCKER_CACHE

# Kept across sessions: the wheelhouse is keyed by (base image id, requirement set).
CACHE_DIR = DOCKER_CACHE  # one wheel cache for every image test (tests/fixtures/docker.py)
# All Docker tests run on one xdist worker so the images built first are reused.
GROUP = "docker-images"


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def save_iris_model(path: Path, *, shift: int = 0) -> tuple[pd.DataFrame, Any]:
    """A logistic regression on iris; ``shift`` relabels the classes, so two models answer
    differently for the same rows."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import mlflowx.sklearn

    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=1000).fit(X, (y + shift) % 3)
    mlflowx.sklearn.save_model(model, path, input_example=X.head(3))
    return X, model


def save_broken_model(path: Path) -> None:
    """A model directory that the scoring server fails to load (its model file is garbage)."""
    save_iris_model(path)
    (path / "model.skops").write_bytes(b"this is not a skops file")


def payload(X: pd.DataFrame) -> dict[str, Any]:
    return {"dataframe_split": X.to_dict(orient="split")}


def wait_healthy(container: Any, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        container.reload()
        health = (container.attrs["State"].get("Health") or {}).get("Status")
        if health == "healthy":
            return
        if container.status == "exited" or time.monotonic() > deadline:
            logs = container.logs(tail=30).decode(errors="replace")
            raise AssertionError(f"{container.name} not healthy ({health}):\n{logs}")
        time.sleep(0.5)


def remove_images(client: Any, *names: str) -> None:
    for name in names:
        with contextlib.suppress(Exception):
            client.images.remove(name, force=True)
