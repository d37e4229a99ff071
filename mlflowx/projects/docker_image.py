"""The image a Docker work pool runs a project's flow in: Prefect, mlflowx and the project.

Built by :mod:`mlflowx.docker` (offline wheelhouse made inside the base image, legacy builder,
named by its content digest). The project is copied to the same absolute path it has here, so
the deployment's working directory and entrypoint are the same on the host and in the
container; mlflowx is installed from a wheel of the running source tree. The tracking store
must be reachable: :func:`docker_job_variables` mounts a SQLite store's folder at the same
path; the worker uses the host network for a 127.0.0.1 Prefect API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mlflowx.docker import (
    Copy,
    ImageSpec,
    build_image,
    docker_client,
    existing_image,
    resolve_base_image,
)
from mlflowx.exceptions import InvalidParameter, InvalidState

__all__ = [
    "build_project_image",
    "docker_job_variables",
    "image_requirements",
    "names_registry",
    "project_spec",
    "push_image",
]


def image_requirements(extra: list[str] | None = None) -> list[str]:
    """Prefect at the host's version, then the project's own requirements (mlflowx comes as
    its wheel, with its core requirements)."""
    from importlib.metadata import version

    return [f"prefect=={version('prefect')}", *(extra or [])]


def project_spec(project: Any, base: str) -> ImageSpec:
    """What a project image holds: Prefect, mlflowx and the project's python_env dependencies,
    and the project at its own absolute path (the working directory)."""
    extra = list(project.python_env().dependencies) if project.spec.python_env else []
    directory = str(project.directory)
    return ImageSpec(
        base=base,
        requirements=tuple(image_requirements(extra)),
        mlflowx_extras=(),
        copies=(Copy("project", Path(directory), directory),),
        env={"PREFECT_HOME": "/tmp/prefect", "DO_NOT_TRACK": "1", "PYTHONDONTWRITEBYTECODE": "1"},
        workdir=directory,
    )


def build_project_image(
    project: Any, tag: str | None = None, base: str | None = None, client: Any = None
) -> str:
    """Build (or reuse) the image for ``project`` on ``base`` (default:
    :func:`mlflowx.settings.base_image`) and return its tag (never ``latest``)."""
    spec = project_spec(project, resolve_base_image(base))
    client = docker_client(client)
    if tag is not None and existing_image(client, tag) is not None:
        return tag
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in project.name.lower())
    return build_image(spec, repository=f"mlflowx-project-{name}", tag=tag, client=client)


def names_registry(image: str) -> bool:
    """Whether ``image``'s first path component is a registry host (``host:port/...``)."""
    first, slash, _ = image.partition("/")
    return bool(slash) and ("." in first or ":" in first or first == "localhost")


def push_image(image: str, registry: str | None = None, client: Any = None) -> str:
    """Push the local ``image`` and return the reference workers pull.

    With ``registry`` (``host[:port][/namespace]``) the image is first tagged
    ``<registry>/<name>:<tag>`` (its tag is the build's content digest, so a reference never
    changes meaning); without it ``image`` must already name a registry.
    """
    import docker

    client = docker_client(client)
    last = image.rsplit("/", 1)[-1]
    repository, tag = image.rsplit(":", 1) if ":" in last else (image, "latest")
    if registry:
        name = repository.rsplit("/", 1)[-1]
        repository = f"{registry.rstrip('/')}/{name}"
    elif not names_registry(image):
        raise InvalidParameter(
            f"Cannot push {image!r}: it names no registry; pass registry='host:port' (CLI: "
            "--registry) or an image named 'host:port/name:tag'"
        )
    reference = f"{repository}:{tag}"
    try:
        local = client.images.get(image)
    except docker.errors.ImageNotFound:
        raise InvalidParameter(f"No local image {image!r} to push; build it first") from None
    local.tag(repository, tag)
    errors = [
        str(line.get("error") or line.get("errorDetail"))
        for line in client.images.push(repository, tag=tag, stream=True, decode=True)
        if "error" in line or "errorDetail" in line
    ]
    if errors:
        raise InvalidState(f"Pushing {reference} failed: {'; '.join(errors)}")
    return reference


def docker_job_variables(
    image: str, tracking_uri: str, pull_policy: str = "Never"
) -> dict[str, Any]:
    """Job variables of a Docker work pool deployment running ``image``.

    ``pull_policy`` is ``Never`` for an image built on the worker's host, ``IfNotPresent`` for a
    pushed one (its tag is a content digest, so a present image is the right one).
    """
    env = {"PREFECT_HOME": "/tmp/prefect", "MLFLOWX_TRACKING_URI": tracking_uri}
    variables: dict[str, Any] = {
        "image": image,
        "image_pull_policy": pull_policy,
        "auto_remove": True,
        "env": env,
    }
    if urlsplit(tracking_uri).scheme == "sqlite":
        folder = str(Path(tracking_uri[len("sqlite:///") :].partition("?")[0]).resolve().parent)
        variables["volumes"] = [f"{folder}:{folder}"]
    return variables
