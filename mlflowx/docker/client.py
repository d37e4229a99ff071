"""The Docker client, base images, progress callbacks and the image builds' one cache folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlflowx import settings
from mlflowx.exceptions import DockerUnavailable, NotFound
from mlflowx.settings import env, home

__all__ = [
    "DEFAULT_BASE_IMAGE",
    "LOCAL_BASE_IMAGE",
    "Progress",
    "cache_root",
    "docker_client",
    "ensure_base_image",
    "progress_or_noop",
    "resolve_base_image",
]

DEFAULT_BASE_IMAGE = settings.DEFAULT_BASE_IMAGE
LOCAL_BASE_IMAGE = "mlflowx-base:py311"
# A callback that receives one line per step ("Building image ...") for progress displays.
Progress = Callable[[str], None]


def _noop(_: str) -> None:
    return None


def progress_or_noop(progress: Progress | None) -> Progress:
    return progress or _noop


def docker_client(client: Any = None) -> Any:
    """``client`` itself, else a client from the environment (``DOCKER_HOST`` ...), pinged."""
    if client is not None:
        return client
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - the docker extra is missing
        raise DockerUnavailable(
            "The docker SDK is not installed; install mlflowx with the docker extra "
            "(pip install 'mlflowx[docker]')"
        ) from exc
    try:
        found = docker.from_env()
        found.ping()
    except Exception as exc:
        raise DockerUnavailable(
            f"Cannot reach the Docker daemon ({exc}). Start it (e.g. `sudo bash infra/docker.sh`) "
            "or point DOCKER_HOST at one."
        ) from exc
    return found


def resolve_base_image(base_image: str | None) -> str:
    """The base image to build on: the argument, else :func:`mlflowx.settings.base_image`."""
    return base_image or settings.base_image()


def _split_tag(ref: str) -> tuple[str, str | None]:
    name, _, digest = ref.partition("@")
    if digest:
        return name, None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1 :]
    return name, None


def ensure_base_image(client: Any, ref: str, progress: Progress | None = None) -> Any:
    """The base image object: local if present, else pulled by its explicit tag.

    ``:latest`` and untagged names are never pulled (they mean "always pull" and hide which
    image a build used). When the image is absent and cannot be pulled, the error says how to
    build a local one.
    """
    import docker.errors

    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        pass
    repo, tag = _split_tag(ref)
    how = (
        f"Build a local Python base image from Debian packages with `bash infra/base-image.sh` "
        f"(it makes {LOCAL_BASE_IMAGE}) and select it with `--base-image {LOCAL_BASE_IMAGE}` or "
        f"MLFLOWX_BASE_IMAGE={LOCAL_BASE_IMAGE}, or name another local image with --base-image."
    )
    if tag is None or tag == "latest":
        raise NotFound(
            f"Base image {ref!r} is not present locally, and mlflowx does not pull untagged or "
            f":latest images (give an explicit tag). {how}"
        )
    progress_or_noop(progress)(f"Pulling base image {ref}")
    try:
        return client.images.pull(repo, tag=tag)
    except docker.errors.DockerException as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotFound(
            f"Base image {ref!r} is not present locally and could not be pulled ({reason}). {how}"
        ) from exc


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """Where wheels and wheelhouses are cached: the argument, ``$MLFLOWX_DOCKER_CACHE``, else
    ``$MLFLOWX_HOME/docker-cache``."""
    chosen = cache_dir or env("MLFLOWX_DOCKER_CACHE") or home() / "docker-cache"
    path = Path(chosen).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path
