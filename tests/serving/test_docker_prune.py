"""Pruning cached runtime images: unused ones go, the newest and those model images name stay."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from mlflowx.serving.docker import prune_runtime_images

BIN = Path(sys.executable).parent


def _image(client: Any, base: str, tag: str, labels: dict[str, str]) -> str:
    """A metadata-only image on ``base`` (seconds to build) with these labels."""
    lines = [f"FROM {base}", *(f'LABEL "{k}"="{v}"' for k, v in labels.items())]
    client.images.build(fileobj=io.BytesIO("\n".join(lines).encode()), tag=tag, rm=True)
    time.sleep(1.1)  # distinct creation times
    return tag


def test_prune_keeps_the_newest_and_the_used_runtimes(docker_client: Any, base_image: str) -> None:
    # A base label of its own: the real runtime images other tests use are never touched.
    scope = f"test-base-{uuid.uuid4().hex[:8]}"
    runtime = {"io.mlflowx.role": "runtime", "io.mlflowx.base-image": scope}
    tags = [f"mlflowx-runtime:test-{scope}-{i}" for i in range(4)]
    model_tag = f"mlflowx-test-model:{scope}"
    try:
        for i, tag in enumerate(tags):  # distinct labels: distinct images, not one cached build
            _image(docker_client, base_image, tag, {**runtime, "test.n": str(i)})
        _image(
            docker_client, base_image, model_tag,
            {"io.mlflowx.role": "model", "io.mlflowx.runtime-image": tags[1]},
        )  # fmt: skip

        assert sorted(prune_runtime_images(docker_client, base_image=scope, dry_run=True)) == [
            tags[0],
            tags[2],
        ]
        assert all(docker_client.images.list(name=t) for t in tags)  # a dry run removes nothing

        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
        done = subprocess.run(
            [str(BIN / "mlflowx"), "models", "prune-runtime-images", "--base-image", scope],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert sorted(done.stdout.split()) == [tags[0], tags[2]]
        left = {t for t in tags if docker_client.images.list(name=t)}
        assert left == {tags[1], tags[3]}  # used by the model image; the newest
        assert docker_client.images.list(name=model_tag)  # model images are never pruned
        assert prune_runtime_images(docker_client, base_image=scope) == []
    finally:
        for tag in [model_tag, *tags]:
            if docker_client.images.list(name=tag):
                docker_client.images.remove(tag, force=True)
