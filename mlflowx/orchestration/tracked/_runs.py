"""Writing a tracked run: batches within MLflow's limits, parameters, experiments by name,
finding a retried run by its Prefect tag, and the results a flow or task returns."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from mlflowx.entities import Metric, ModelOutput, Param, Run, RunTag, now_ms
from mlflowx.exceptions import MlflowxError
from mlflowx.orchestration._context import (
    Tracking,
    activate,
    current_tracking,
)
from mlflowx.orchestration._flatten import TRUNCATED_TAG, Results, flatten_params, flatten_results
from mlflowx.tracking.client import MlflowxClient
from mlflowx.utils.validation import MAX_PARAMS_TAGS_PER_BATCH, MAX_TAG_VAL_LENGTH

__all__ = [
    "current_run_id",
    "error_text",
    "experiment_id_for",
    "find_run",
    "log_batch",
    "log_results_of",
    "split_params",
]
logger = logging.getLogger("mlflowx.orchestration")

#: (tracking URI, experiment name) -> experiment id.
_EXPERIMENTS: dict[tuple[str, str], str] = {}


# ---------------------------------------------------------------------------- public helpers
def current_run_id() -> str | None:
    """The id of the active tracking run: the innermost tracked task or flow run (or a run
    started with ``mlflowx.start_run``) of this context; ``None`` outside any."""
    tracking = current_tracking()
    return tracking.run_id if tracking is not None else None


# ---------------------------------------------------------------------------- store helpers
def log_batch(
    client: MlflowxClient,
    run_id: str,
    metrics: Sequence[Metric] = (),
    params: Sequence[Param] = (),
    tags: Sequence[RunTag] = (),
) -> None:
    """One ``log_batch`` call, or a few when there are more params and tags than one allows."""
    store = client.store
    if len(params) + len(tags) <= MAX_PARAMS_TAGS_PER_BATCH and len(metrics) <= 1000:
        store.log_batch(run_id, list(metrics), list(params), list(tags))
        return
    items: list[Param | RunTag] = [*params, *tags]
    for start in range(0, max(len(items), 1), MAX_PARAMS_TAGS_PER_BATCH):
        chunk = items[start : start + MAX_PARAMS_TAGS_PER_BATCH]
        store.log_batch(
            run_id,
            list(metrics[start // MAX_PARAMS_TAGS_PER_BATCH * 1000 :][:1000]) if start == 0 else [],
            [p for p in chunk if isinstance(p, Param)],
            [t for t in chunk if isinstance(t, RunTag)],
        )
    for start in range(1000, len(metrics), 1000):
        store.log_batch(run_id, list(metrics[start : start + 1000]), [], [])


def split_params(values: Mapping[str, Any]) -> tuple[list[Param], list[RunTag]]:
    flat, truncated = flatten_params(values)
    tags = [RunTag(TRUNCATED_TAG, ",".join(truncated))] if truncated else []
    return [Param(k, v) for k, v in flat.items()], tags


def experiment_id_for(client: MlflowxClient, name: str) -> str:
    key = (client.tracking_uri, name)
    found = _EXPERIMENTS.get(key)
    if found is None:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            try:
                found = client.create_experiment(name)
            except MlflowxError:  # created by another process in between
                experiment = client.get_experiment_by_name(name)
                if experiment is None:
                    raise
                found = experiment.experiment_id
        else:
            found = experiment.experiment_id
        _EXPERIMENTS[key] = found
    return found


def find_run(client: MlflowxClient, experiment_id: str | None, tag: str, value: str) -> str | None:
    """A run by one of its ``mlflowx.prefect.*`` tags (a retried or crashed Prefect run)."""
    if experiment_id is None:
        ids = [e.experiment_id for e in client.search_experiments(max_results=1000)]
    else:
        ids = [experiment_id]
    if not ids:
        return None
    found = client.search_runs(ids, f"tags.`{tag}` = '{value}'", max_results=1)
    return found[0].info.run_id if found else None


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_TAG_VAL_LENGTH]


def log_results_of(client: MlflowxClient, tracking: Tracking, run: Run | None, value: Any) -> None:
    """Metrics and tags from a return value, models logged or linked (see ``_flatten``)."""
    results: Results = flatten_results(value)
    if not results:
        return
    t = now_ms()
    tags = dict(results.tags)
    if results.models or results.model_infos:
        with activate(tracking, run):
            for key, model in results.models.items():
                from mlflowx.sklearn import log_model

                info = log_model(model, name=key.replace("/", "_"))
                tags[key] = info.model_uri
        for key, info in results.model_infos.items():
            tags[key] = str(info.model_uri)
            model_id = getattr(info, "model_id", None)
            if model_id and getattr(info, "run_id", None) != tracking.run_id:
                client.log_outputs(tracking.run_id, [ModelOutput(str(model_id))])
    log_batch(
        client,
        tracking.run_id,
        metrics=[Metric(k, v, t, 0) for k, v in results.metrics.items()],
        tags=[RunTag(k, v) for k, v in tags.items()],
    )
