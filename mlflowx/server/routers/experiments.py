"""``/experiments/*``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request

from mlflowx.entities import RunTag, ViewType
from mlflowx.exceptions import NotFound
from mlflowx.protocol import endpoints as p
from mlflowx.protocol.models import ExperimentJ
from mlflowx.server import auth
from mlflowx.server.deps import Store, WireRouter
from mlflowx.store.locations import LocationPolicy
from mlflowx.utils import validation as v

router = WireRouter(tags=["experiments"])


@router.post(p.CREATE_EXPERIMENT.path)
def create_experiment(
    body: p.CreateExperiment, store: Store, request: Request
) -> p.CreateExperimentResponse:
    tags = [RunTag(t.key, t.value) for t in body.tags]
    location = body.artifact_location or None
    if location is not None:
        # The server's own rule on top of the store's: local locations stay in its roots.
        policy: LocationPolicy = request.app.state.location_policy
        policy.check(location)
    eid = store.create_experiment(body.name, location, tags)
    return p.CreateExperimentResponse(experiment_id=eid)


@router.post(p.SEARCH_EXPERIMENTS.path)
def search_experiments(
    body: p.SearchExperiments, store: Store, request: Request
) -> p.SearchExperimentsResponse:
    return _search_experiments(body, store, request)


@router.get(p.SEARCH_EXPERIMENTS.path)
def search_experiments_get(
    query: Annotated[p.SearchExperiments, Query()], store: Store, request: Request
) -> p.SearchExperimentsResponse:
    """The same search with its fields in the query string (``order_by`` repeated), as
    MLflow's server accepts it."""
    return _search_experiments(query, store, request)


@router.post(p.SEARCH_DATASETS.path)
def search_datasets(body: p.SearchDatasets, store: Store) -> p.SearchDatasetsResponse:
    summaries = store.search_datasets(body.experiment_ids)
    return p.SearchDatasetsResponse(dataset_summaries=[p.DatasetSummaryJ.of(d) for d in summaries])


def _search_experiments(
    body: p.SearchExperiments, store: Store, request: Request
) -> p.SearchExperimentsResponse:
    view = ViewType.parse(body.view_type)
    max_results = 1000 if body.max_results is None else body.max_results
    found, token = auth.visible_page(
        request,
        "experiment",
        lambda n, t: store.search_experiments(view, n, body.filter, body.order_by, t),
        max_results,
        body.page_token,
        key=lambda x: x.experiment_id,
        limit=v.MAX_RESULTS_SEARCH_EXPERIMENTS,
        scan_size=v.MAX_RESULTS_SEARCH_EXPERIMENTS,
    )
    return p.SearchExperimentsResponse(
        experiments=[ExperimentJ.of(x) for x in found], next_page_token=token
    )


@router.get(p.GET_EXPERIMENT.path)
def get_experiment(
    query: Annotated[p.GetExperiment, Query()], store: Store
) -> p.ExperimentResponse:
    return p.ExperimentResponse(
        experiment=ExperimentJ.of(store.get_experiment(query.experiment_id))
    )


@router.get(p.GET_EXPERIMENT_BY_NAME.path)
def get_experiment_by_name(
    query: Annotated[p.GetExperimentByName, Query()], store: Store
) -> p.ExperimentResponse:
    experiment = store.get_experiment_by_name(query.experiment_name)
    if experiment is None:
        raise NotFound(f"Could not find experiment with name '{query.experiment_name}'")
    return p.ExperimentResponse(experiment=ExperimentJ.of(experiment))


@router.post(p.UPDATE_EXPERIMENT.path)
def update_experiment(body: p.UpdateExperiment, store: Store) -> p.Empty:
    store.rename_experiment(body.experiment_id, body.new_name)
    return p.Empty()


@router.post(p.DELETE_EXPERIMENT.path)
def delete_experiment(body: p.ExperimentId, store: Store) -> p.Empty:
    store.delete_experiment(body.experiment_id)
    return p.Empty()


@router.post(p.RESTORE_EXPERIMENT.path)
def restore_experiment(body: p.ExperimentId, store: Store) -> p.Empty:
    store.restore_experiment(body.experiment_id)
    return p.Empty()


@router.post(p.SET_EXPERIMENT_TAG.path)
def set_experiment_tag(body: p.SetExperimentTag, store: Store) -> p.Empty:
    store.set_experiment_tag(body.experiment_id, body.key, body.value)
    return p.Empty()


@router.post(p.DELETE_EXPERIMENT_TAG.path)
def delete_experiment_tag(body: p.DeleteExperimentTag, store: Store) -> p.Empty:
    store.delete_experiment_tag(body.experiment_id, body.key)
    return p.Empty()
