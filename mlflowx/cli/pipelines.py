"""``mlflowx pipelines``: trigger and inspect the Prefect pipelines."""

from __future__ import annotations

import typer

app = typer.Typer(help="Trigger and inspect Prefect pipelines.", no_args_is_help=True)
