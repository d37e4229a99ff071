"""The image a Docker work pool runs a project's flow in: Prefect, mlflowx and the project.

Built with the Docker SDK's legacy builder (no BuildKit, no registry) from the local base image.
Dependencies come from a wheelhouse downloaded once on this machine for the image's platform
(``project-wheelhouse`` in the image builds' one cache, ``$MLFLOWX_DOCKER_CACHE``), so the build
itself is offline.
The project is copied to the same absolute path it has here, so the deployment's working
directory and entrypoint are the same on the host and in the container; mlflowx is copied from
the running installation. The tracking store must be reachable: :func:`docker_job_variables`
mounts a SQLite store's folder at the same path; the worker uses the host network for a
127.0.0.1 Prefect API.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mlflowx.exceptions import InvalidParameter, InvalidState
from mlflowx.projects.envs import _mlflowx_package_dir, mlflowx_requirements

__all__ = [
    "build_project_image",
    "docker_job_variables",
    "image_requirements",
    "names_registry",
    "push_image",
]

#: redis (a Prefect dependency) needs it on Python < 3.11.3; pip evaluates that marker against
#: the host interpreter when downloading, so it is asked for explicitly.
_MARKER_GAPS = ["async-timeout>=4.0.3"]


def image_requirements(extra: list[str] | None = None) -> list[str]:
    from importlib.metadata import version

    return [f"prefect=={version('prefect')}", *mlflowx_requirements(), *(extra or [])]


def _wheelhouse(requirements: list[str]) -> Path:
    from mlflowx.serving.docker._common import cache_root

    folder = cache_root() / "project-wheelhouse"
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256("\n".join(sorted(requirements)).encode()).hexdigest()[:16]
    marker = folder / f".done-{digest}"
    if marker.exists():
        return folder
    cmd = [
        sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(folder),
        "--only-binary=:all:", "--implementation", "cp", "--python-version", "3.11",
        "--platform", "manylinux_2_36_x86_64", "--platform", "manylinux2014_x86_64",
        "--platform", "linux_x86_64", "--platform", "any",
        *requirements, *_MARKER_GAPS,
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise InvalidState(f"Downloading the image's wheels failed:\n{done.stderr[-2000:]}")
    marker.write_text("\n".join(requirements))
    return folder


def _dockerfile(base: str, requirements: list[str], project_path: str) -> str:
    reqs = " ".join(f'"{r}"' for r in [*requirements, *_MARKER_GAPS])
    return f"""FROM {base} AS build
COPY wheelhouse /wheelhouse
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir --no-index \\
    --disable-pip-version-check --find-links /wheelhouse {reqs}
FROM {base}
COPY --from=build /opt/venv /opt/venv
COPY mlflowx /opt/mlflowx-src/mlflowx
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/opt/mlflowx-src PREFECT_HOME=/tmp/prefect \\
    DO_NOT_TRACK=1 PYTHONDONTWRITEBYTECODE=1
COPY project {project_path}
WORKDIR {project_path}
"""


def _context(dockerfile: str, wheelhouse: Path, project_dir: Path) -> io.BytesIO:
    buffer = io.BytesIO()
    skip = ("__pycache__", ".git", ".mlflowx-ready")

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        return None if any(part in skip for part in Path(info.name).parts) else info

    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        for wheel in sorted(wheelhouse.glob("*.whl")):
            tar.add(wheel, f"wheelhouse/{wheel.name}")
        tar.add(_mlflowx_package_dir(), "mlflowx", filter=keep)
        tar.add(project_dir, "project", filter=keep)
    buffer.seek(0)
    return buffer


def build_project_image(
    project: Any, tag: str | None = None, base: str | None = None, client: Any = None
) -> str:
    """Build (or reuse) the image for ``project`` on ``base`` (default:
    :func:`mlflowx.settings.base_image`) and return its tag (never ``latest``)."""
    import docker

    from mlflowx.serving.docker._common import ensure_base_image, resolve_base_image

    client = client or docker.from_env()
    base = resolve_base_image(base)
    ensure_base_image(client, base)  # present, or a clear error saying how to make one
    extra = list(project.python_env().dependencies) if project.spec.python_env else []
    requirements = image_requirements(extra)
    wheelhouse = _wheelhouse(requirements)
    dockerfile = _dockerfile(base, requirements, str(project.directory))
    context = _context(dockerfile, wheelhouse, project.directory)
    digest = hashlib.sha256(context.getvalue()).hexdigest()[:12]
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in project.name.lower())
    tag = tag or f"mlflowx-project-{name}:{digest}"
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    try:
        client.images.build(
            fileobj=context, custom_context=True, tag=tag, pull=False, rm=True, forcerm=True
        )
    except docker.errors.BuildError as exc:
        log = "".join(str(chunk.get("stream", "")) for chunk in exc.build_log)
        raise InvalidState(f"Building {tag} failed: {exc.msg}\n{log[-3000:]}") from None
    return tag


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

    client = client or docker.from_env()
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
