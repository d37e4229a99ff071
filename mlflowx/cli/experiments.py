"""``mlflowx experiments``: create, list, rename, delete and restore experiments."""

from __future__ import annotations

from typing import Annotated

import typer

from mlflowx.cli._options import TrackingUri, client

app = typer.Typer(help="Create and inspect experiments.", no_args_is_help=True)


@app.command("create")
def create(
    name: str,
    artifact_location: Annotated[str | None, typer.Option("--artifact-location", "-l")] = None,
    tracking_uri: TrackingUri = None,
) -> None:
    """Create an experiment and print its id."""
    typer.echo(client(tracking_uri).create_experiment(name, artifact_location))


@app.command("list")
def list_(
    view: Annotated[str, typer.Option(help="active_only, deleted_only or all")] = "active_only",
    tracking_uri: TrackingUri = None,
) -> None:
    """List experiments."""
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "name", "stage", "artifact location")
    for e in client(tracking_uri).search_experiments(view_type=view, max_results=50_000):
        table.add_row(e.experiment_id, e.name, str(e.lifecycle_stage), e.artifact_location)
    Console().print(table)


@app.command("rename")
def rename(experiment_id: str, new_name: str, tracking_uri: TrackingUri = None) -> None:
    """Rename an experiment."""
    client(tracking_uri).rename_experiment(experiment_id, new_name)


@app.command("delete")
def delete(experiment_id: str, tracking_uri: TrackingUri = None) -> None:
    """Mark an experiment (and its runs) deleted; restore brings it back."""
    client(tracking_uri).delete_experiment(experiment_id)


@app.command("restore")
def restore(experiment_id: str, tracking_uri: TrackingUri = None) -> None:
    """Restore a deleted experiment and the runs deleted with it."""
    client(tracking_uri).restore_experiment(experiment_id)
