"""``mlflowx db``: schema versions and migrations of SQL tracking stores."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    help="Inspect and upgrade the schema of a SQL tracking store.", no_args_is_help=True
)

Uri = Annotated[str, typer.Argument(help="Database URI, e.g. sqlite:///mlflowx.db")]


@app.command("upgrade")
def upgrade(uri: Uri, revision: str = "head") -> None:
    """Migrate the database to the newest schema (back it up first)."""
    from mlflowx.store.sql.schema import migrate

    before, after = migrate(uri, revision)
    if before == after:
        typer.echo(f"Already at revision {after}.")
    else:
        typer.echo(f"Upgraded from {before or 'an empty database'} to {after}.")


@app.command("current")
def current(uri: Uri) -> None:
    """Print the database's schema revision and the one this mlflowx needs."""
    from mlflowx.store.sql.schema import HEAD_REVISION, current_revision

    rev = current_revision(uri)
    typer.echo(f"database: {rev or '(empty)'}\nmlflowx needs: {HEAD_REVISION}")
