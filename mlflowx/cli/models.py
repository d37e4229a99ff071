"""``mlflowx models``: serve, score and package models."""

from __future__ import annotations

import typer

from mlflowx.cli import models_docker, models_serving

app = typer.Typer(
    help="Serve, score and package models (MLflow's `mlflow models`).", no_args_is_help=True
)
models_serving.register(app)
models_docker.register(app)
