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


def client(tracking_uri: str | None):  # type: ignore[no-untyped-def]
    from mlflowx.tracking import MlflowxClient

    return MlflowxClient(tracking_uri)
