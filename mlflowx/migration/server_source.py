"""A running MLflow server, read through its REST API with mlflowx's own REST client.

Artifacts a server proxies (``mlflow-artifacts:/...``) are read through the server's
``/api/2.0/mlflow-artifacts`` endpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from mlflowx.entities import ModelVersion, PagedList, Run, ViewType
from mlflowx.migration.records import (
    SourceExperiment,
    SourceLoggedModel,
    SourceModelVersion,
    SourceRegisteredModel,
    SourceRun,
)
from mlflowx.migration.sources import MlflowSource
from mlflowx.tracking import MlflowxClient

__all__ = ["ServerSource"]

T = TypeVar("T")


def _all(fetch: Callable[[str | None], PagedList[T]]) -> Iterator[T]:
    token: str | None = None
    while True:
        page = fetch(token)
        yield from page
        token = page.token
        if not token:
            return


class ServerSource(MlflowSource):
    def __init__(self, uri: str) -> None:
        self.uri = uri.rstrip("/")
        self.client = MlflowxClient(self.uri, self.uri)
        self._runs: dict[str, Run] = {}

    def _artifact_uri(self, uri: str) -> str:
        if uri.startswith("mlflow-artifacts:"):
            from mlflowx.store.artifacts.http import proxy_uri

            return proxy_uri(self.uri, uri)
        return uri

    def experiments(self) -> list[SourceExperiment]:
        return [
            SourceExperiment(
                e.experiment_id,
                e.name,
                e.artifact_location,
                str(e.lifecycle_stage),
                e.creation_time,
                dict(e.tags),
            )
            for e in _all(
                lambda t: self.client.search_experiments(ViewType.ALL, 1000, page_token=t)
            )
        ]

    def run_ids(self, experiment_id: str) -> list[str]:
        runs = list(
            _all(
                lambda t: self.client.search_runs(
                    [experiment_id],
                    run_view_type=ViewType.ALL,
                    max_results=1000,
                    order_by=["attributes.start_time ASC"],
                    page_token=t,
                )
            )
        )
        self._runs.update((r.info.run_id, r) for r in runs)
        return [r.info.run_id for r in runs]

    def run(self, experiment_id: str, run_id: str) -> SourceRun:
        found = self._runs.get(run_id) or self.client.get_run(run_id)
        info, data = found.info, found.data
        run = SourceRun(
            run_id,
            experiment_id,
            info.run_name,
            info.user_id,
            str(info.status),
            info.start_time,
            info.end_time,
            str(info.lifecycle_stage),
            self._artifact_uri(info.artifact_uri or ""),
            dict(data.params),
            dict(data.tags),
        )
        for key in data.metrics:
            run.metrics.extend(self.client.get_metric_history(run_id, key))
        run.inputs = list(found.inputs.dataset_inputs)
        run.model_inputs = self.model_inputs(experiment_id, run_id)
        return run

    def model_inputs(self, experiment_id: str, run_id: str) -> list[str]:
        # MLflow's runs/search leaves a run's model inputs out: runs/get has them.
        return sorted(m.model_id for m in self.client.get_run(run_id).inputs.model_inputs)

    def run_location(self, experiment_id: str, run_id: str) -> tuple[str, str]:
        info = (self._runs.get(run_id) or self.client.get_run(run_id)).info
        return self._artifact_uri(info.artifact_uri or ""), str(info.lifecycle_stage)

    def logged_models(self, experiment_id: str) -> list[SourceLoggedModel]:
        return [
            SourceLoggedModel(
                m.model_id,
                experiment_id,
                m.name,
                self._artifact_uri(m.artifact_location),
                str(m.status),
                m.source_run_id,
                m.model_type,
                dict(m.params),
                dict(m.tags),
                list(m.metrics),
            )
            for m in _all(lambda t: self.client.search_logged_models([experiment_id], page_token=t))
        ]

    def registered_models(self) -> Iterator[SourceRegisteredModel]:
        for rm in list(_all(lambda t: self.client.search_registered_models(page_token=t))):
            model = SourceRegisteredModel(rm.name, rm.description, dict(rm.tags))
            model.aliases = {a: int(v) for a, v in rm.aliases.items()}
            query = "name = '{}'".format(rm.name.replace("'", "\\'"))
            versions = list(_all(self._versions_page(query)))
            model.versions = sorted(
                (
                    SourceModelVersion(
                        int(v.version),
                        v.source or "",
                        v.run_id,
                        v.description,
                        v.current_stage,
                        v.model_id,
                        dict(v.tags),
                    )
                    for v in versions
                ),
                key=lambda v: v.version,
            )
            yield model

    def _versions_page(self, query: str) -> Callable[[str | None], PagedList[ModelVersion]]:
        def fetch(token: str | None) -> PagedList[ModelVersion]:
            return self.client.search_model_versions(query, page_token=token)

        return fetch
