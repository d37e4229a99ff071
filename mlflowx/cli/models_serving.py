"""Commands of ``mlflowx models`` (registered by ``mlflowx.cli.models``): ``serve`` and
``predict``, MLflow's scoring server and batch scoring."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mlflowx.cli._options import AllowCode, AllowedHosts, AllowPickle, CorsOrigins

ModelUri = Annotated[
    str,
    typer.Option(
        "--model-uri",
        "-m",
        help="The model: a path, runs:/<id>/<path>, models:/<name>/<version>, "
        "models:/<name>@<alias> or models:/m-<id>.",
    ),
]
EnvManager = Annotated[
    str,
    typer.Option(
        "--env-manager",
        help="Only 'local' (the current environment), as MLflow's --env-manager local.",
    ),
]


def _check_env_manager(env_manager: str) -> None:
    from mlflowx.serving.predict import check_env_manager

    check_env_manager(env_manager, "--env-manager")


def serve(
    model_uri: ModelUri,
    host: Annotated[str, typer.Option("--host", "-h", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="Port to listen on.")] = 5000,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, help="Worker processes (each loads the model).")
    ] = 1,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            "-t",
            help="Seconds a prediction may take before the request gets 504 "
            "(default 60, or MLFLOWX_SCORING_SERVER_REQUEST_TIMEOUT).",
        ),
    ] = None,
    max_body_mb: Annotated[
        float | None,
        typer.Option(
            "--max-body-mb",
            help="Larger request bodies get 413 (default 100, or MLFLOWX_SCORING_MAX_BODY_MB).",
        ),
    ] = None,
    env_manager: EnvManager = "local",
    log_level: Annotated[str, typer.Option("--log-level")] = "info",
    allowed_hosts: AllowedHosts = None,
    cors_allowed_origins: CorsOrigins = None,
    allow_pickle: AllowPickle = False,
    allow_code: AllowCode = False,
) -> None:
    """Serve a model over MLflow's scoring protocol (POST /invocations; /ping, /health,
    /version, /metadata). The model loads in each worker; /health answers 200 once loaded.
    A model that would unpickle or run its own code does not load (/health says why) unless
    --allow-pickle / --allow-code allow it."""
    from mlflowx.models.policy import ENV_ALLOW_CODE, ENV_ALLOW_PICKLE
    from mlflowx.serving.scoring.config import (
        ENV_ALLOWED_HOSTS,
        ENV_CORS_ORIGINS,
        ENV_MAX_BODY_MB,
        ENV_MODEL_URI,
        ENV_TIMEOUT,
        ScoringConfig,
    )
    from mlflowx.utils.http_security import default_allowed_hosts, is_loopback
    from mlflowx.utils.uvicorn_setup import NoDelayHttpProtocol, serve

    _check_env_manager(env_manager)
    # Workers are separate processes: they read the model URI and limits from the environment.
    os.environ[ENV_MODEL_URI] = model_uri
    if timeout is not None:
        os.environ[ENV_TIMEOUT] = str(timeout)
    if max_body_mb is not None:
        os.environ[ENV_MAX_BODY_MB] = str(max_body_mb)
    if allow_pickle:
        os.environ[ENV_ALLOW_PICKLE] = "true"
    if allow_code:
        os.environ[ENV_ALLOW_CODE] = "true"
    os.environ.setdefault("MLFLOWX_LOG_LEVEL", log_level.upper())
    os.environ[ENV_ALLOWED_HOSTS] = allowed_hosts or ",".join(default_allowed_hosts(host))
    os.environ[ENV_CORS_ORIGINS] = cors_allowed_origins or ""
    ScoringConfig.from_env()  # bad limits fail here, not in every worker
    typer.echo(
        f"mlflowx scoring server for {model_uri} on http://{host}:{port} ({workers} worker(s))"
    )
    if not is_loopback(host):
        typer.echo(
            f"WARNING: listening on {host}: the scoring server has no authentication, so "
            "anyone who can reach this port can call the model. Put it behind an "
            "authenticating proxy or a private network.",
            err=True,
        )
    serve(
        "mlflowx.serving.scoring.app:app_from_env",
        workers=workers,
        preload=("mlflowx.serving.scoring.app",),  # the model itself loads in each worker
        host=host,
        port=port,
        http=NoDelayHttpProtocol,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=10,
        server_header=False,
    )


def predict(
    model_uri: ModelUri,
    input_path: Annotated[
        Path | None,
        typer.Option(
            "--input-path", "-i", help="Input file (CSV or JSON request); stdin when omitted."
        ),
    ] = None,
    output_path: Annotated[
        Path | None,
        typer.Option("--output-path", "-o", help="Where predictions go; stdout when omitted."),
    ] = None,
    content_type: Annotated[
        str | None,
        typer.Option(
            "--content-type",
            "-t",
            help="Input format: json (MLflow's request body) or csv; default from the input "
            "file's extension, else json.",
        ),
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--output-format",
            help='json ({"predictions": ...}, as the scoring server answers) or csv; default '
            "from the output file's extension, else json.",
        ),
    ] = None,
    env_manager: EnvManager = "local",
    allow_pickle: AllowPickle = False,
    allow_code: AllowCode = False,
) -> None:
    """Score a file with a model, as the scoring server would answer it."""
    from mlflowx.exceptions import InvalidParameter

    _check_env_manager(env_manager)
    kind = _format(content_type, input_path, "--content-type")
    out_kind = _format(output_format, output_path, "--output-format")
    if input_path is not None and not input_path.is_file():
        raise InvalidParameter(f"No input file at {input_path}")
    raw, unwrapped = _score(model_uri, input_path, kind, allow_pickle, allow_code)
    text = _render(raw, out_kind, unwrapped)
    if output_path is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        output_path.write_text(text)
        typer.echo(f"Wrote {_count(raw)} predictions to {output_path}", err=True)


def _format(given: str | None, path: Path | None, option: str) -> str:
    from mlflowx.exceptions import InvalidParameter

    if given is None:
        return "csv" if path is not None and path.suffix.lower() == ".csv" else "json"
    value = given.lower().removeprefix("text/").removeprefix("application/")
    if value not in ("json", "csv"):
        raise InvalidParameter(f"{option} must be json or csv, got {given!r}")
    return value


def _score(
    model_uri: str, input_path: Path | None, kind: str, allow_pickle: bool, allow_code: bool
) -> tuple[Any, bool]:
    from rich.console import Console

    from mlflowx.pyfunc import load_model
    from mlflowx.serving.predict import score

    console = Console(stderr=True)
    with console.status(f"Loading {model_uri}"):
        # An absent flag leaves the choice to the environment (MLFLOWX_ALLOW_*).
        model = load_model(
            model_uri, allow_pickle=allow_pickle or None, allow_code=allow_code or None
        )
    with console.status("Scoring"):
        if kind == "csv":
            return score(model, input_path if input_path is not None else sys.stdin, "csv")
        body = input_path.read_bytes() if input_path is not None else sys.stdin.buffer.read()
        return score(model, body)


def _render(raw: Any, out_kind: str, unwrapped: bool) -> str:
    if out_kind == "json":
        from mlflowx.serving.scoring.output import predictions_json

        return predictions_json(raw, wrap=not unwrapped).decode() + "\n"
    import pandas as pd

    from mlflowx.models._types import _is_dataframe
    from mlflowx.serving.scoring.output import jsonable

    if _is_dataframe(raw):
        frame = raw
    else:
        data = jsonable(raw)
        if not isinstance(data, list):
            data = [data]
        frame = pd.DataFrame(data)
        if list(frame.columns) == [0]:
            frame.columns = ["predictions"]
    text: str = frame.to_csv(index=False)
    return text


def _count(raw: Any) -> int:
    try:
        return len(raw)
    except TypeError:
        return 1


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``models`` group."""
    app.command("serve")(serve)
    app.command("predict")(predict)
