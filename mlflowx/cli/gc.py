"""``mlflowx gc``: permanently delete deleted runs, experiments and logged models (MLflow's
``mlflow gc``)."""

from __future__ import annotations

from typing import Annotated

import typer

from mlflowx.cli._options import TrackingUri


def _ids(value: str | None) -> list[str]:
    return [x.strip() for x in (value or "").split(",") if x.strip()]


def gc(
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            help="Only purge what was deleted longer ago than this: days, hours, minutes, "
            "seconds, e.g. 30d, 12h, 1d2h3m4s (default: everything deleted).",
            show_default=False,
        ),
    ] = None,
    backend_store_uri: Annotated[
        str | None,
        typer.Option(
            "--backend-store-uri",
            help="The SQL store to collect (default: --tracking-uri, else the embedded store).",
            show_default=False,
        ),
    ] = None,
    artifacts_destination: Annotated[
        str | None,
        typer.Option(
            "--artifacts-destination",
            help="The server's --artifacts-destination, to delete artifacts stored through its "
            "proxy (mlflow-artifacts:/ URIs).",
            show_default=False,
        ),
    ] = None,
    run_ids: Annotated[
        str | None,
        typer.Option(
            "--run-ids",
            help="Comma-separated ids of deleted runs to purge (default: all deleted runs).",
            show_default=False,
        ),
    ] = None,
    experiment_ids: Annotated[
        str | None,
        typer.Option(
            "--experiment-ids",
            help="Comma-separated ids of deleted experiments to purge with all their runs "
            "(default: all deleted experiments).",
            show_default=False,
        ),
    ] = None,
    tracking_uri: TrackingUri = None,
) -> None:
    """Permanently delete runs, experiments and logged models in the deleted stage, with
    their artifacts. This cannot be undone."""
    from rich.console import Console
    from rich.progress import Progress

    from mlflowx.tracking import MlflowxClient
    from mlflowx.tracking import gc as collector

    client = MlflowxClient(backend_store_uri or tracking_uri)
    store = collector.purgeable(client.store, client.tracking_uri)
    todo = collector.plan(store, older_than, _ids(run_ids), _ids(experiment_ids))
    console = Console(stderr=True)
    with Progress(console=console, transient=True, disable=todo.steps < 2) as progress:
        task = progress.add_task("Purging", total=todo.steps)

        def step(what: str) -> None:
            progress.update(task, advance=1, description=f"Purged {what}")

        result = collector.collect(store, todo, artifacts_destination, step)
    typer.echo(
        f"Purged {result.runs} run(s), {result.experiments} experiment(s) and "
        f"{result.logged_models} logged model(s); deleted {len(result.artifact_locations)} "
        "artifact location(s)."
    )
