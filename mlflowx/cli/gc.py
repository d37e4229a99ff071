"""``mlflowx gc``: permanently delete deleted runs, experiments and logged models (MLflow's
``mlflow gc``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mlflowx.cli._options import TrackingUri

if TYPE_CHECKING:
    from mlflowx.store.tracking.rest import RestTrackingStore


def _ids(value: str | None) -> list[str]:
    return [x.strip() for x in (value or "").split(",") if x.strip()]


def _through_server(
    store: RestTrackingStore,
    older_than: str | None,
    run_ids: str | None,
    experiment_ids: str | None,
    artifacts_destination: str | None,
) -> None:
    """The tracking server collects, with its own store, credentials and destination."""
    from mlflowx.exceptions import InvalidParameter
    from mlflowx.protocol.gc import GcRequest

    if artifacts_destination is not None:
        raise InvalidParameter(
            "--artifacts-destination is not used when gc runs through a tracking server "
            f"({store.uri}): the server deletes under its own --artifacts-destination; "
            "leave the option out"
        )
    request = GcRequest(
        older_than=older_than, run_ids=_ids(run_ids), experiment_ids=_ids(experiment_ids)
    )
    result = store.collect_garbage(request)
    _report(result.runs, result.experiments, result.logged_models, result.artifact_locations)


def _report(runs: int, experiments: int, models: int, locations: list[str]) -> None:
    typer.echo(
        f"Purged {runs} run(s), {experiments} experiment(s) and {models} logged model(s); "
        f"deleted {len(locations)} artifact location(s)."
    )


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
            help="The SQL store to collect (default: --tracking-uri, else the embedded store). "
            "An http(s):// URI has that tracking server collect (admins only when it has auth).",
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

    from mlflowx.store.tracking.rest import RestTrackingStore
    from mlflowx.tracking import MlflowxClient
    from mlflowx.tracking import gc as collector

    client = MlflowxClient(backend_store_uri or tracking_uri)
    if isinstance(client.store, RestTrackingStore):
        _through_server(client.store, older_than, run_ids, experiment_ids, artifacts_destination)
        return
    store = collector.purgeable(client.store, client.tracking_uri)
    todo = collector.plan(store, older_than, _ids(run_ids), _ids(experiment_ids))
    console = Console(stderr=True)
    with Progress(console=console, transient=True, disable=todo.steps < 2) as progress:
        task = progress.add_task("Purging", total=todo.steps)

        def step(what: str) -> None:
            progress.update(task, advance=1, description=f"Purged {what}")

        result = collector.collect(store, todo, artifacts_destination, step)
    _report(result.runs, result.experiments, result.logged_models, result.artifact_locations)
