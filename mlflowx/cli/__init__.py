"""The ``mlflowx`` command: a Typer root with one sub-app per command group."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
import typer.main
from typer import _click as click
from typer.core import TyperArgument, TyperOption

from mlflowx.cli import (
    artifacts,
    auth,
    db,
    deployments,
    doctor,
    experiments,
    gc,
    importer,
    models,
    pipelines,
    projects,
    runs,
    server,
)
from mlflowx.exceptions import MlflowxError

__all__ = ["app", "command", "main"]

app = typer.Typer(
    name="mlflowx",
    help="mlflowx: MLflow-compatible tracking, models and pipelines on Prefect.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Wide enough that option names and their help are never cut (inherited by every command).
    context_settings={"max_content_width": 120},
)
app.add_typer(artifacts.app, name="artifacts")
app.add_typer(auth.app, name="auth")
app.add_typer(db.app, name="db")
app.add_typer(experiments.app, name="experiments")
app.add_typer(runs.app, name="runs")
app.command("doctor")(doctor.doctor)
app.command("gc")(gc.gc)
app.command("import")(importer.import_command)
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


class _PlainArgument(TyperArgument):
    """An argument shown as click shows it: ``NAME`` in the usage line and in the list, not
    Typer's ``{name}`` and ``name <str>``."""

    def display_type_rich(self, ctx: click.Context) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name + ("..." if self.nargs != 1 else "")


_CLICK_TYPE_NAMES = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "bool": "BOOLEAN"}


def _metavar(param: TyperOption, ctx: click.Context) -> str:
    """Click's name for an option's value (TEXT, INTEGER, [a|b]), as MLflow's help shows it."""
    label = param.display_type(ctx).strip("<>")
    if label.startswith("list[") and label.endswith("]"):
        label = label[5:-1]
    if param.type_descriptor.is_choice:
        return f"[{label}]"
    return _CLICK_TYPE_NAMES.get(label, label.upper())


def _plain_help(command: click.Command, ctx: click.Context) -> None:
    """Click's own help layout for every command: whole option names and click's type names,
    instead of Typer's rich panels (which cut option names at 80 columns and tag each option
    ``<str>``)."""
    if hasattr(command, "rich_markup_mode"):
        command.rich_markup_mode = None
    for param in command.params:
        if isinstance(param, TyperOption) and not param.is_flag and param.metavar is None:
            param.metavar = _metavar(param, ctx)
        elif isinstance(param, TyperArgument) and param.metavar is None and param.name:
            param.metavar = param.name.upper()
            param.__class__ = _PlainArgument
    for sub in getattr(command, "commands", {}).values():
        _plain_help(sub, ctx)


def command() -> click.Command:
    """The click command behind :data:`app`, with plain help."""
    root = typer.main.get_command(app)
    _plain_help(root, click.Context(root))
    return root


def main(argv: list[str] | None = None) -> None:
    """The ``mlflowx`` command. Usage mistakes (an unknown command or option, a missing or bad
    argument) print the usage and a one-line error and exit 2, as click does; mlflowx errors
    print ``Error: ...`` and exit with their type's code; a command's own exit code (e.g. a
    failed ``mlflowx run``) is the process's."""
    try:
        command().main(args=argv, prog_name="mlflowx")  # standalone: click answers usage errors
    except MlflowxError as exc:
        typer.echo(f"Error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
