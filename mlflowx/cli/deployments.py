"""``mlflowx deployments``: models rolled out as serving containers."""

from __future__ import annotations

import typer

app = typer.Typer(help="Deploy models as serving containers (-t docker).", no_args_is_help=True)
