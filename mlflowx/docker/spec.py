"""What goes into an image (:class:`ImageSpec`), its Dockerfile text and its build context.

Every mlflowx image has the same shape: a ``deps`` stage installs the wheelhouse into a venv
with ``--no-index`` (no network), the runtime stage copies that venv onto the base image,
installs the mlflowx wheel with ``--no-deps``, sets the environment, copies the caller's files
and says how the container runs. The context holds ``Dockerfile``, ``wheelhouse/``, ``dist/``
and one folder per copied tree.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Copy", "ImageSpec", "Resolved", "context_digest", "render_dockerfile", "stage_context"]

_SKIPPED = ("__pycache__", ".git", ".mlflowx-ready")


@dataclass(frozen=True)
class Copy:
    """A host file or folder ``source`` copied to ``target`` in the image, through the
    context folder ``name``."""

    name: str
    source: Path
    target: str


@dataclass(frozen=True)
class ImageSpec:
    """Everything a caller says about an image; the builder does the rest.

    ``requirements`` are pip requirement lines; ``mlflowx_extras`` is ``None`` for an image
    without mlflowx, else the extras its wheel (built from the source tree) is installed with;
    ``constraints`` pin versions while resolving. ``user`` is a uid the image creates and runs
    as. ``strip_tests`` drops packages' ``tests`` folders; ``pip_check`` verifies the venv.
    """

    base: str
    requirements: tuple[str, ...] = ()
    mlflowx_extras: tuple[str, ...] | None = None
    constraints: tuple[str, ...] = ()
    copies: tuple[Copy, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    venv: str = "/opt/venv"
    user: int | None = None
    workdir: str | None = None
    expose: int | None = None
    healthcheck: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    strip_tests: bool = False
    pip_check: bool = False

    @property
    def installs(self) -> bool:
        """Whether the image has a venv (anything to install)."""
        return bool(self.requirements) or self.mlflowx_extras is not None


@dataclass(frozen=True)
class Resolved:
    """The wheels a spec's build uses: the mlflowx wheel and the wheelhouse folder."""

    wheel: Path | None = None
    wheelhouse: Path | None = None


def _install_part(spec: ImageSpec, wheel_name: str | None) -> str:
    venv = spec.venv
    if not spec.installs:
        return f"FROM {spec.base}\n"
    strip = (
        f" \\\n && find {venv}/lib -depth -type d -name tests "
        "-path '*/site-packages/*/tests' -exec rm -rf {} +"
        if spec.strip_tests
        else ""
    )
    text = f"""\
# Stage 1: the dependencies (every wheel of the wheelhouse), cached while they do not change.
FROM {spec.base} AS deps
COPY wheelhouse/ /tmp/wheelhouse/
RUN python3 -m venv {venv} \\
 && {venv}/bin/pip install -q --no-cache-dir --no-index --disable-pip-version-check \\
      --find-links /tmp/wheelhouse /tmp/wheelhouse/*.whl{strip}

# Stage 2: the runtime: the venv, mlflowx itself (no dependencies left to fetch).
FROM {spec.base}
"""
    if spec.user is not None:
        uid = spec.user
        text += f"""\
RUN groupadd --system --gid {uid} mlflowx \\
 && useradd --system --uid {uid} --gid {uid} --create-home --home-dir /home/mlflowx \\
      --shell /usr/sbin/nologin mlflowx
"""
    text += f"COPY --from=deps {venv} {venv}\n"
    if wheel_name is not None:
        check = (
            f" \\\n && {venv}/bin/pip check --disable-pip-version-check" if spec.pip_check else ""
        )
        text += f"""\
COPY dist/{wheel_name} /tmp/dist/{wheel_name}
RUN {venv}/bin/pip install -q --no-cache-dir --no-index --no-deps --disable-pip-version-check \\
      /tmp/dist/{wheel_name}{check}
"""
    env = {"PATH": f"{venv}/bin:$PATH", **spec.env}
    text += "ENV " + " \\\n    ".join(f"{k}={v}" for k, v in env.items()) + "\n"
    return text


def _tail_part(spec: ImageSpec) -> str:
    lines = [f"COPY {c.name}/ {c.target}/" for c in spec.copies]
    if spec.user is not None:
        lines.append(f"USER {spec.user}:{spec.user}")
    if spec.workdir is not None:
        lines.append(f"WORKDIR {spec.workdir}")
    if spec.expose is not None:
        lines.append(f"EXPOSE {spec.expose}")
    if spec.healthcheck is not None:
        lines.append(
            "HEALTHCHECK --interval=2s --timeout=5s --start-period=120s --retries=3 \\\n"
            f"  CMD {json.dumps(list(spec.healthcheck))}"
        )
    if spec.cmd is not None:
        lines.append(f"CMD {json.dumps(list(spec.cmd))}")
    return "".join(f"{line}\n" for line in lines)


def render_dockerfile(
    spec: ImageSpec, wheel_name: str | None, *, comment: str = "", part: str = "all"
) -> str:
    """The Dockerfile of ``spec`` (``part``: ``"install"`` for the venv stages only, ``"tail"``
    for the layer on top of an image built from them, ``"all"`` for both)."""
    head = "".join(f"# {line}\n" for line in comment.splitlines())
    if part == "install":
        return head + _install_part(spec, wheel_name)
    if part == "tail":
        return head + f"FROM {spec.base}\n" + _tail_part(spec)
    return head + _install_part(spec, wheel_name) + _tail_part(spec)


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for path in src.iterdir():
        if path.name.startswith("."):
            continue
        try:
            os.link(path, dst / path.name)
        except OSError:
            shutil.copy2(path, dst / path.name)


def stage_context(
    spec: ImageSpec, resolved: Resolved, directory: Path, *, wheels: bool = True, files: bool = True
) -> None:
    """Put the wheels (``dist/``, ``wheelhouse/``) and the copied trees into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    if wheels and resolved.wheel is not None:
        (directory / "dist").mkdir(exist_ok=True)
        shutil.copy2(resolved.wheel, directory / "dist" / resolved.wheel.name)
    if wheels and resolved.wheelhouse is not None:
        _link_or_copy(resolved.wheelhouse, directory / "wheelhouse")
    if not files:
        return
    for copy in spec.copies:
        target = directory / copy.name
        if target.exists():
            continue  # already staged by the caller (a downloaded model, say)
        if copy.source.is_dir():
            shutil.copytree(copy.source, target, ignore=shutil.ignore_patterns(*_SKIPPED))
        else:
            target.mkdir()
            shutil.copy2(copy.source, target / copy.source.name)


def context_digest(dockerfile: str, resolved: Resolved, directory: Path) -> str:
    """A digest of what an image is built from: the Dockerfile, the wheelhouse's key (its
    folder name), the mlflowx wheel's bytes and every copied file (path and bytes)."""
    digest = hashlib.sha256(dockerfile.encode() + b"\0")
    if resolved.wheelhouse is not None:
        digest.update(resolved.wheelhouse.name.encode() + b"\0")
    if resolved.wheel is not None:
        digest.update(resolved.wheel.read_bytes() + b"\0")
    skip = {"Dockerfile", "dist", "wheelhouse"}
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if relative.parts[0] in skip or not path.is_file():
            continue
        digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
