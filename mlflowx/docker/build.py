"""Building an :class:`~mlflowx.docker.spec.ImageSpec`: wheels, context, ``docker build``.

Builds use the docker SDK's legacy builder (no BuildKit, no registry), stream their steps to a
progress callback and raise :class:`~mlflowx.exceptions.ImageBuildError` with Docker's output.
An image named by its content digest is reused when present.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from mlflowx.docker.client import Progress, docker_client, ensure_base_image, progress_or_noop
from mlflowx.docker.spec import (
    ImageSpec,
    Resolved,
    context_digest,
    render_dockerfile,
    stage_context,
)
from mlflowx.docker.wheels import mlflowx_wheel, wheelhouse
from mlflowx.exceptions import ImageBuildError, InvalidParameter

__all__ = ["build_image", "check_image_tag", "existing_image", "resolve", "run_build"]

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_NAME = re.compile(rf"{_COMPONENT}(?:\.{_COMPONENT})*(?::[0-9]+)?(?:/{_COMPONENT})*")


def check_image_tag(image: str) -> str:
    """``image`` if it is NAME:TAG with an explicit tag other than ``latest``."""
    if ":" not in image.rsplit("/", 1)[-1]:
        raise InvalidParameter(f"Image name {image!r} needs an explicit tag (e.g. {image}:1)")
    name, tag = image.rsplit(":", 1)
    if tag == "latest" or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag):
        raise InvalidParameter(
            f"Image name {image!r} needs an explicit tag other than latest (e.g. {name}:1)"
        )
    if not _IMAGE_NAME.fullmatch(name):
        raise InvalidParameter(
            f"Invalid image name {image!r}: use lowercase letters, digits, '.', '_', '-' and '/'"
        )
    return image


def resolve(
    client: Any,
    spec: ImageSpec,
    *,
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> Resolved:
    """The mlflowx wheel and the wheelhouse ``spec`` installs (both cached)."""
    ensure_base_image(client, spec.base, progress)  # fail early, with how to make one
    if not spec.installs:
        return Resolved()
    wheel = mlflowx_wheel(cache_dir, progress) if spec.mlflowx_extras is not None else None
    house = wheelhouse(
        client, spec.base, spec.requirements, wheel, extras=spec.mlflowx_extras or (),
        constraints=spec.constraints, cache_dir=cache_dir, progress=progress,
    )  # fmt: skip
    return Resolved(wheel=wheel, wheelhouse=house)


def existing_image(client: Any, tag: str) -> Any | None:
    """The local image ``tag``, or ``None``."""
    import docker.errors

    try:
        return client.images.get(tag)
    except docker.errors.ImageNotFound:
        return None


def run_build(
    client: Any,
    context: Path,
    image: str,
    *,
    network: bool = True,
    labels: dict[str, str] | None = None,
    progress: Progress | None = None,
    what: str = "image",
) -> Any:
    """``docker build`` of the folder ``context`` with the legacy builder through the SDK's
    low-level API, streaming the steps to ``progress``; returns the image object."""
    say = progress_or_noop(progress)
    tail: list[str] = []
    image_id = None
    try:
        stream = client.api.build(
            path=str(context), tag=image, rm=True, forcerm=True, pull=False, decode=True,
            labels=labels or {}, network_mode=None if network else "none",
        )  # fmt: skip
        for chunk in stream:
            if "error" in chunk:
                detail = chunk.get("errorDetail", {}).get("message") or chunk["error"]
                raise ImageBuildError(
                    f"Building {what} {image} failed: {detail}\n" + "".join(tail[-30:])
                )
            line = chunk.get("stream")
            if line:
                tail.append(line)
                if line.startswith("Step "):
                    say(f"Building {image}: {line.strip()[:100]}")
            aux = chunk.get("aux")
            if isinstance(aux, dict) and aux.get("ID"):
                image_id = aux["ID"]
    except ImageBuildError:
        raise
    except Exception as exc:  # docker.errors.APIError / BuildError / connection errors
        raise ImageBuildError(f"Building {what} {image} failed: {exc}") from exc
    return client.images.get(image_id or image)


def build_image(
    spec: ImageSpec,
    *,
    repository: str,
    tag: str | None = None,
    tag_prefix: str = "",
    digest_chars: int = 12,
    reuse: bool = True,
    part: str = "all",
    comment: str = "",
    network: bool = True,
    client: Any = None,
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
    resolved: Resolved | None = None,
    what: str = "image",
) -> str:
    """Build ``spec`` (or its ``part``, see :func:`render_dockerfile`) and return the tag.

    Without ``tag`` the image is ``<repository>:<tag_prefix><content digest>`` (its first
    ``digest_chars`` hex digits) and reused when present (unless ``reuse`` is false); with
    ``tag`` it is always built.
    """
    client = docker_client(client)
    resolved = resolved or resolve(client, spec, cache_dir=cache_dir, progress=progress)
    wheel_name = resolved.wheel.name if resolved.wheel is not None else None
    dockerfile = render_dockerfile(spec, wheel_name, comment=comment, part=part)
    with tempfile.TemporaryDirectory(prefix="mlflowx-image-") as tmp:
        context = Path(tmp)
        stage_context(spec, resolved, context, wheels=part != "tail", files=part != "install")
        if tag is None:
            digest = context_digest(dockerfile, resolved, context)
            tag = f"{repository}:{tag_prefix}{digest[:digest_chars]}"
            if reuse and existing_image(client, tag) is not None:
                return tag
        (context / "Dockerfile").write_text(dockerfile)
        run_build(
            client, context, tag, network=network, labels=dict(spec.labels), progress=progress,
            what=what,
        )  # fmt: skip
    return tag
