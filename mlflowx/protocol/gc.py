"""mlflowx's garbage-collection endpoint (``POST /api/2.0/mlflowx/gc``, admins only).

MLflow's ``mlflow gc`` needs the database and the artifact store; through a tracking server it
is refused. mlflowx's server runs the collection itself, with its own store and its
``--artifacts-destination``, so ``mlflowx gc --tracking-uri http://...`` needs neither.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from mlflowx.protocol.models import WireModel

__all__ = ["GC_PATH", "GcRequest", "GcResponse"]

GC_PATH = "/api/2.0/mlflowx/gc"

_Id = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class GcRequest(WireModel):
    """``mlflowx gc``'s options: with no ids, everything deleted (longer ago than
    ``older_than``, e.g. ``30d``, ``1d2h``)."""

    older_than: Annotated[str, StringConstraints(max_length=64)] | None = None
    run_ids: list[_Id] = Field(default_factory=list, max_length=10_000)
    experiment_ids: list[_Id] = Field(default_factory=list, max_length=10_000)


class GcResponse(WireModel):
    runs: int = 0
    experiments: int = 0
    logged_models: int = 0
    #: The artifact locations deleted, as the runs and models recorded them.
    artifact_locations: list[str] = Field(default_factory=list)
