"""``mlflowx run`` and ``mlflowx projects``: MLproject files as Prefect flows."""

from __future__ import annotations

import typer

app = typer.Typer(help="Run and deploy MLproject projects.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add the top-level ``mlflowx run`` command."""
