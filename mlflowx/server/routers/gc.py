"""``POST /api/2.0/mlflowx/gc``: ``mlflowx gc`` run by the server (admins only).

The server purges with its own backend store and deletes artifacts with its own credentials
and ``--artifacts-destination``; every stored direct location is vetted by the server's
location policy first (a refused one stops the collection before anything is deleted).
"""

from __future__ import annotations

from fastapi import Request

from mlflowx.protocol.gc import GC_PATH, GcRequest, GcResponse
from mlflowx.server.deps import WireRouter, tracking_store
from mlflowx.store.locations import LocationPolicy
from mlflowx.tracking import gc

router = WireRouter(tags=["gc"])


@router.post(GC_PATH)
def collect_garbage(request: Request, body: GcRequest) -> GcResponse:
    store = gc.purgeable(tracking_store(request), "this server's backend store")
    todo = gc.plan(store, body.older_than, body.run_ids, body.experiment_ids)
    policy: LocationPolicy = request.app.state.location_policy
    result = gc.collect(
        store,
        todo,
        request.app.state.artifacts_destination,
        check_location=lambda uri: policy.check(uri, "stored artifact location"),
    )
    return GcResponse(
        runs=result.runs,
        experiments=result.experiments,
        logged_models=result.logged_models,
        artifact_locations=result.artifact_locations,
    )
