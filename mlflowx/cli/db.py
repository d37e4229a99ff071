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
    from mlflowx.store.sql.schema import check_database_uri, check_revision, migrate

    before, after = migrate(check_database_uri(uri), check_revision(revision))
    if before == after:
        typer.echo(f"Already at revision {after}.")
    else:
        typer.echo(f"Upgraded from {before or 'an empty database'} to {after}.")


@app.command("current")
def current(uri: Uri) -> None:
    """Print the database's schema revision and the one this mlflowx needs."""
    from mlflowx.store.mlflow_stores import is_mlflow_revision, mlflow_database_refused, safe_uri
    from mlflowx.store.sql.schema import HEAD_REVISION, check_database_uri, current_revision

    rev = current_revision(check_database_uri(uri))
    typer.echo(f"database: {rev or '(empty)'}\nmlflowx needs: {HEAD_REVISION}")
    if is_mlflow_revision(rev):
        # It answers the question, so no error exit; but the database cannot be used as is.
        typer.echo(f"Note: {mlflow_database_refused(safe_uri(uri), rev)}")
