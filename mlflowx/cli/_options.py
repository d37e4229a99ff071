from __future__ import annotations

from typing import Annotated

import typer

TrackingUri = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri",
        envvar=["MLFLOWX_TRACKING_URI", "MLFLOW_TRACKING_URI"],
        help="Tracking URI (default: the embedded SQLite store under $MLFLOWX_HOME or .).",
        show_default=False,
    ),
]


AllowedHosts = Annotated[
    str | None,
    typer.Option(
        "--allowed-hosts",
        envvar="MLFLOWX_ALLOWED_HOSTS",
        help="Host names the server answers to, comma-separated ('*.example.com', '*' for any); "
        "default: localhost and the --host name. IP addresses always pass.",
        show_default=False,
    ),
]
CorsOrigins = Annotated[
    str | None,
    typer.Option(
        "--cors-allowed-origins",
        envvar="MLFLOWX_CORS_ALLOWED_ORIGINS",
        help="Origins whose web pages may call the server, comma-separated (default: none).",
        show_default=False,
    ),
]


def key_values(pairs: list[str] | None, option: str) -> dict[str, str]:
    """``KEY=VALUE`` options (``-P alpha=0.1``, ``--tag team=blue``) as a dict; a clear error
    naming the option for anything else."""
    from mlflowx.exceptions import InvalidParameter

    found: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidParameter(f"Invalid {option} {pair!r}: use {option} KEY=VALUE")
        found[key] = value
    return found


def client(tracking_uri: str | None):  # type: ignore[no-untyped-def]
    from mlflowx.tracking import MlflowxClient

    return MlflowxClient(tracking_uri)


AllowPickle = Annotated[
    bool,
    typer.Option(
        "--allow-pickle",
        help="Load the model's pickle/cloudpickle files, which run code as they load: only for "
        "a model you trust (default: MLFLOWX_ALLOW_PICKLE_DESERIALIZATION).",
        show_default=False,
    ),
]
AllowCode = Annotated[
    bool,
    typer.Option(
        "--allow-code",
        help="Run the model's own Python (a models-from-code file, code_paths put on sys.path): "
        "only for a model you trust (default: MLFLOWX_ALLOW_MODEL_CODE).",
        show_default=False,
    ),
]
# For images: what the image's server may load. Only these flags count, never this host's
# environment (the image runs elsewhere, for other people).
ImageAllowPickle = Annotated[
    bool,
    typer.Option(
        "--allow-pickle",
        help="Let the image's server load the model's pickle/cloudpickle files (it is started "
        "with --allow-pickle): only for a model you trust.",
        show_default=False,
    ),
]
ImageAllowCode = Annotated[
    bool,
    typer.Option(
        "--allow-code",
        help="Let the image's server run the model's own Python (it is started with "
        "--allow-code): only for a model you trust.",
        show_default=False,
    ),
]


def positional_or_option(argument: str | None, option: str | None, name: str) -> str:
    """One value given as an argument (mlflowx's form) or as an option (MLflow's form, e.g.
    ``--run-id``); a usage error names both forms when it is missing or given twice."""
    from typer._click.exceptions import UsageError  # Typer's copy: the one it answers

    flag = f"--{name.replace('_', '-')}"
    if argument is not None and option is not None and argument != option:
        raise UsageError(f"Give {name.upper()} once: as the argument or as {flag}.")
    value = argument if argument is not None else option
    if value is None:
        raise UsageError(f"Missing argument '{name.upper()}' (or {flag}).")
    return value
