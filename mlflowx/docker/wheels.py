"""The wheels an image installs: mlflowx built from its source tree, and an offline wheelhouse.

The wheelhouse is made by ``pip wheel`` *inside the base image* (so environment markers are
resolved for the image's Python, not the host's), with the host's CA bundle and local wheel
directories mounted read-only. It lives in the image builds' one cache
(``$MLFLOWX_DOCKER_CACHE/wheelhouse/<key>``), keyed by the digest of what decides its content:
the base image id, the requirement lines, the constraints and mlflowx's own requirements.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlflowx.docker.client import Progress, cache_root, ensure_base_image, progress_or_noop
from mlflowx.docker.find_links import host_find_links
from mlflowx.exceptions import ImageBuildError, InvalidState

__all__ = ["HOST_CA_BUNDLE", "mlflowx_wheel", "source_tree", "wheelhouse", "wheelhouse_key"]

HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
_PASSED_ON = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL")


def source_tree() -> Path:
    """The checkout the running mlflowx is imported from (the folder holding pyproject.toml)."""
    root = Path(__file__).resolve().parents[2]  # <root>/mlflowx/docker/wheels.py
    if not (root / "pyproject.toml").is_file():
        raise InvalidState(
            f"mlflowx is imported from {root}, which is not a source tree (no pyproject.toml); "
            "images need mlflowx as a wheel built from its source, so install mlflowx from "
            "a checkout (pip install -e .) to build images"
        )
    return root


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    files = [root / "pyproject.toml", *sorted((root / "mlflowx").rglob("*"))]
    for path in files:
        if not path.is_file() or "__pycache__" in path.parts or path.suffix in {".pyc", ".pyo"}:
            continue
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


# One wheel per process and cache: the code this process runs is what it imported at start,
# so later edits of the source tree do not change the wheel (nor the images) it ships.
_WHEELS: dict[Path, Path] = {}


def mlflowx_wheel(cache_dir: str | Path | None = None, progress: Progress | None = None) -> Path:
    """A wheel of the running mlflowx, built with ``pip wheel --no-deps`` from its source tree
    (cached by the tree's content, and reused for the rest of the process)."""
    root = source_tree()
    cache = cache_root(cache_dir)
    known = _WHEELS.get(cache)
    if known is not None and known.is_file():
        return known
    target = cache / "wheels" / _tree_digest(root)
    found = sorted(target.glob("mlflowx-*.whl"))
    if found:
        _WHEELS[cache] = found[0]
        return found[0]
    progress_or_noop(progress)("Building the mlflowx wheel")
    with tempfile.TemporaryDirectory(prefix="mlflowx-src-") as tmp:
        # Build from a copy: an in-tree build would write build/ and egg-info into the checkout.
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE", "setup.cfg", "setup.py"):
            if (root / name).is_file():
                shutil.copy2(root / name, src / name)
        shutil.copytree(
            root / "mlflowx", src / "mlflowx", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        out = Path(tmp) / "out"
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheels = sorted(out.glob("mlflowx-*.whl"))
        if done.returncode != 0 or not wheels:
            raise ImageBuildError(
                f"Building the mlflowx wheel from {root} failed: {done.stderr.strip()[-2000:]}"
            )
        target.mkdir(parents=True, exist_ok=True)
        partial = target / f".{wheels[0].name}.{uuid.uuid4().hex[:8]}"
        shutil.copy2(wheels[0], partial)
        os.replace(partial, target / wheels[0].name)  # atomic for concurrent builds
    _WHEELS[cache] = target / wheels[0].name
    return _WHEELS[cache]


def _wheel_requires(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(name).decode()
    return sorted(
        line.split(":", 1)[1].strip()
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    )


def wheelhouse_key(
    base_id: str,
    requirements: Sequence[str],
    wheel: Path | None,
    extras: Sequence[str] = (),
    constraints: Sequence[str] = (),
) -> str:
    """The cache key of a wheelhouse: a digest of everything that decides what it holds."""
    payload = json.dumps(
        {
            "base": base_id,
            "mlflowx": _wheel_requires(wheel) if wheel is not None else None,
            "extras": sorted(extras),
            "requirements": sorted(requirements),
            "constraints": sorted(constraints),
        }
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def _mounts(work: Path) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Volumes and environment of the download container: the work folder, the host's CA
    bundle, its local wheel directories (the CPU build of torch, say) and proxy/index settings."""
    volumes = {str(work): {"bind": "/work", "mode": "rw"}}
    env = {"HOME": "/tmp", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_CACHE_DIR": "1"}
    if HOST_CA_BUNDLE.is_file():
        ca = "/etc/ssl/certs/ca-certificates.crt"
        volumes[str(HOST_CA_BUNDLE)] = {"bind": ca, "mode": "ro"}
        env |= {"PIP_CERT": ca, "SSL_CERT_FILE": ca, "REQUESTS_CA_BUNDLE": ca}
    directories = host_find_links()
    links = [f"/find-links/{i}" for i in range(len(directories))]
    for bind, directory in zip(links, directories, strict=True):
        volumes[str(directory)] = {"bind": bind, "mode": "ro"}
    if links:
        env["PIP_FIND_LINKS"] = " ".join(links)
    for name in _PASSED_ON:
        for variant in (name, name.lower()):
            if os.environ.get(variant):
                env[variant] = os.environ[variant]
    return volumes, env


def _download(
    client: Any, base: Any, base_image: str, work: Path, script: str, progress: Progress | None
) -> None:
    progress_or_noop(progress)(f"Downloading the wheelhouse inside {base_image}")
    volumes, env = _mounts(work)
    user = f"{os.getuid()}:{os.getgid()}" if hasattr(os, "getuid") else None
    container = client.containers.run(
        base.id, ["sh", "-c", script], volumes=volumes, environment=env, user=user, detach=True
    )
    try:
        status = container.wait()
        logs = container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)
    if status.get("StatusCode") != 0:
        raise ImageBuildError(
            f"Downloading the wheelhouse inside {base_image} failed "
            f"(exit {status.get('StatusCode')}):\n{logs.strip()[-3000:]}"
        )


def wheelhouse(
    client: Any,
    base_image: str,
    requirements: Sequence[str],
    wheel: Path | None = None,
    *,
    extras: Sequence[str] = (),
    constraints: Sequence[str] = (),
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """A directory of wheels for ``requirements`` and (with ``wheel``) ``mlflowx[extras]``'s
    dependencies, made by ``pip wheel`` inside ``base_image`` under ``constraints`` and cached
    by :func:`wheelhouse_key`. mlflowx's own wheel is never kept in it: an image installs the
    wheel it is given."""
    base = ensure_base_image(client, base_image, progress)
    root = cache_root(cache_dir) / "wheelhouse"
    target = root / wheelhouse_key(str(base.id), requirements, wheel, extras, constraints)
    if (target / ".complete").is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        (tmp / "requirements.txt").write_text("".join(f"{r}\n" for r in requirements))
        (tmp / "constraints.txt").write_text("".join(f"{c}\n" for c in constraints))
        out = tmp / "wheels"
        out.mkdir()
        # `pip wheel` (not `pip download`) so a dependency published only as an sdist arrives
        # built, and the offline install never needs build tools.
        script = "python3 -m pip wheel -q -w /work/wheels -c /work/constraints.txt"
        script += " -r /work/requirements.txt"
        if wheel is not None:
            (tmp / "src").mkdir()
            shutil.copy2(wheel, tmp / "src" / wheel.name)
            spec = f"[{','.join(extras)}]" if extras else ""
            script += f' "mlflowx{spec} @ file:///work/src/{wheel.name}"'
        _download(client, base, base_image, tmp, script, progress)
        for own in out.glob("mlflowx-*.whl"):
            own.unlink()
        (out / ".complete").write_text(json.dumps({"requirements": list(requirements)}))
        try:
            out.rename(target)
        except OSError:
            if not (target / ".complete").is_file():  # another build won the race, else retry
                shutil.rmtree(target, ignore_errors=True)
                out.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
