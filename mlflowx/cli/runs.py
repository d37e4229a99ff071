"""``mlflowx runs``: search, describe, delete and restore runs."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from mlflowx.cli._options import TrackingUri, client

app = typer.Typer(help="Search and inspect runs.", no_args_is_help=True)


@app.command("list")
def list_(
    experiment_id: Annotated[str, typer.Option("--experiment-id", "-x")] = "0",
    filter_string: Annotated[str, typer.Option("--filter", "-f")] = "",
    order_by: Annotated[list[str] | None, typer.Option("--order-by", "-o")] = None,
    max_results: Annotated[int, typer.Option("--max-results", "-n")] = 100,
    view: Annotated[str, typer.Option(help="active_only, deleted_only or all")] = "active_only",
    tracking_uri: TrackingUri = None,
) -> None:
    """List runs of an experiment matching a filter (MLflow's search syntax)."""
    from rich.console import Console
    from rich.table import Column, Table

    runs = client(tracking_uri).search_runs(
        [experiment_id], filter_string, view, max_results, order_by
    )
    table = Table(
        Column("run id", no_wrap=True, min_width=32), "name", "status", "metrics", "params"
    )
    for r in runs:
        table.add_row(
            r.info.run_id,
            r.info.run_name or "",
            str(r.info.status),
            ", ".join(f"{k}={v:g}" for k, v in sorted(r.data.metrics.items())),
            ", ".join(f"{k}={v}" for k, v in sorted(r.data.params.items())),
        )
    Console().print(table)


@app.command("describe")
def describe(run_id: str, tracking_uri: TrackingUri = None) -> None:
    """Print a run as JSON."""
    from dataclasses import asdict

    typer.echo(json.dumps(asdict(client(tracking_uri).get_run(run_id)), indent=2, default=str))


@app.command("delete")
def delete(run_id: str, tracking_uri: TrackingUri = None) -> None:
    """Mark a run deleted."""
    client(tracking_uri).delete_run(run_id)


@app.command("restore")
def restore(run_id: str, tracking_uri: TrackingUri = None) -> None:
    """Restore a deleted run."""
    client(tracking_uri).restore_run(run_id)
