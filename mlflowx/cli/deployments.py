"""``mlflowx deployments``: models rolled out as serving containers."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer

from mlflowx.cli._options import ImageAllowCode, ImageAllowPickle, TrackingUri
from mlflowx.cli.models_docker import BaseImageOpt, progress_status
from mlflowx.exceptions import InvalidParameter

if TYPE_CHECKING:
    from mlflowx.serving.docker import ModelDeployment

app = typer.Typer(help="Deploy models as serving containers (-t docker).", no_args_is_help=True)

Target = Annotated[
    str, typer.Option("--target", "-t", help="Deployment target (only `docker` for now).")
]
Name = Annotated[str, typer.Option("--name", help="Deployment name.")]
ModelUri = Annotated[str, typer.Option("--model-uri", "-m", help="The model to deploy.")]
Image = Annotated[
    str | None,
    typer.Option("--image", help="Use this built image (NAME:TAG) instead of building one."),
]
HealthTimeout = Annotated[
    float,
    typer.Option("--health-timeout", help="Seconds a new model container has to become healthy."),
]
Workers = Annotated[
    int | None, typer.Option("--workers", "-w", min=1, help="Scoring workers per container.")
]


def _check_target(target: str) -> None:
    if target != "docker":
        raise InvalidParameter(f"Unknown deployment target {target!r}; supported: docker")


def _print(deployment: ModelDeployment) -> None:
    typer.echo(json.dumps(asdict(deployment), indent=2))


def _use_tracking_uri(tracking_uri: str | None) -> None:
    if tracking_uri:
        import mlflowx

        mlflowx.set_tracking_uri(tracking_uri)


@app.command("create")
def create(
    name: Name,
    model_uri: ModelUri,
    port: Annotated[int, typer.Option("--port", "-p", help="Port published on 127.0.0.1.")],
    target: Target = "docker",
    image: Image = None,
    base_image: BaseImageOpt = None,
    health_timeout: HealthTimeout = 180.0,
    workers: Workers = None,
    tracking_uri: TrackingUri = None,
    allow_pickle: ImageAllowPickle = False,
    allow_code: ImageAllowCode = False,
) -> None:
    """Deploy a model: a model container behind a reverse proxy on 127.0.0.1:PORT."""
    from mlflowx.serving.docker import DockerDeployments

    _check_target(target)
    _use_tracking_uri(tracking_uri)
    with progress_status(f"Creating deployment {name}") as progress:
        deployment = DockerDeployments(progress=progress).create(
            name, model_uri, port, image=image, base_image=base_image,
            health_timeout=health_timeout, workers=workers or 1,
            allow_pickle=allow_pickle, allow_code=allow_code,
        )  # fmt: skip
    _print(deployment)


@app.command("update")
def update(
    name: Name,
    model_uri: ModelUri,
    target: Target = "docker",
    image: Image = None,
    base_image: BaseImageOpt = None,
    health_timeout: HealthTimeout = 180.0,
    workers: Workers = None,
    tracking_uri: TrackingUri = None,
    allow_pickle: ImageAllowPickle = False,
    allow_code: ImageAllowCode = False,
) -> None:
    """Roll a deployment out to another model with no downtime (the old container keeps
    serving if the new one does not become healthy)."""
    from mlflowx.serving.docker import DockerDeployments

    _check_target(target)
    _use_tracking_uri(tracking_uri)
    with progress_status(f"Rolling out {name}") as progress:
        deployment = DockerDeployments(progress=progress).update(
            name, model_uri, image=image, base_image=base_image,
            health_timeout=health_timeout, workers=workers,
            allow_pickle=allow_pickle, allow_code=allow_code,
        )  # fmt: skip
    _print(deployment)


@app.command("get")
def get(name: Name, target: Target = "docker") -> None:
    """Describe a deployment (read from Docker)."""
    from mlflowx.serving.docker import DockerDeployments

    _check_target(target)
    _print(DockerDeployments().get(name))


@app.command("list")
def list_(target: Target = "docker") -> None:
    """List deployments."""
    from rich.console import Console
    from rich.table import Table

    from mlflowx.serving.docker import DockerDeployments

    _check_target(target)
    table = Table("name", "url", "model uri", "image", "status")
    for d in DockerDeployments().list():
        table.add_row(d.name, d.url, d.model_uri, d.image, d.status)
    Console().print(table)


@app.command("delete")
def delete(name: Name, target: Target = "docker") -> None:
    """Remove a deployment's containers and network (images are kept)."""
    from mlflowx.serving.docker import DockerDeployments

    _check_target(target)
    DockerDeployments().delete(name)
    typer.echo(f"Deleted deployment {name}")
