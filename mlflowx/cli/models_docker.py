"""Commands of ``mlflowx models`` (registered by ``mlflowx.cli.models``): model images."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer

from mlflowx.cli._options import ImageAllowCode, ImageAllowPickle, TrackingUri

ModelUriOpt = Annotated[str, typer.Option("--model-uri", "-m", help="The model to package.")]
BaseImageOpt = Annotated[
    str | None,
    typer.Option(
        "--base-image",
        envvar="MLFLOWX_BASE_IMAGE",
        help="Image to build on (default python:3.11-slim; a local one: `bash infra/base-image.sh` "
        "makes mlflowx-base:py311).",
        show_default=False,
    ),
]


# Steps worth a line of their own (the spinner shows every step while it runs).
_LOGGED = ("Built ", "Pulling ", "Downloading the wheelhouse", "Building the")


@contextlib.contextmanager
def progress_status(title: str) -> Iterator[Callable[[str], None]]:
    """A rich spinner whose text follows the steps of a long operation."""
    from rich.console import Console

    console = Console(stderr=True)
    with console.status(title) as status:

        def update(message: str) -> None:
            if message.startswith(_LOGGED):
                console.log(message)
            status.update(message)

        yield update


def _use_tracking_uri(tracking_uri: str | None) -> None:
    if tracking_uri:
        import mlflowx

        mlflowx.set_tracking_uri(tracking_uri)


def generate_dockerfile(
    model_uri: ModelUriOpt,
    output_directory: Annotated[
        Path, typer.Option("--output-directory", "-d", help="Where the build context goes.")
    ] = Path("mlflowx-dockerfile"),
    base_image: BaseImageOpt = None,
    tracking_uri: TrackingUri = None,
    allow_pickle: ImageAllowPickle = False,
    allow_code: ImageAllowCode = False,
) -> None:
    """Write a Dockerfile and an offline build context (model, mlflowx wheel, wheelhouse) for a
    scoring image; `docker build DIR` then needs no network. The image's server gets
    --allow-pickle / --allow-code only if given here (the environment does not count)."""
    from mlflowx.serving.docker import generate_dockerfile as generate

    _use_tracking_uri(tracking_uri)
    with progress_status("Preparing the build context") as progress:
        path = generate(
            model_uri, output_directory, base_image=base_image, progress=progress,
            allow_pickle=allow_pickle, allow_code=allow_code,
        )  # fmt: skip
    typer.echo(f"Wrote {path} (build with: docker build -t NAME:TAG {path.parent})")


def build_docker(
    model_uri: ModelUriOpt,
    name: Annotated[str, typer.Option("--name", "-n", help="Image NAME:TAG (explicit tag).")],
    base_image: BaseImageOpt = None,
    no_network: Annotated[
        bool,
        typer.Option("--no-network", help="Build with networking disabled inside the build."),
    ] = False,
    tracking_uri: TrackingUri = None,
    allow_pickle: ImageAllowPickle = False,
    allow_code: ImageAllowCode = False,
) -> None:
    """Build a Docker image that serves the model (`mlflowx models serve` on port 8080, non-root,
    with a HEALTHCHECK). The image's server gets --allow-pickle / --allow-code only if given
    here (the environment does not count); a model that needs them is refused otherwise."""
    from mlflowx.serving.docker import build_model_image

    _use_tracking_uri(tracking_uri)
    with progress_status(f"Building {name}") as progress:
        built = build_model_image(
            model_uri, name, base_image=base_image, network=not no_network, progress=progress,
            allow_pickle=allow_pickle, allow_code=allow_code,
        )  # fmt: skip
    typer.echo(f"Built {built.name} ({built.id[:19]}, {built.size_bytes / 1e6:.0f} MB)")
    typer.echo(f"Run it with: docker run --rm -p 127.0.0.1:5001:8080 {built.name}")


def prune_runtime_images(
    base_image: Annotated[
        str | None,
        typer.Option("--base-image", help="Only the runtimes built on this image."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list what would be removed.")
    ] = False,
) -> None:
    """Remove cached runtime images (mlflowx-runtime:*) that no model image is built on,
    keeping the newest."""
    from mlflowx.serving.docker import prune_runtime_images as prune

    removed = prune(base_image=base_image, dry_run=dry_run)
    for tag in removed:
        typer.echo(tag)
    verb = "would be removed" if dry_run else "removed"
    typer.echo(f"{len(removed)} runtime image(s) {verb}", err=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``models`` group."""
    app.command("generate-dockerfile")(generate_dockerfile)
    app.command("build-docker")(build_docker)
    app.command("prune-runtime-images")(prune_runtime_images)
