"""``mlflowx artifacts``: list, download and log a run's artifacts (MLflow's
``mlflow artifacts``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mlflowx.cli._options import TrackingUri, client

app = typer.Typer(help="List, download and upload the artifacts of runs.", no_args_is_help=True)

RunId = Annotated[str, typer.Option("--run-id", "-r", help="The run's id.")]
OptionalRunId = Annotated[
    str | None,
    typer.Option(
        "--run-id", "-r", help="The run's id (or give --artifact-uri).", show_default=False
    ),
]
ArtifactPath = Annotated[
    str | None,
    typer.Option(
        "--artifact-path",
        "-a",
        help="A path relative to the run's artifact root (default: the root).",
        show_default=False,
    ),
]


@app.command("list")
def list_(
    run_id: RunId, artifact_path: ArtifactPath = None, tracking_uri: TrackingUri = None
) -> None:
    """Print the artifacts directly under a path of a run, as JSON."""
    infos = client(tracking_uri).list_artifacts(run_id, artifact_path)
    typer.echo(
        json.dumps(
            [{"path": f.path, "is_dir": f.is_dir, "file_size": f.file_size} for f in infos],
            indent=2,
        )
    )


@app.command("download")
def download(
    run_id: OptionalRunId = None,
    artifact_path: ArtifactPath = None,
    artifact_uri: Annotated[
        str | None,
        typer.Option(
            "--artifact-uri",
            "-u",
            help="A URI of the artifacts instead of --run-id: runs:/<run_id>/<path>, a "
            "storage URI (s3://..., file://...) or mlflow-artifacts:/...",
            show_default=False,
        ),
    ] = None,
    dst_path: Annotated[
        str | None,
        typer.Option(
            "--dst-path",
            "-d",
            help="A local directory to download into (default: a new temporary directory).",
            show_default=False,
        ),
    ] = None,
    tracking_uri: TrackingUri = None,
) -> None:
    """Download a run's artifacts (or those at --artifact-uri) and print the local path."""
    from mlflowx.exceptions import InvalidParameter

    if (run_id is None) == (artifact_uri is None):
        raise InvalidParameter("Give either --run-id or --artifact-uri (exactly one of them)")
    c = client(tracking_uri)
    if dst_path is not None:
        Path(dst_path).mkdir(parents=True, exist_ok=True)
    if artifact_uri is not None:
        if artifact_path is not None:
            raise InvalidParameter("--artifact-path goes with --run-id, not with --artifact-uri")
        if artifact_uri.startswith("runs:/"):
            from mlflowx.utils.uri import parse_runs_uri

            run_id, artifact_path = parse_runs_uri(artifact_uri)
        else:
            repo = c._repo_for(artifact_uri)
            typer.echo(repo.download_artifacts("", dst_path))
            return
    assert run_id is not None
    typer.echo(c.download_artifacts(run_id, artifact_path or "", dst_path))


@app.command("log-artifact")
def log_artifact(
    local_file: Annotated[
        Path, typer.Option("--local-file", "-l", exists=True, dir_okay=False, help="The file.")
    ],
    run_id: RunId,
    artifact_path: ArtifactPath = None,
    tracking_uri: TrackingUri = None,
) -> None:
    """Upload one local file into a run's artifacts."""
    client(tracking_uri).log_artifact(run_id, str(local_file), artifact_path)
    typer.echo(f"Logged artifact from local file {local_file} to artifact_path={artifact_path}")


@app.command("log-artifacts")
def log_artifacts(
    local_dir: Annotated[
        Path,
        typer.Option("--local-dir", "-l", exists=True, file_okay=False, help="The directory."),
    ],
    run_id: RunId,
    artifact_path: ArtifactPath = None,
    tracking_uri: TrackingUri = None,
) -> None:
    """Upload a local directory's contents into a run's artifacts."""
    client(tracking_uri).log_artifacts(run_id, str(local_dir), artifact_path)
    typer.echo(f"Logged artifact from local dir {local_dir} to artifact_path={artifact_path}")
