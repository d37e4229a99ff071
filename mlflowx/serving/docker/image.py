"""Model images: a build context (model, mlflowx wheel, offline wheelhouse, Dockerfile), built.

The image installs mlflowx with the ``serving`` extra only (no Prefect, no SQL stack) from a
wheelhouse, so the build itself needs no network. The wheelhouse is made by running ``pip wheel``
*inside the base image* (so environment markers are resolved for the image's Python, not the
host's), with the host's CA bundle mounted read-only; it is cached on the host by
(base image id, requirement set).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflowx
from mlflowx.exceptions import InvalidParameter, InvalidState
from mlflowx.serving.docker._common import (
    ImageBuildError,
    Progress,
    cache_root,
    docker_client,
    ensure_base_image,
    progress_or_noop,
    resolve_base_image,
)
from mlflowx.serving.docker._find_links import host_find_links

__all__ = [
    "CONTAINER_PORT",
    "MODEL_DIR",
    "BuiltImage",
    "Trust",
    "build_model_image",
    "generate_dockerfile",
    "mlflowx_wheel",
    "model_requirements",
    "prune_runtime_images",
    "render_dockerfile",
    "wheelhouse",
]

CONTAINER_PORT = 8080
MODEL_DIR = "/opt/ml/model"
VENV = "/opt/mlflowx"
UID = 10001
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
LABEL_PREFIX = "io.mlflowx"
# Never installed from a model's requirements: the scoring image brings mlflowx itself, and the
# official client would drag its whole dependency tree in.
_NOT_INSTALLED = {"mlflow", "mlflow-skinny", "mlflowx"}
#: Requirements an image installs as another distribution of the same module: the image is
#: Linux and scores on CPUs, and `xgboost-cpu` is `xgboost` without ~700 MB of NVIDIA libraries.
_CPU_BUILDS = {"xgboost": "xgboost-cpu"}
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class BuiltImage:
    """A built model image: its tag, id and size."""

    name: str
    id: str
    size_bytes: int


# --- the mlflowx wheel ------------------------------------------------------------------------


def _source_tree() -> Path:
    root = Path(mlflowx.__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file():
        raise InvalidState(
            f"mlflowx is imported from {root}, which is not a source tree (no pyproject.toml); "
            "model images need mlflowx as a wheel built from its source, so install mlflowx from "
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
# so later edits of the source tree do not change the wheel (nor the runtime image) it ships.
_WHEELS: dict[Path, Path] = {}


def mlflowx_wheel(cache_dir: str | Path | None = None, progress: Progress | None = None) -> Path:
    """A wheel of the running mlflowx, built with ``pip wheel --no-deps`` from its source tree
    (cached by the tree's content, and reused for the rest of the process)."""
    root = _source_tree()
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


# --- requirements and the wheelhouse ----------------------------------------------------------


def model_requirements(model_dir: Path) -> list[str]:
    """The model's requirements.txt lines that the image installs: mlflow/mlflowx left out,
    and frameworks with a CPU-only distribution installed as it (``xgboost`` as ``xgboost-cpu``,
    once, though a model saved by MLflow lists both)."""
    path = model_dir / "requirements.txt"
    if not path.is_file():
        return []
    kept: list[str] = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            raise InvalidParameter(
                f"{path}: pip options such as {line.split()[0]!r} are not supported in a "
                "model's requirements for images; list plain requirements"
            )
        match = _REQ_NAME.match(line)
        name = match.group(1).lower().replace("_", "-") if match else ""
        if name in _NOT_INSTALLED:
            continue
        if match and name in _CPU_BUILDS:
            line = _CPU_BUILDS[name] + line[match.end() :]
        kept.append(line)
    seen: set[str] = set()
    unique: list[str] = []
    for line in kept:  # the first line of each distribution wins
        found = _REQ_NAME.match(line)
        key = found.group(1).lower().replace("_", "-") if found else line
        if key not in seen:
            seen.add(key)
            unique.append(line)
    return unique


def _wheel_requires(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(name).decode()
    return sorted(
        line.split(":", 1)[1].strip()
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    )


def _wheelhouse_key(base_id: str, requirements: list[str], wheel: Path) -> str:
    own = _wheel_requires(wheel)
    payload = json.dumps({"base": base_id, "mlflowx": own, "model": sorted(requirements)})
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def wheelhouse(
    client: Any,
    base_image: str,
    requirements: list[str],
    wheel: Path,
    *,
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """A directory of wheels for mlflowx[serving]'s dependencies and ``requirements``, made by
    ``pip wheel`` inside ``base_image`` and cached by (base image id, requirement set)."""
    base = ensure_base_image(client, base_image, progress)
    root = cache_root(cache_dir) / "wheelhouse"
    target = root / _wheelhouse_key(str(base.id), requirements, wheel)
    if (target / ".complete").is_file():
        return target
    progress_or_noop(progress)(f"Downloading the wheelhouse inside {base_image}")
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        (tmp / "requirements.txt").write_text("\n".join(requirements) + "\n")
        src = tmp / "src"
        src.mkdir()
        shutil.copy2(wheel, src / wheel.name)
        out = tmp / "wheels"
        out.mkdir()
        volumes = {str(tmp): {"bind": "/work", "mode": "rw"}}
        env = {"HOME": "/tmp", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_CACHE_DIR": "1"}
        if HOST_CA_BUNDLE.is_file():
            ca = "/etc/ssl/certs/ca-certificates.crt"
            volumes[str(HOST_CA_BUNDLE)] = {"bind": ca, "mode": "ro"}
            env |= {"PIP_CERT": ca, "SSL_CERT_FILE": ca, "REQUESTS_CA_BUNDLE": ca}
        # Wheels only on the host's disk (the CPU build of torch, say) reach the wheelhouse too.
        directories = host_find_links()
        links = [f"/find-links/{i}" for i in range(len(directories))]
        for bind, directory in zip(links, directories, strict=True):
            volumes[str(directory)] = {"bind": bind, "mode": "ro"}
        if links:
            env["PIP_FIND_LINKS"] = " ".join(links)
        for name in (
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "NO_PROXY",
            "PIP_INDEX_URL",
            "PIP_EXTRA_INDEX_URL",
        ):
            for variant in (name, name.lower()):
                if os.environ.get(variant):
                    env[variant] = os.environ[variant]
        # `pip wheel` (not `pip download`) so a dependency published only as an sdist arrives
        # built, and the offline install never needs build tools.
        script = (
            "python3 -m pip wheel -q -w /work/wheels -r /work/requirements.txt "
            f'"mlflowx[serving] @ file:///work/src/{wheel.name}"'
        )
        user = f"{os.getuid()}:{os.getgid()}" if hasattr(os, "getuid") else None
        container = client.containers.run(
            base.id, ["sh", "-c", script], volumes=volumes, environment=env, user=user,
            detach=True,
        )  # fmt: skip
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
        for own in out.glob("mlflowx-*.whl"):
            own.unlink()  # the image installs the wheel it is given, never a cached one
        (out / ".complete").write_text(json.dumps({"requirements": requirements}))
        try:
            out.rename(target)
        except OSError:
            if not (target / ".complete").is_file():  # another build won the race, else retry
                shutil.rmtree(target, ignore_errors=True)
                out.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


# --- the Dockerfile and the build context -----------------------------------------------------


_HEALTH = (
    # Prints the server's 503 body (e.g. {"status": "failed", "error": ...}) into Docker's
    # health log, so a rollout can tell "still loading" from "will never load".
    "import os, sys, urllib.error, urllib.request\n"
    "url = 'http://127.0.0.1:%s/health' % os.environ.get('MLFLOWX_PORT', "
    f"'{CONTAINER_PORT}')\n"
    "try:\n"
    "    urllib.request.urlopen(url, timeout=4)\n"
    "except urllib.error.HTTPError as exc:\n"
    "    print(exc.read().decode(errors='replace')[:2000])\n"
    "    sys.exit(1)\n"
)
_SERVE = (
    f'exec mlflowx models serve -m {MODEL_DIR} --host 0.0.0.0 --port "$MLFLOWX_PORT" '
    '--workers "$MLFLOWX_WORKERS"'
)


@dataclass(frozen=True)
class Trust:
    """What the image's server may load, as the person building it said (never taken from
    the build host's environment: an image runs elsewhere, for other people)."""

    allow_pickle: bool = False
    allow_code: bool = False

    def flags(self) -> str:
        return "".join(
            flag
            for flag, on in (
                (" --allow-pickle", self.allow_pickle),
                (" --allow-code", self.allow_code),
            )
            if on
        )

    def labels(self) -> dict[str, str]:
        return {
            f"{LABEL_PREFIX}.allow-pickle": str(self.allow_pickle).lower(),
            f"{LABEL_PREFIX}.allow-code": str(self.allow_code).lower(),
        }

    def check(self, model_dir: Path, model_uri: str) -> None:
        """Refuse, before anything is built, a model the image's server would refuse to load."""
        from mlflowx.models.load import pyfunc_needs
        from mlflowx.models.paths import check_links
        from mlflowx.models.policy import LoadPolicy

        check_links(model_dir)  # the image gets copies: no host file may ride along
        policy = LoadPolicy(allow_pickle=self.allow_pickle, allow_code=self.allow_code)
        policy.check(pyfunc_needs(model_dir), f"{model_uri} into a serving image")


def _runtime_part(base_image: str, wheel_name: str) -> str:
    """Stages that install mlflowx[serving] and the model's requirements from wheelhouse/ and
    dist/ (no network), ending in the runtime stage with the non-root user."""
    return f"""\
# Stage 1: the dependencies (every wheel of the wheelhouse), cached while they do not change.
FROM {base_image} AS deps
COPY wheelhouse/ /tmp/wheelhouse/
RUN python3 -m venv {VENV} \\
 && {VENV}/bin/pip install -q --no-cache-dir --no-index --disable-pip-version-check \\
      --find-links /tmp/wheelhouse /tmp/wheelhouse/*.whl \\
 && find {VENV}/lib -depth -type d -name tests -path '*/site-packages/*/tests' -exec rm -rf {{}} +

# Stage 2: the runtime: the venv, mlflowx itself (no dependencies left to fetch), a user.
FROM {base_image}
RUN groupadd --system --gid {UID} mlflowx \\
 && useradd --system --uid {UID} --gid {UID} --create-home --home-dir /home/mlflowx \\
      --shell /usr/sbin/nologin mlflowx
COPY --from=deps {VENV} {VENV}
COPY dist/{wheel_name} /tmp/dist/{wheel_name}
RUN {VENV}/bin/pip install -q --no-cache-dir --no-index --no-deps --disable-pip-version-check \\
      /tmp/dist/{wheel_name} \\
 && {VENV}/bin/pip check --disable-pip-version-check
ENV PATH={VENV}/bin:$PATH PYTHONUNBUFFERED=1 MLFLOWX_HOME=/home/mlflowx \\
    MLFLOWX_PORT={CONTAINER_PORT} MLFLOWX_WORKERS=1
"""


def _model_part(trust: Trust) -> str:
    """The model layer and how the container runs: non-root, health-checked, scoring server
    (with ``--allow-pickle`` / ``--allow-code`` only when the builder gave them)."""
    return f"""\
COPY model/ {MODEL_DIR}/
USER {UID}:{UID}
WORKDIR /home/mlflowx
EXPOSE {CONTAINER_PORT}
HEALTHCHECK --interval=2s --timeout=5s --start-period=120s --retries=3 \\
  CMD {json.dumps(["python3", "-c", _HEALTH])}
CMD {json.dumps(["sh", "-c", _SERVE + trust.flags()])}
"""


def render_dockerfile(
    base_image: str, wheel_name: str, *, model_uri: str = "", trust: Trust | None = None
) -> str:
    """The self-contained Dockerfile of a model image (context: model/, dist/, wheelhouse/)."""
    comment = f"# Model: {model_uri}\n" if model_uri else ""
    return (
        f"# Generated by mlflowx {mlflowx.__version__}: a scoring image "
        "(`mlflowx models serve`).\n"
        f"{comment}# Builds offline: everything is installed from wheelhouse/ with --no-index.\n"
        + _runtime_part(base_image, wheel_name)
        + "\n# Stage 3: the model.\n"
        + _model_part(trust or Trust())
    )


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for path in src.iterdir():
        if path.name.startswith("."):
            continue
        try:
            os.link(path, dst / path.name)
        except OSError:
            shutil.copy2(path, dst / path.name)


@dataclass(frozen=True)
class _Inputs:
    wheel: Path
    wheelhouse: Path
    base_id: str


def _stage(inputs: _Inputs, directory: Path) -> None:
    """Put the mlflowx wheel (dist/) and the wheelhouse (wheelhouse/) into a build context."""
    (directory / "dist").mkdir(exist_ok=True)
    shutil.copy2(inputs.wheel, directory / "dist" / inputs.wheel.name)
    _link_or_copy(inputs.wheelhouse, directory / "wheelhouse")


def _prepare(
    client: Any,
    model_uri: str,
    directory: Path,
    base_image: str,
    *,
    cache_dir: str | Path | None,
    progress: Progress | None,
    trust: Trust,
) -> _Inputs:
    """Fetch the model into ``directory/model`` (plus its filtered requirements.txt), check the
    image could load it, and make the mlflowx wheel and the wheelhouse (both cached)."""
    from mlflowx.models.uri import download_model

    say = progress_or_noop(progress)
    base = ensure_base_image(client, base_image, progress)  # fail early, with how to make one
    directory.mkdir(parents=True, exist_ok=True)
    model_dst = directory / "model"
    if model_dst.exists():
        raise InvalidParameter(f"{model_dst} already exists; pick an empty directory")
    say(f"Downloading model {model_uri}")
    with tempfile.TemporaryDirectory(prefix="mlflowx-model-") as tmp:
        local = download_model(model_uri, Path(tmp) / "model")
        if not (local / "MLmodel").is_file():
            raise InvalidParameter(f"{model_uri} is not a model directory (it has no MLmodel file)")
        trust.check(local, model_uri)
        shutil.copytree(local, model_dst)
    requirements = model_requirements(model_dst)
    (directory / "requirements.txt").write_text("".join(f"{r}\n" for r in requirements))
    wheel = mlflowx_wheel(cache_dir, progress)
    house = wheelhouse(
        client, base_image, requirements, wheel, cache_dir=cache_dir, progress=progress
    )
    return _Inputs(wheel=wheel, wheelhouse=house, base_id=str(base.id))


def generate_dockerfile(
    model_uri: str,
    directory: str | Path,
    *,
    base_image: str | None = None,
    client: Any = None,
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
    allow_pickle: bool = False,
    allow_code: bool = False,
) -> Path:
    """Write a complete, offline-buildable context for ``model_uri`` into ``directory``
    (Dockerfile, model/, the mlflowx wheel in dist/, wheelhouse/); returns the Dockerfile path.

    ``docker build DIR`` then builds the scoring image with no network. Making the wheelhouse
    needs Docker (it is downloaded inside the base image). ``allow_pickle`` / ``allow_code``
    let the image's server load a model that unpickles or runs its own code (it is refused,
    here already, otherwise).
    """
    trust = Trust(allow_pickle, allow_code)
    base = resolve_base_image(base_image)
    client = docker_client(client)
    directory = Path(directory)
    inputs = _prepare(
        client, model_uri, directory, base, cache_dir=cache_dir, progress=progress, trust=trust
    )
    _stage(inputs, directory)
    dockerfile = directory / "Dockerfile"
    dockerfile.write_text(
        render_dockerfile(base, inputs.wheel.name, model_uri=model_uri, trust=trust)
    )
    return dockerfile


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


def run_build(
    client: Any,
    context: Path,
    image: str,
    *,
    network: bool,
    labels: dict[str, str],
    progress: Progress | None,
    what: str,
) -> Any:
    """``docker build`` with the legacy builder through the SDK's low-level API, streaming the
    steps to ``progress``; returns the image object."""
    say = progress_or_noop(progress)
    tail: list[str] = []
    image_id = None
    try:
        stream = client.api.build(
            path=str(context),
            tag=image,
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
            labels=labels,
            network_mode=None if network else "none",
        )
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


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def runtime_image(
    client: Any, base_image: str, inputs: _Inputs, progress: Progress | None = None
) -> str:
    """The tag of the runtime image (base + venv with mlflowx[serving] and the model's
    requirements + user) for these inputs, built first when absent.

    It is always built with networking disabled, so any runtime image proves the offline path;
    model images are one layer on top of it, and a second model with the same requirements
    builds in seconds.
    """
    import docker.errors

    key = hashlib.sha256(
        f"{inputs.base_id}|{inputs.wheelhouse.name}|{_file_digest(inputs.wheel)}".encode()
    ).hexdigest()[:16]
    tag = f"mlflowx-runtime:{mlflowx.__version__}-{key}"
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    progress_or_noop(progress)(f"Building the runtime image {tag} (offline)")
    with tempfile.TemporaryDirectory(prefix="mlflowx-runtime-") as tmp:
        ctx = Path(tmp)
        _stage(inputs, ctx)
        (ctx / "Dockerfile").write_text(
            f"# mlflowx {mlflowx.__version__} scoring runtime (no model).\n"
            + _runtime_part(base_image, inputs.wheel.name)
        )
        labels = {f"{LABEL_PREFIX}.role": "runtime", f"{LABEL_PREFIX}.base-image": base_image}
        run_build(
            client, ctx, tag, network=False, labels=labels, progress=progress, what="runtime image"
        )
    return tag


def build_model_image(
    model_uri: str,
    image: str,
    *,
    base_image: str | None = None,
    network: bool = True,
    client: Any = None,
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
    labels: dict[str, str] | None = None,
    allow_pickle: bool = False,
    allow_code: bool = False,
) -> BuiltImage:
    """Build the scoring image ``image`` (NAME:TAG) for ``model_uri``.

    The image is the model layer on a runtime image (see :func:`runtime_image`, always built
    offline). ``network=False`` also runs the model layer's build with networking disabled
    (``network_mode="none"``). The image's server loads the model safely (no pickle, no model
    code) unless ``allow_pickle`` / ``allow_code`` are given here; a model that needs them is
    refused before anything is built.
    """
    trust = Trust(allow_pickle, allow_code)
    check_image_tag(image)
    base = resolve_base_image(base_image)
    client = docker_client(client)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mlflowx-build-") as tmp:
        context = Path(tmp) / f"ctx-{uuid.uuid4().hex[:8]}"
        inputs = _prepare(
            client, model_uri, context, base, cache_dir=cache_dir, progress=progress, trust=trust
        )
        runtime = runtime_image(client, base, inputs, progress)
        (context / "Dockerfile").write_text(
            f"# mlflowx {mlflowx.__version__} scoring image for {model_uri}\n"
            f"FROM {runtime}\n" + _model_part(trust)
        )
        all_labels = {
            f"{LABEL_PREFIX}.role": "model",
            f"{LABEL_PREFIX}.model-uri": model_uri,
            f"{LABEL_PREFIX}.version": mlflowx.__version__,
            f"{LABEL_PREFIX}.base-image": base,
            f"{LABEL_PREFIX}.runtime-image": runtime,
            **trust.labels(),
            **(labels or {}),
        }
        built = run_build(
            client, context, image, network=network, labels=all_labels, progress=progress,
            what="model image",
        )  # fmt: skip
    progress_or_noop(progress)(
        f"Built {image} in {time.monotonic() - started:.0f} s ({built.attrs['Size'] / 1e6:.0f} MB)"
    )
    return BuiltImage(name=image, id=str(built.id), size_bytes=int(built.attrs["Size"]))


def prune_runtime_images(
    client: Any = None, *, base_image: str | None = None, dry_run: bool = False
) -> list[str]:
    """Remove the cached runtime images that no model image is built on, except the newest
    (the next build's cache); ``base_image`` limits it to the runtimes built on that image.

    Runtime images are keyed by their requirements and the mlflowx wheel, so every change of
    either leaves one behind. Model images (your tags) are never removed, nor a runtime one of
    them still names, nor one Docker refuses to remove (a container uses it). Returns the tags
    removed (on a dry run, the tags that would be).
    """
    import docker.errors

    client = docker_client(client)
    label = f"{LABEL_PREFIX}.role=runtime"
    runtimes = client.images.list(filters={"label": label})
    if base_image is not None:
        runtimes = [
            i for i in runtimes if (i.labels or {}).get(f"{LABEL_PREFIX}.base-image") == base_image
        ]
    models = client.images.list(filters={"label": f"{LABEL_PREFIX}.role=model"})
    used = {(m.labels or {}).get(f"{LABEL_PREFIX}.runtime-image") for m in models}
    runtimes.sort(key=lambda i: str(i.attrs.get("Created", "")), reverse=True)
    removed: list[str] = []
    for image in runtimes[1:]:
        tags = list(image.tags) or [image.short_id]
        if used.intersection(tags):
            continue
        if not dry_run:
            try:
                client.images.remove(image.id)
            except docker.errors.APIError:  # in use by a container, or removed meanwhile
                continue
        removed.extend(tags)
    return removed
