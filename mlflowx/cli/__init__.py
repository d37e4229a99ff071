"""The ``mlflowx`` command: a Typer root with one sub-app per command group."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mlflowx.cli import (
    artifacts,
    auth,
    db,
    deployments,
    doctor,
    experiments,
    gc,
    models,
    pipelines,
    projects,
    runs,
    server,
)
from mlflowx.exceptions import MlflowxError

__all__ = ["app", "main"]

app = typer.Typer(
    name="mlflowx",
    help="mlflowx: MLflow-compatible tracking, models and pipelines on Prefect.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(artifacts.app, name="artifacts")
app.add_typer(auth.app, name="auth")
app.add_typer(db.app, name="db")
app.add_typer(experiments.app, name="experiments")
app.add_typer(runs.app, name="runs")
app.command("doctor")(doctor.doctor)
app.command("gc")(gc.gc)
app.command("server")(server.server)
app.command(
    "ui",
    help="The tracking server with the web UI on the embedded defaults (SQLite and local "
    "artifacts under $MLFLOWX_HOME or ., http://127.0.0.1:5000). Takes the options of "
    "`mlflowx server`.",
)(server.server)
app.add_typer(models.app, name="models")
app.add_typer(deployments.app, name="deployments")
app.add_typer(pipelines.app, name="pipelines")
app.add_typer(projects.app, name="projects")
projects.register(app)


def _print_version(value: bool) -> None:
    if value:
        from mlflowx import __version__

        typer.echo(f"mlflowx {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the mlflowx version and exit.",
        ),
    ] = False,
) -> None:
    """mlflowx: MLflow-compatible tracking, models and pipelines on Prefect."""


@app.command("version")
def version() -> None:
    """Print the mlflowx version."""
    from mlflowx import __version__

    typer.echo(__version__)


def main(argv: list[str] | None = None) -> None:
    """The ``mlflowx`` command. Usage mistakes (an unknown command or option, a missing or bad
    argument) print the usage and a one-line error and exit 2, as click does; mlflowx errors
    print ``Error: ...`` and exit with their type's code; a command's own exit code (e.g. a
    failed ``mlflowx run``) is the process's."""
    try:
        app(args=argv, prog_name="mlflowx")  # standalone: click answers usage errors
    except MlflowxError as exc:
        typer.echo(f"Error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
