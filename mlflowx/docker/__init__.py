"""The one Docker image builder: model, project and flow images say what goes in
(:class:`ImageSpec`), :func:`build_image` makes it (offline wheelhouse, content-digest cache,
docker SDK with progress, typed errors)."""

from mlflowx.docker.build import build_image, check_image_tag, existing_image, resolve, run_build
from mlflowx.docker.client import (
    DEFAULT_BASE_IMAGE,
    LOCAL_BASE_IMAGE,
    Progress,
    cache_root,
    docker_client,
    ensure_base_image,
    resolve_base_image,
)
from mlflowx.docker.spec import Copy, ImageSpec, Resolved, render_dockerfile, stage_context
from mlflowx.docker.wheels import mlflowx_wheel, source_tree, wheelhouse

__all__ = [
    "DEFAULT_BASE_IMAGE",
    "LOCAL_BASE_IMAGE",
    "Copy",
    "ImageSpec",
    "Progress",
    "Resolved",
    "build_image",
    "cache_root",
    "check_image_tag",
    "docker_client",
    "ensure_base_image",
    "existing_image",
    "mlflowx_wheel",
    "render_dockerfile",
    "resolve",
    "resolve_base_image",
    "run_build",
    "source_tree",
    "stage_context",
    "wheelhouse",
]
