"""More of MLflow's fluent API: experiment tags, parent runs, tables and logged models.

Kept apart from :mod:`mlflowx.tracking.fluent` (runs and logging) to keep modules small; the
functions act on the same active run and experiment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from mlflowx.entities import LoggedModel, LoggedModelStatus, ModelInput, ModelOutput, Run
from mlflowx.exceptions import InvalidParameter
from mlflowx.tracking import _context as ctx
from mlflowx.tracking.fluent import (
    _client,
    _experiment_id,
    _run_id,
    active_run,
    flush_async_logging,
    log_input,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "delete_experiment_tag",
    "delete_logged_model_tag",
    "finalize_logged_model",
    "flush_artifact_async_logging",
    "get_logged_model",
    "get_parent_run",
    "initialize_logged_model",
    "last_logged_model",
    "load_table",
    "log_inputs",
    "log_model_params",
    "log_outputs",
    "log_stream",
    "log_table",
    "restore_experiment",
    "search_logged_models",
    "set_experiment_tags",
    "set_logged_model_tags",
]


# ------------------------------------------------------------------------ experiments, runs
def set_experiment_tags(tags: Mapping[str, Any]) -> None:
    """Set several tags on the active experiment."""
    client, experiment_id = _client(), _experiment_id()
    for key, value in tags.items():
        client.set_experiment_tag(experiment_id, key, value)


def delete_experiment_tag(key: str) -> None:
    """Delete the tag ``key`` of the active experiment."""
    _client().delete_experiment_tag(_experiment_id(), key)


def restore_experiment(experiment_id: str) -> None:
    """Restore a deleted experiment (and its runs) before it is purged."""
    _client().restore_experiment(experiment_id)


def log_inputs(
    datasets: Sequence[Any] | None = None,
    contexts: Sequence[str | None] | None = None,
    tags_list: Sequence[Mapping[str, str] | None] | None = None,
    models: Sequence[Any] | None = None,
) -> None:
    """Record several datasets (from :mod:`mlflowx.data`) as inputs of the active run, each
    with its context and tags at the same position, and logged models
    (``LoggedModelInput(model_id)``) as its model inputs."""
    if models:
        _client().log_inputs(_run_id(), models=[ModelInput(m.model_id) for m in models])
    datasets = list(datasets or [])
    for name, seq in (("contexts", contexts), ("tags_list", tags_list)):
        if seq is not None and len(seq) != len(datasets):
            raise InvalidParameter(
                f"log_inputs: {name} has {len(seq)} entries for {len(datasets)} datasets; "
                "give one per dataset (None for none)"
            )
    for i, dataset in enumerate(datasets):
        log_input(dataset, contexts[i] if contexts else None, tags_list[i] if tags_list else None)


def log_outputs(models: Sequence[ModelOutput] | None = None) -> None:
    """Record logged models (``ModelOutput(model_id, step)``) as outputs of the active run."""
    if models:
        _client().log_outputs(_run_id(), list(models))


def flush_artifact_async_logging() -> None:
    """Wait for pending logging: artifacts upload synchronously in mlflowx, so this waits for
    the asynchronous metric/param/tag batches (as :func:`flush_async_logging`)."""
    flush_async_logging()


def get_parent_run(run_id: str) -> Run | None:
    """The parent of a nested run, or None for a top-level run."""
    return _client().get_parent_run(run_id)


def log_stream(stream: BinaryIO, artifact_file: str, run_id: str | None = None) -> None:
    """Log a binary file-like object (e.g. ``io.BytesIO``) as the artifact ``artifact_file``."""
    _client().log_stream(run_id or _run_id(), stream, artifact_file)


# ------------------------------------------------------------------------ tables
def log_table(data: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Log a DataFrame (or a dict of columns) as a table artifact of the active run (or of
    ``run_id``), appending rows when ``artifact_file`` exists; JSON or Parquet by extension."""
    _client().log_table(run_id or _run_id(), data, artifact_file)


def load_table(
    artifact_file: str,
    run_ids: Sequence[str] | None = None,
    extra_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The table ``artifact_file`` from the runs of the active experiment that logged it."""
    return _client().load_table(_experiment_id(), artifact_file, run_ids, extra_columns)


# ------------------------------------------------------------------------ logged models
def get_logged_model(model_id: str) -> LoggedModel:
    return _client().get_logged_model(model_id)


def initialize_logged_model(
    name: str | None = None,
    source_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    experiment_id: str | None = None,
) -> LoggedModel:
    """Create a PENDING logged model in the active experiment, linked to the active run;
    upload its files with ``MlflowClient.log_model_artifacts``, then finalize it. Without
    ``name`` it gets a generated one (like a run's), as in MLflow."""
    from mlflowx.utils.names import generate_run_name

    current = active_run()
    run_id = source_run_id or (current.info.run_id if current else None)
    model = _client().create_logged_model(
        experiment_id or _experiment_id(),
        name or generate_run_name(),
        run_id,
        tags,
        params,
        model_type,
    )
    ctx.last_logged_model_id.set(model.model_id)
    return model


def last_logged_model() -> LoggedModel | None:
    """The logged model most recently created in this context (by ``log_model`` or
    ``initialize_logged_model``), freshly read; None when there is none."""
    model_id = ctx.last_logged_model_id.get()
    return None if model_id is None else _client().get_logged_model(model_id)


def finalize_logged_model(model_id: str, status: LoggedModelStatus | str) -> LoggedModel:
    return _client().finalize_logged_model(model_id, status)


def set_logged_model_tags(model_id: str, tags: Mapping[str, Any]) -> None:
    _client().set_logged_model_tags(model_id, tags)


def delete_logged_model_tag(model_id: str, key: str) -> None:
    _client().delete_logged_model_tag(model_id, key)


def log_model_params(params: Mapping[str, Any], model_id: str | None = None) -> None:
    """Log parameters of a logged model (``model_id`` is required: mlflowx keeps no active
    model)."""
    if model_id is None:
        raise InvalidParameter(
            "log_model_params needs model_id: mlflowx has no active model to default to"
        )
    _client().log_model_params(model_id, params)


def _order(order_by: Sequence[Mapping[str, Any] | str] | None) -> list[str] | None:
    """MLflow's ``[{"field_name": ..., "ascending": ...}]`` as ``"<field> ASC|DESC"``."""
    if order_by is None:
        return None
    clauses = []
    for item in order_by:
        if isinstance(item, str):
            clauses.append(item)
            continue
        if "field_name" not in item or item.get("dataset_name") or item.get("dataset_digest"):
            raise InvalidParameter(
                f"search_logged_models order_by entry {dict(item)!r}: give 'field_name' (and "
                "optionally 'ascending'); ordering by dataset is not supported"
            )
        clauses.append(f"{item['field_name']} {'ASC' if item.get('ascending', True) else 'DESC'}")
    return clauses


def search_logged_models(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    datasets: Sequence[Mapping[str, str]] | None = None,
    max_results: int | None = None,
    order_by: Sequence[Mapping[str, Any] | str] | None = None,
    output_format: Literal["pandas", "list"] = "pandas",
) -> pd.DataFrame | list[LoggedModel]:
    """Logged models of the experiments (default: the active one) matching ``filter_string``
    (e.g. ``"metrics.accuracy > 0.9"``), every page or at most ``max_results``."""
    if datasets:
        raise InvalidParameter(
            "search_logged_models: the datasets filter is not supported by mlflowx; filter "
            "with metrics in filter_string instead"
        )
    if output_format not in ("pandas", "list"):
        raise InvalidParameter(f"output_format must be 'pandas' or 'list', got {output_format!r}")
    client = _client()
    ids = [str(e) for e in experiment_ids] if experiment_ids else [_experiment_id()]
    found: list[LoggedModel] = []
    token: str | None = None
    while max_results is None or len(found) < max_results:
        want = 100 if max_results is None else min(100, max_results - len(found))
        page = client.search_logged_models(ids, filter_string, want, _order(order_by), token)
        found.extend(page)
        token = page.token
        if not token:
            break
    if output_format == "list":
        return found
    import dataclasses

    import pandas as pd

    return pd.DataFrame([dataclasses.asdict(m) for m in found])
