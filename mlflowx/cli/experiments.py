"""``mlflowx experiments``: create, get, search, export, rename, delete and restore
experiments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mlflowx.cli._console import print_table
from mlflowx.cli._options import TrackingUri, client, positional_or_option

app = typer.Typer(help="Create and inspect experiments.", no_args_is_help=True)

View = Annotated[str, typer.Option("--view", "-v", help="active_only, deleted_only or all")]
ExperimentIdArgument = Annotated[str | None, typer.Argument(show_default=False)]
ExperimentIdOption = Annotated[
    str | None,
    typer.Option(
        "--experiment-id", "-x", help="The experiment (MLflow's form).", show_default=False
    ),
]


@app.command("create")
def create(
    name: Annotated[str | None, typer.Argument(show_default=False)] = None,
    experiment_name: Annotated[
        str | None,
        typer.Option(
            "--experiment-name",
            "-n",
            help="The name (or give it as the argument).",
            show_default=False,
        ),
    ] = None,
    artifact_location: Annotated[str | None, typer.Option("--artifact-location", "-l")] = None,
    tracking_uri: TrackingUri = None,
) -> None:
    """Create an experiment and print its id."""
    from typer._click.exceptions import UsageError  # Typer's copy: the one it answers

    if name is None and experiment_name is None:
        raise UsageError("Missing argument 'name'. Give it as NAME or --experiment-name.")
    if name is not None and experiment_name is not None:
        raise UsageError("Give the experiment's name once: NAME or --experiment-name.")
    chosen = name if name is not None else experiment_name
    assert chosen is not None
    typer.echo(client(tracking_uri).create_experiment(chosen, artifact_location))


def _print_experiments(view: str, tracking_uri: str | None) -> None:
    from rich.table import Column, Table

    table = Table(
        Column("id", overflow="fold"),
        Column("name", overflow="fold"),
        Column("stage", overflow="fold"),
        Column("artifact location", overflow="fold"),
    )
    for e in client(tracking_uri).search_experiments(view_type=view, max_results=50_000):
        table.add_row(e.experiment_id, e.name, str(e.lifecycle_stage), e.artifact_location)
    print_table(table)


@app.command("list")
def list_(view: View = "active_only", tracking_uri: TrackingUri = None) -> None:
    """List experiments."""
    _print_experiments(view, tracking_uri)


@app.command("search")
def search(view: View = "active_only", tracking_uri: TrackingUri = None) -> None:
    """Search experiments (MLflow's name for list)."""
    _print_experiments(view, tracking_uri)


@app.command("get")
def get(
    experiment_id: Annotated[
        str | None, typer.Option("--experiment-id", "-x", show_default=False)
    ] = None,
    experiment_name: Annotated[
        str | None, typer.Option("--experiment-name", "-n", show_default=False)
    ] = None,
    tracking_uri: TrackingUri = None,
) -> None:
    """Print an experiment (by id or by name) as JSON."""
    from dataclasses import asdict

    from mlflowx.exceptions import InvalidParameter, NotFound

    if (experiment_id is None) == (experiment_name is None):
        raise InvalidParameter("Give either --experiment-id or --experiment-name")
    c = client(tracking_uri)
    if experiment_id is not None:
        experiment = c.get_experiment(experiment_id)
    else:
        assert experiment_name is not None
        found = c.get_experiment_by_name(experiment_name)
        if found is None:
            raise NotFound(f"No experiment named {experiment_name!r}")
        experiment = found
    typer.echo(json.dumps(asdict(experiment), indent=2, default=str))


@app.command("csv")
def csv_(
    experiment_id: Annotated[str, typer.Option("--experiment-id", "-x")],
    filename: Annotated[
        Path | None,
        typer.Option(
            "--filename", "-o", help="Write here (default: standard output).", show_default=False
        ),
    ] = None,
    tracking_uri: TrackingUri = None,
) -> None:
    """Write all runs of an experiment as CSV (info, metrics.*, params.*, tags.* columns)."""
    from mlflowx.cli._runs_output import to_csv

    c = client(tracking_uri)
    runs, token = [], None
    while True:
        page = c.search_runs([experiment_id], max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            break
    text = to_csv(runs)
    if filename is None:
        typer.echo(text, nl=False)
    else:
        filename.write_text(text, encoding="utf-8")
        typer.echo(f"Wrote {len(runs)} run(s) to {filename}", err=True)


@app.command("rename")
def rename(
    experiment_id: ExperimentIdArgument = None,
    new_name: Annotated[str | None, typer.Argument(show_default=False)] = None,
    experiment_id_option: ExperimentIdOption = None,
    new_name_option: Annotated[
        str | None, typer.Option("--new-name", help="MLflow's form.", show_default=False)
    ] = None,
    tracking_uri: TrackingUri = None,
) -> None:
    """Rename an experiment."""
    experiment_id = positional_or_option(experiment_id, experiment_id_option, "experiment_id")
    new_name = positional_or_option(new_name, new_name_option, "new_name")
    client(tracking_uri).rename_experiment(experiment_id, new_name)
    typer.echo(f"Experiment with id {experiment_id} has been renamed to {new_name!r}.")


@app.command("delete")
def delete(
    experiment_id: ExperimentIdArgument = None,
    experiment_id_option: ExperimentIdOption = None,
    tracking_uri: TrackingUri = None,
) -> None:
    """Mark an experiment (and its runs) deleted; restore brings it back, gc purges it."""
    experiment_id = positional_or_option(experiment_id, experiment_id_option, "experiment_id")
    client(tracking_uri).delete_experiment(experiment_id)
    typer.echo(f"Experiment with id {experiment_id} has been deleted.")


@app.command("restore")
def restore(
    experiment_id: ExperimentIdArgument = None,
    experiment_id_option: ExperimentIdOption = None,
    tracking_uri: TrackingUri = None,
) -> None:
    """Restore a deleted experiment and the runs deleted with it."""
    experiment_id = positional_or_option(experiment_id, experiment_id_option, "experiment_id")
    client(tracking_uri).restore_experiment(experiment_id)
    typer.echo(f"Experiment with id {experiment_id} has been restored.")
