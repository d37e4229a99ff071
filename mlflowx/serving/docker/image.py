"""Model images: the model, its requirements and mlflowx[serving], built by :mod:`mlflowx.docker`.

The image installs mlflowx with the ``serving`` extra only (no Prefect, no SQL stack) from the
builder's offline wheelhouse. A model image is one layer (the model, the non-root user, the
health check and ``mlflowx models serve``) on a runtime image (the venv), which is cached by
content and always built with networking disabled.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import mlflowx
from mlflowx.docker import (
    Copy,
    ImageSpec,
    Progress,
    Resolved,
    build_image,
    check_image_tag,
    docker_client,
    ensure_base_image,
    resolve,
    resolve_base_image,
    stage_context,
)
from mlflowx.docker import render_dockerfile as render_spec
from mlflowx.docker.client import progress_or_noop
from mlflowx.exceptions import InvalidParameter

__all__ = [
    "CONTAINER_PORT",
    "MODEL_DIR",
    "BuiltImage",
    "Trust",
    "build_model_image",
    "generate_dockerfile",
    "model_requirements",
    "model_spec",
    "prune_runtime_images",
    "render_dockerfile",
    "runtime_image",
]

CONTAINER_PORT = 8080
MODEL_DIR = "/opt/ml/model"
VENV = "/opt/mlflowx"
UID = 10001
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


# --- requirements -----------------------------------------------------------------------------


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


def model_spec(
    base_image: str,
    requirements: list[str],
    model_dir: Path,
    trust: Trust,
    labels: dict[str, str] | None = None,
) -> ImageSpec:
    """What a model image holds: mlflowx[serving] and the model's requirements in a venv, the
    model, a non-root user, a health check and the scoring server."""
    return ImageSpec(
        base=base_image,
        requirements=tuple(requirements),
        mlflowx_extras=("serving",),
        copies=(Copy("model", model_dir, MODEL_DIR),),
        env={
            "PYTHONUNBUFFERED": "1",
            "MLFLOWX_HOME": "/home/mlflowx",
            "MLFLOWX_PORT": str(CONTAINER_PORT),
            "MLFLOWX_WORKERS": "1",
        },
        venv=VENV,
        user=UID,
        workdir="/home/mlflowx",
        expose=CONTAINER_PORT,
        healthcheck=("python3", "-c", _HEALTH),
        cmd=("sh", "-c", _SERVE + trust.flags()),
        labels=labels or {},
        strip_tests=True,
        pip_check=True,
    )


def render_dockerfile(
    base_image: str, wheel_name: str, *, model_uri: str = "", trust: Trust | None = None
) -> str:
    """The self-contained Dockerfile of a model image (context: model/, dist/, wheelhouse/)."""
    spec = model_spec(base_image, [], Path("model"), trust or Trust())
    comment = (
        f"Generated by mlflowx {mlflowx.__version__}: a scoring image (`mlflowx models serve`).\n"
        + (f"Model: {model_uri}\n" if model_uri else "")
        + "Builds offline: everything is installed from wheelhouse/ with --no-index."
    )
    return render_spec(spec, wheel_name, comment=comment)


def _fetch_model(
    model_uri: str, model_dst: Path, trust: Trust, progress: Progress | None
) -> list[str]:
    """Download the model into ``model_dst``, check the image could load it, and return the
    requirements the image installs."""
    from mlflowx.models.uri import download_model

    if model_dst.exists():
        raise InvalidParameter(f"{model_dst} already exists; pick an empty directory")
    progress_or_noop(progress)(f"Downloading model {model_uri}")
    with tempfile.TemporaryDirectory(prefix="mlflowx-model-") as tmp:
        local = download_model(model_uri, Path(tmp) / "model")
        if not (local / "MLmodel").is_file():
            raise InvalidParameter(f"{model_uri} is not a model directory (it has no MLmodel file)")
        trust.check(local, model_uri)
        shutil.copytree(local, model_dst)
    return model_requirements(model_dst)


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
    ensure_base_image(client, base, progress)  # fail early, with how to make one
    directory.mkdir(parents=True, exist_ok=True)
    requirements = _fetch_model(model_uri, directory / "model", trust, progress)
    (directory / "requirements.txt").write_text("".join(f"{r}\n" for r in requirements))
    spec = model_spec(base, requirements, directory / "model", trust)
    resolved = resolve(client, spec, cache_dir=cache_dir, progress=progress)
    stage_context(spec, resolved, directory)
    assert resolved.wheel is not None  # the spec installs mlflowx
    dockerfile = directory / "Dockerfile"
    dockerfile.write_text(
        render_dockerfile(base, resolved.wheel.name, model_uri=model_uri, trust=trust)
    )
    return dockerfile


def runtime_image(
    client: Any, spec: ImageSpec, resolved: Resolved, progress: Progress | None = None
) -> str:
    """The tag of the runtime image (base + venv with mlflowx[serving] and the model's
    requirements + user) of ``spec``, built first when absent.

    It is always built with networking disabled, so any runtime image proves the offline path;
    model images are one layer on top of it, and a second model with the same requirements
    builds in seconds.
    """
    labels = {f"{LABEL_PREFIX}.role": "runtime", f"{LABEL_PREFIX}.base-image": spec.base}
    return build_image(
        replace(spec, labels=labels), repository="mlflowx-runtime",
        tag_prefix=f"{mlflowx.__version__}-", digest_chars=16, part="install",
        comment=f"mlflowx {mlflowx.__version__} scoring runtime (no model).", network=False,
        client=client, resolved=resolved, progress=progress, what="runtime image",
    )  # fmt: skip


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
    ensure_base_image(client, base, progress)  # fail early, with how to make one
    with tempfile.TemporaryDirectory(prefix="mlflowx-build-") as tmp:
        model_dir = Path(tmp) / "model"
        requirements = _fetch_model(model_uri, model_dir, trust, progress)
        spec = model_spec(base, requirements, model_dir, trust)
        resolved = resolve(client, spec, cache_dir=cache_dir, progress=progress)
        runtime = runtime_image(client, spec, resolved, progress)
        all_labels = {
            f"{LABEL_PREFIX}.role": "model",
            f"{LABEL_PREFIX}.model-uri": model_uri,
            f"{LABEL_PREFIX}.version": mlflowx.__version__,
            f"{LABEL_PREFIX}.base-image": base,
            f"{LABEL_PREFIX}.runtime-image": runtime,
            **trust.labels(),
            **(labels or {}),
        }
        build_image(
            replace(spec, base=runtime, labels=all_labels), repository="", tag=image,
            part="tail", comment=f"mlflowx {mlflowx.__version__} scoring image for {model_uri}",
            network=network, client=client, resolved=resolved, progress=progress,
            what="model image",
        )  # fmt: skip
    built = client.images.get(image)
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
