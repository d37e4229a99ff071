"""``mlflowx runs``: create, search, describe, delete and restore runs."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from mlflowx.cli._console import print_table
from mlflowx.cli._options import TrackingUri, client, key_values, positional_or_option

app = typer.Typer(help="Create, search and inspect runs.", no_args_is_help=True)

RunIdArgument = Annotated[str | None, typer.Argument(show_default=False)]
RunIdOption = Annotated[
    str | None, typer.Option("--run-id", help="The run (MLflow's form).", show_default=False)
]


class Output(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


@app.command("create")
def create(
    experiment_id: Annotated[
        str | None,
        typer.Option(
            "--experiment-id",
            "-x",
            help="The experiment (default: '0', Default).",
            show_default=False,
        ),
    ] = None,
    experiment_name: Annotated[
        str | None,
        typer.Option("--experiment-name", help="The experiment, by name.", show_default=False),
    ] = None,
    run_name: Annotated[
        str | None, typer.Option("--run-name", "-n", help="The run's name.", show_default=False)
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", "-d", help="A description.", show_default=False)
    ] = None,
    parent_run_id: Annotated[
        str | None,
        typer.Option("--parent-run-id", help="Make it a child of this run.", show_default=False),
    ] = None,
    tags: Annotated[
        list[str] | None,
        typer.Option(
            "--tag", "-t", help="A tag as key=value; repeat for more.", show_default=False
        ),
    ] = None,
    tracking_uri: TrackingUri = None,
) -> None:
    """Create a run (status RUNNING) and print its id."""
    from mlflowx.exceptions import InvalidParameter, NotFound

    if experiment_id is not None and experiment_name is not None:
        raise InvalidParameter("Give --experiment-id or --experiment-name, not both")
    c = client(tracking_uri)
    if experiment_name is not None:
        experiment = c.get_experiment_by_name(experiment_name)
        if experiment is None:
            raise NotFound(f"No experiment named {experiment_name!r}")
        experiment_id = experiment.experiment_id
    tag_map = key_values(tags, "--tag")
    if description is not None:
        tag_map["mlflow.note.content"] = description
    if parent_run_id is not None:
        c.get_run(parent_run_id)  # a clear NotFound rather than a dangling link
        tag_map["mlflow.parentRunId"] = parent_run_id
    run = c.create_run(experiment_id or "0", tags=tag_map, run_name=run_name)
    typer.echo(run.info.run_id)


@app.command("list")
def list_(
    experiment_id: Annotated[str, typer.Option("--experiment-id", "-x")] = "0",
    filter_string: Annotated[str, typer.Option("--filter", "-f")] = "",
    order_by: Annotated[
        list[str] | None,
        typer.Option("--order-by", help="e.g. 'metrics.acc DESC'; repeat for more."),
    ] = None,
    max_results: Annotated[int, typer.Option("--max-results", "-n")] = 100,
    view: Annotated[str, typer.Option("--view", "-v", help="active_only, deleted_only or all")] = (
        "active_only"
    ),
    output: Annotated[Output, typer.Option("--output", "-o", help="table, json or csv.")] = (
        Output.table
    ),
    tracking_uri: TrackingUri = None,
) -> None:
    """List runs of an experiment matching a filter (MLflow's search syntax)."""
    from mlflowx.cli import _runs_output

    runs = list(
        client(tracking_uri).search_runs(
            [experiment_id], filter_string, view, max_results, order_by
        )
    )
    if output is Output.json:
        typer.echo(_runs_output.to_json(runs))
        return
    if output is Output.csv:
        typer.echo(_runs_output.to_csv(runs), nl=False)
        return
    from rich.table import Column, Table

    # Every cell folds rather than being cut: ids and values are copied from here.
    table = Table(
        Column("run id", min_width=32, overflow="fold"),
        Column("name", overflow="fold"),
        Column("status", overflow="fold"),
        Column("start time", overflow="fold"),
        Column("parent", overflow="fold"),
        Column("metrics", overflow="fold"),
        Column("params", overflow="fold"),
    )
    for r in runs:
        table.add_row(
            r.info.run_id,
            r.info.run_name or "",
            str(r.info.status),
            _runs_output.iso_time(r.info.start_time),
            r.data.tags.get(_runs_output.PARENT_TAG, ""),
            ", ".join(f"{k}={v:g}" for k, v in sorted(r.data.metrics.items())),
            ", ".join(f"{k}={v}" for k, v in sorted(r.data.params.items())),
        )
    print_table(table)


@app.command("describe")
def describe(
    run_id: RunIdArgument = None,
    run_id_option: RunIdOption = None,
    tracking_uri: TrackingUri = None,
) -> None:
    """Print a run as JSON."""
    run_id = positional_or_option(run_id, run_id_option, "run_id")
    from dataclasses import asdict

    typer.echo(json.dumps(asdict(client(tracking_uri).get_run(run_id)), indent=2, default=str))


@app.command("delete")
def delete(
    run_id: RunIdArgument = None,
    run_id_option: RunIdOption = None,
    tracking_uri: TrackingUri = None,
) -> None:
    """Mark a run deleted (mlflowx gc purges it for good)."""
    run_id = positional_or_option(run_id, run_id_option, "run_id")
    client(tracking_uri).delete_run(run_id)
    typer.echo(f"Run with id {run_id} has been deleted.")


@app.command("restore")
def restore(
    run_id: RunIdArgument = None,
    run_id_option: RunIdOption = None,
    tracking_uri: TrackingUri = None,
) -> None:
    """Restore a deleted run."""
    run_id = positional_or_option(run_id, run_id_option, "run_id")
    client(tracking_uri).restore_run(run_id)
    typer.echo(f"Run with id {run_id} has been restored.")
