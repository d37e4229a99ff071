"""``mlflowx import``: copy an MLflow store (``mlflow.db``, ``./mlruns``, a server) into mlflowx."""

from __future__ import annotations

from typing import Annotated

import typer

Source = Annotated[
    str,
    typer.Argument(
        help="The MLflow store: its database (sqlite:///mlflow.db, postgresql://...), its "
        "file store folder (./mlruns) or a running MLflow server (http://host:5000).",
        show_default=False,
    ),
]
To = Annotated[
    str | None,
    typer.Option(
        "--to",
        envvar=["MLFLOWX_TRACKING_URI"],
        help="The mlflowx tracking URI to copy into (default: the embedded SQLite store under "
        "$MLFLOWX_HOME or .).",
        show_default=False,
    ),
]


def import_command(source: Source, to: To = None) -> None:
    """Copy experiments, runs (all metric history), artifacts, logged models and the model
    registry from an MLflow store. Re-running skips what is already copied, so an interrupted
    import resumes."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from mlflowx.migration import import_store, open_source
    from mlflowx.store.mlflow_stores import safe_uri
    from mlflowx.tracking import MlflowxClient

    client = MlflowxClient(to)
    src = open_source(source)
    console = Console(stderr=True)
    try:
        with Progress(
            TextColumn("[bold]importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=console,
        ) as bar:
            task = bar.add_task("", total=None)

            class _Report:
                def total(self, n: int) -> None:
                    bar.update(task, total=n)

                def advance(self, what: str) -> None:
                    bar.update(task, advance=1, description=what)

            summary = import_store(src, client, _Report())
    finally:
        src.close()
    table = Table(title=f"{safe_uri(source)} -> {safe_uri(client.tracking_uri)}")
    for column in ("kind", "copied", "skipped", "failed"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for kind, copied, skipped, failed in summary.rows():
        table.add_row(kind, str(copied), str(skipped), str(failed))
    Console().print(table)
    for error in summary.errors:
        console.print(f"failed: {error}", markup=False)
    if summary.errors:
        raise typer.Exit(1)
