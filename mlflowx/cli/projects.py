"""``mlflowx run`` and ``mlflowx projects``: MLproject files as Prefect flows."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from mlflowx.cli._options import TrackingUri

app = typer.Typer(help="Run and deploy MLproject projects.", no_args_is_help=True)

Entry = Annotated[str, typer.Option("--entry-point", "-e", help="Entry point name or script.")]
Params = Annotated[
    list[str] | None,
    typer.Option("--param-list", "-P", help="A parameter as KEY=VALUE (repeatable)."),
]
Version = Annotated[
    str | None, typer.Option("--version", "-v", help="Git branch, tag or commit of the project.")
]
EnvManager = Annotated[
    str | None,
    typer.Option(
        "--env-manager",
        help="local, virtualenv, conda or docker (default: from the MLproject).",
        show_default=False,
    ),
]
Experiment = Annotated[str | None, typer.Option("--experiment-name", help="Experiment to log to.")]


def _parse_params(pairs: list[str] | None) -> dict[str, str]:
    from mlflowx.cli._options import key_values

    return key_values(pairs, "-P")


def _use_tracking_uri(tracking_uri: str | None) -> None:
    if tracking_uri:
        import mlflowx

        mlflowx.set_tracking_uri(tracking_uri)


def run(
    uri: Annotated[str, typer.Argument(help="Project folder or git URL (#subdirectory allowed).")],
    entry_point: Entry = "main",
    param_list: Params = None,
    version: Version = None,
    env_manager: EnvManager = None,
    backend: Annotated[str, typer.Option("--backend", "-b", help="local or prefect.")] = "local",
    work_pool: Annotated[
        str | None, typer.Option("--work-pool", help="Prefect work pool (--backend prefect).")
    ] = None,
    backend_config: Annotated[
        str | None,
        typer.Option(
            "--backend-config",
            "-c",
            help="JSON string or .json file: the prefect backend's work_pool, image, registry "
            "and job_variables.",
        ),
    ] = None,
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            help="Push the project image to this registry (host:port[/namespace]) so the "
            "work pool's workers pull it (--backend prefect).",
        ),
    ] = None,
    experiment_name: Experiment = None,
    experiment_id: Annotated[str | None, typer.Option("--experiment-id")] = None,
    run_name: Annotated[str | None, typer.Option("--run-name")] = None,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Return once the run is submitted.")
    ] = False,
    tracking_uri: TrackingUri = None,
) -> None:
    """Run an MLproject entry point as a Prefect flow, locally or on a work pool."""
    from mlflowx.projects import ProjectRunFailed
    from mlflowx.projects import run as run_project

    _use_tracking_uri(tracking_uri)
    try:
        submitted = run_project(
            uri, entry_point, version=version, parameters=_parse_params(param_list),
            experiment_name=experiment_name, experiment_id=experiment_id, backend=backend,
            env_manager=env_manager, synchronous=not no_wait, run_name=run_name,
            work_pool=work_pool, backend_config=backend_config, registry=registry,
        )  # fmt: skip
    except ProjectRunFailed as exc:
        typer.echo(f"Error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    status = "submitted" if no_wait else submitted.get_status().lower()
    typer.echo(f"Run {submitted.run_id} {status}")


def register(root: typer.Typer) -> None:
    """Add the top-level ``mlflowx run`` command."""
    root.command("run")(run)


@app.command("show")
def show(uri: str, version: Version = None) -> None:
    """Print a project's entry points, parameters and environment as JSON."""
    from mlflowx.projects import load

    project = load(uri, version)
    out = {
        "name": project.name,
        "directory": str(project.directory),
        "env_manager": project.default_env_manager(),
        "commit": project.source.commit,
        "entry_points": {
            name: {
                "command": ep.command,
                "parameters": {k: p.model_dump() for k, p in ep.parameters.items()},
            }
            for name, ep in project.entry_points.items()
        },
    }
    typer.echo(json.dumps(out, indent=2))


@app.command("deploy")
def deploy(
    uri: str,
    work_pool: Annotated[str, typer.Option("--work-pool", help="Prefect work pool.")],
    entry_point: Entry = "main",
    name: Annotated[str | None, typer.Option("--name", help="Deployment name.")] = None,
    cron: Annotated[str | None, typer.Option("--cron", help='Schedule, e.g. "0 3 * * *".')] = None,
    timezone: Annotated[str, typer.Option("--timezone")] = "UTC",
    param_list: Params = None,
    version: Version = None,
    env_manager: EnvManager = None,
    experiment_name: Experiment = None,
    image: Annotated[
        str | None, typer.Option("--image", help="Image for a docker pool (default: built).")
    ] = None,
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            help="Push the image to this registry (host:port[/namespace]) for remote workers.",
        ),
    ] = None,
    push: Annotated[
        bool, typer.Option("--push", help="Push --image (it names its registry) for workers.")
    ] = False,
    tracking_uri: TrackingUri = None,
) -> None:
    """Create or update a (scheduled) Prefect deployment of a project's entry point."""
    from mlflowx.projects import deploy as deploy_project

    _use_tracking_uri(tracking_uri)
    deployment_id = deploy_project(
        uri, entry_point, work_pool=work_pool, name=name, version=version, cron=cron,
        timezone=timezone, parameters=_parse_params(param_list) or None,
        env_manager=env_manager, experiment_name=experiment_name, image=image, push=push,
        registry=registry,
    )  # fmt: skip
    typer.echo(f"Deployment {deployment_id}")
