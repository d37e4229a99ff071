"""``mlflowx auth``: users, tokens and grants of a tracking database, for ``server --auth``.

These commands work on the database directly (no server needed), so the first admin can be
made before the server starts; a running server sees the changes (checked credentials are
remembered for ``MLFLOWX_AUTH_CACHE_SECONDS``, 30 s by default).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from mlflowx.store.auth import SqlAuthStore

app = typer.Typer(help="Users, API tokens and permissions for `mlflowx server --auth`.",
                  no_args_is_help=True)  # fmt: skip

BackendUri = Annotated[
    str | None,
    typer.Option(
        "--backend-store-uri",
        envvar="MLFLOWX_BACKEND_STORE_URI",
        help="The server's SQL store (default: the embedded SQLite file under $MLFLOWX_HOME or .).",
        show_default=False,
    ),
]
Username = Annotated[str, typer.Argument(help="The user's name.")]
Password = Annotated[
    str,
    typer.Option(
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="MLFLOWX_AUTH_PASSWORD",
        help="Asked for when not given (or $MLFLOWX_AUTH_PASSWORD).",
    ),
]
Experiment = Annotated[
    str | None, typer.Option("--experiment", "-e", help="An experiment id.", show_default=False)
]
ExperimentName = Annotated[
    str | None,
    typer.Option("--experiment-name", help="An experiment, by name.", show_default=False),
]
Model = Annotated[
    str | None,
    typer.Option("--model", "-m", help="A registered model's name.", show_default=False),
]


@contextmanager
def _store(uri: str | None) -> Iterator[SqlAuthStore]:
    from mlflowx import settings
    from mlflowx.store.auth import SqlAuthStore
    from mlflowx.store.tracking.sql import SqlTrackingStore

    tracking = SqlTrackingStore(uri or settings.default_tracking_uri())
    try:
        yield SqlAuthStore(tracking.db)
    finally:
        tracking.close()


@app.command("create-user")
def create_user(
    username: Username,
    password: Password,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an admin.")] = False,
    backend_store_uri: BackendUri = None,
) -> None:
    """Create a user (an admin with --admin)."""
    with _store(backend_store_uri) as store:
        user = store.create_user(username, password, is_admin=admin)
    typer.echo(f"Created {'admin ' if user.is_admin else ''}user '{user.username}' (id {user.id}).")


@app.command("delete-user")
def delete_user(username: Username, backend_store_uri: BackendUri = None) -> None:
    """Delete a user with their tokens and grants."""
    with _store(backend_store_uri) as store:
        store.delete_user(username)
    typer.echo(f"Deleted user '{username}'.")


@app.command("set-password")
def set_password(
    username: Username, password: Password, backend_store_uri: BackendUri = None
) -> None:
    """Change a user's password."""
    with _store(backend_store_uri) as store:
        store.update_password(username, password)
    typer.echo(f"Changed the password of '{username}'.")


@app.command("set-admin")
def set_admin(
    username: Username,
    admin: Annotated[bool, typer.Option("--admin/--no-admin", help="Grant or take away admin.")],
    backend_store_uri: BackendUri = None,
) -> None:
    """Make a user an admin, or not."""
    with _store(backend_store_uri) as store:
        store.set_admin(username, admin)
    typer.echo(f"'{username}' is {'now' if admin else 'no longer'} an admin.")


@app.command("list-users")
def list_users(backend_store_uri: BackendUri = None) -> None:
    """List users and their grants."""
    with _store(backend_store_uri) as store:
        for user in store.list_users():
            grants = [
                f"experiment {k}: {v}" for k, v in store.grants_of("experiment", user.id).items()
            ]
            grants += [
                f"model {k}: {v}" for k, v in store.grants_of("registered_model", user.id).items()
            ]
            role = " (admin)" if user.is_admin else ""
            typer.echo(f"{user.username}{role}" + (f"  [{'; '.join(grants)}]" if grants else ""))


def _target(
    store: SqlAuthStore, experiment: str | None, experiment_name: str | None, model: str | None
) -> tuple[str, str]:
    from mlflowx.exceptions import InvalidParameter, NotFound

    given = [x for x in (experiment, experiment_name, model) if x]
    if len(given) != 1:
        raise InvalidParameter("Name exactly one of --experiment, --experiment-name or --model")
    if experiment_name:
        found = store.experiment_of("experiment_name", experiment_name)
        if found is None:
            raise NotFound(f"No experiment is named '{experiment_name}'")
        return "experiment", found
    if experiment:
        return "experiment", experiment
    assert model is not None
    return "registered_model", model


@app.command("grant")
def grant(
    username: Username,
    permission: Annotated[
        str, typer.Option("--permission", "-p", help="READ, EDIT, MANAGE or NO_PERMISSIONS.")
    ],
    experiment: Experiment = None,
    experiment_name: ExperimentName = None,
    model: Model = None,
    backend_store_uri: BackendUri = None,
) -> None:
    """Give a user a permission on one experiment or registered model (replacing theirs)."""
    from mlflowx.entities.auth import permission_named

    level = permission_named(permission)
    with _store(backend_store_uri) as store:
        kind, key = _target(store, experiment, experiment_name, model)
        store.grant(kind, key, username, level.name)
    typer.echo(f"'{username}' has {level.name} on {kind.replace('_', ' ')} {key}.")


@app.command("revoke")
def revoke(
    username: Username,
    experiment: Experiment = None,
    experiment_name: ExperimentName = None,
    model: Model = None,
    backend_store_uri: BackendUri = None,
) -> None:
    """Remove a user's grant on an experiment or registered model (the default applies)."""
    with _store(backend_store_uri) as store:
        kind, key = _target(store, experiment, experiment_name, model)
        if kind == "experiment":
            store.delete_experiment_permission(key, username)
        else:
            store.delete_registered_model_permission(key, username)
    typer.echo(f"Revoked the grant of '{username}' on {kind.replace('_', ' ')} {key}.")


@app.command("token")
def token(
    username: Username,
    name: Annotated[str, typer.Option("--name", help="A label to tell tokens apart.")] = "",
    expires_days: Annotated[
        float | None,
        typer.Option(
            "--expires-days", min=0.0, help="Expire after this many days (default never)."
        ),
    ] = None,
    backend_store_uri: BackendUri = None,
) -> None:
    """Make an API token for a user and print it (shown only this once). Clients send it as
    MLFLOW_TRACKING_TOKEN (Bearer) or as the password of HTTP Basic."""
    from mlflowx.entities import now_ms

    expiry = None if expires_days is None else now_ms() + int(expires_days * 86_400_000)
    with _store(backend_store_uri) as store:
        record, secret = store.create_token(username, name, expiry_time=expiry)
    when = "never" if expiry is None else _time(expiry)
    typer.echo(f"Token {record.id} ('{record.name}') for '{username}', expires {when}:", err=True)
    typer.echo(secret)


@app.command("tokens")
def tokens(username: Username, backend_store_uri: BackendUri = None) -> None:
    """List a user's tokens (ids and labels; the secrets are not stored)."""
    with _store(backend_store_uri) as store:
        for record in store.list_tokens(username):
            expiry = "never" if record.expiry_time is None else _time(record.expiry_time)
            typer.echo(f"{record.id}\t{record.name}\tcreated {_time(record.created_time)}"
                       f"\texpires {expiry}")  # fmt: skip


@app.command("revoke-token")
def revoke_token(
    username: Username,
    token_id: Annotated[int, typer.Argument(help="The token's id (see `mlflowx auth tokens`).")],
    backend_store_uri: BackendUri = None,
) -> None:
    """Revoke one of a user's tokens."""
    with _store(backend_store_uri) as store:
        store.delete_token(username, token_id)
    typer.echo(f"Revoked token {token_id} of '{username}'.")


def _time(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
