"""Copy what an :class:`~mlflowx.migration.sources.MlflowSource` holds into an mlflowx store.

Idempotent and resumable: every copied experiment, run, logged model and model version carries
the id it had in the source (``mlflowx.import.source_*`` tags), and a re-run skips what it
finds. A run is tagged ``mlflowx.import.pending`` until its history, inputs, artifacts and
status are all written; a pending run left by an interrupted import is copied again into the
same run (metric points, params, inputs and artifacts are written idempotently).

Run ids are kept when the destination is a SQL store (MLflow's and mlflowx's ids are both 32
hex digits) and no run there has the id yet; otherwise the destination allocates one. Logged
model ids and version numbers are the destination's; the registry's version sources are
rewritten to the copied runs and models. Deleted experiments and runs are copied, then
deleted.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from mlflowx.entities import (
    LifecycleStage,
    Metric,
    ModelInput,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from mlflowx.exceptions import MlflowxError, NotFound
from mlflowx.migration.records import (
    SourceExperiment,
    SourceLoggedModel,
    SourceRegisteredModel,
    SourceRun,
)
from mlflowx.migration.sources import MlflowSource
from mlflowx.store.artifacts import ArtifactRepository, get_artifact_repository
from mlflowx.store.schemes import scheme_of
from mlflowx.tracking import MlflowxClient
from mlflowx.utils.uri import parse_model_uri, parse_runs_uri

__all__ = ["KINDS", "Progress", "Summary", "import_store"]

TAG_EXPERIMENT = "mlflowx.import.source_experiment_id"
TAG_RUN = "mlflowx.import.source_run_id"
TAG_MODEL = "mlflowx.import.source_model_id"
TAG_VERSION = "mlflowx.import.source_version"
TAG_PENDING = "mlflowx.import.pending"
_RUN_ID = re.compile(r"[0-9a-f]{32}")
KINDS = ("experiments", "runs", "logged models", "registered models", "model versions")
_RUN_NAME = "mlflow.runName"
# MLflow's log_batch limits.
_BATCH = {"metrics": 1000, "params": 100, "tags": 100}
T = TypeVar("T")


class Progress(Protocol):
    """What the importer reports to (the CLI passes a rich progress bar)."""

    def total(self, n: int) -> None: ...
    def advance(self, what: str) -> None: ...


class _Quiet:
    def total(self, n: int) -> None:
        pass

    def advance(self, what: str) -> None:
        pass


@dataclass
class Summary:
    copied: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, int, int, int]]:
        return [(k, self.copied[k], self.skipped[k], self.failed[k]) for k in KINDS]


def _chunks(items: Sequence[T], size: int) -> Iterable[list[T]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


def _local_dir(uri: str) -> Path | None:
    if scheme_of(uri) != "file":
        return None
    path = uri.removeprefix("file://") if uri.startswith("file://") else uri.removeprefix("file:")
    return Path(path)


class _Importer:
    def __init__(self, source: MlflowSource, client: MlflowxClient, progress: Progress) -> None:
        self.source, self.client, self.progress = source, client, progress
        self.summary = Summary()
        self.runs: dict[str, str] = {}  # source run id -> destination run id
        self.models: dict[str, str] = {}  # source model id -> destination model id
        self.locations: dict[str, str] = {}  # source artifact location -> destination

    # ------------------------------------------------------------------ driver
    def run(self) -> Summary:
        experiments = self.source.experiments()
        plan = {e.experiment_id: self.source.run_ids(e.experiment_id) for e in experiments}
        models = {e.experiment_id: self.source.logged_models(e.experiment_id) for e in experiments}
        registry = list(self.source.registered_models())
        self.progress.total(
            sum(map(len, plan.values()))
            + sum(map(len, models.values()))
            + sum(len(m.versions) for m in registry)
        )
        for exp in experiments:
            self._experiment(exp, plan[exp.experiment_id], models[exp.experiment_id])
        # Once every run and model is there: the models' metrics and the runs' model inputs.
        for exp in experiments:
            self._model_links(exp, plan[exp.experiment_id], models[exp.experiment_id])
        for model in registry:
            self._registered_model(model)
        return self.summary

    def _fail(self, kind: str, what: str, exc: Exception) -> None:
        self.summary.failed[kind] += 1
        self.summary.errors.append(f"{kind[:-1]} {what}: {exc}")

    # ------------------------------------------------------------------ experiments
    def _experiment(
        self, exp: SourceExperiment, run_ids: list[str], models: list[SourceLoggedModel]
    ) -> None:
        try:
            dest_id, deleted = self._dest_experiment(exp)
        except MlflowxError as exc:
            self._fail("experiments", exp.name, exc)
            for _ in [*run_ids, *models]:
                self.progress.advance("")
            return
        if deleted:
            self.client.restore_experiment(dest_id)
        try:
            existing = self._existing_runs(dest_id)
            for run_id in run_ids:
                self._run(exp, dest_id, run_id, existing)
                self.progress.advance(f"run {run_id}")
            existing_models = self._existing_models(dest_id)
            for model in models:
                self._logged_model(dest_id, model, existing_models)
                self.progress.advance(f"model {model.model_id}")
        finally:
            if deleted or exp.lifecycle_stage == LifecycleStage.DELETED:
                self.client.delete_experiment(dest_id)

    def _dest_experiment(self, exp: SourceExperiment) -> tuple[str, bool]:
        """The destination experiment (same name), created if missing; and whether it is
        deleted there."""
        tags = {**exp.tags, TAG_EXPERIMENT: exp.experiment_id}
        found = self.client.get_experiment_by_name(exp.name)
        if found is None:
            dest = self.client.create_experiment(exp.name, tags=tags)
            self.summary.copied["experiments"] += 1
            return str(dest), False
        for key, value in tags.items():
            if found.tags.get(key) != value:
                self.client.set_experiment_tag(found.experiment_id, key, value)
        self.summary.skipped["experiments"] += 1
        return found.experiment_id, found.lifecycle_stage == LifecycleStage.DELETED

    def _existing_runs(self, experiment_id: str) -> dict[str, Any]:
        """Destination runs by source run id: copied, or left pending by an interrupted
        import (copied again into the same run: its writes are idempotent)."""
        found: dict[str, Any] = {}
        token: str | None = None
        while True:
            page = self.client.search_runs(
                [experiment_id], run_view_type=ViewType.ALL, max_results=1000, page_token=token
            )
            for run in page:
                source_id = run.data.tags.get(TAG_RUN)
                if source_id:
                    found[source_id] = run
            token = page.token
            if not token:
                return found

    # ------------------------------------------------------------------ runs
    def _run(
        self, exp: SourceExperiment, dest_exp: str, run_id: str, existing: dict[str, Any]
    ) -> None:
        done = existing.get(run_id)
        if done is not None and TAG_PENDING not in done.data.tags:
            self.runs[run_id] = done.info.run_id
            try:
                src_uri, stage = self.source.run_location(exp.experiment_id, run_id)
            except (MlflowxError, OSError, ValueError) as exc:
                self._fail("runs", run_id, exc)
                return
            if src_uri:
                self.locations[src_uri] = done.info.artifact_uri or ""
            if stage == LifecycleStage.DELETED and (
                done.info.lifecycle_stage != LifecycleStage.DELETED
            ):  # interrupted between finishing the copy and deleting it
                self.client.delete_run(done.info.run_id)
            self.summary.skipped["runs"] += 1
            return
        try:
            src = self.source.run(exp.experiment_id, run_id)
            self._copy_run(dest_exp, src, done)
        except (MlflowxError, OSError, ValueError) as exc:
            self._fail("runs", run_id, exc)
        else:
            self.summary.copied["runs"] += 1

    def _copy_run(self, dest_exp: str, src: SourceRun, pending: Any = None) -> None:
        tags = {k: v for k, v in src.tags.items() if k != _RUN_NAME}
        run = pending or self._create_run(dest_exp, src)
        dest = run.info.run_id
        self.runs[src.run_id] = dest
        store = self.client.store
        for batch in _chunks(sorted(src.params.items()), _BATCH["params"]):
            store.log_batch(dest, [], [Param(k, v) for k, v in batch], [])
        for tag_batch in _chunks(sorted(tags.items()), _BATCH["tags"]):
            store.log_batch(dest, [], [], [RunTag(k, v) for k, v in tag_batch])
        metrics: list[Metric] = src.metrics
        for metric_batch in _chunks(metrics, _BATCH["metrics"]):
            store.log_batch(dest, metric_batch, [], [])
        if src.inputs:
            store.log_inputs(dest, src.inputs)
        dest_uri = run.info.artifact_uri or ""
        self._copy_artifacts(src.artifact_uri, dest_uri)
        self.locations[src.artifact_uri] = dest_uri
        store.update_run_info(dest, RunStatus.parse(src.status), src.end_time)
        store.delete_tag(dest, TAG_PENDING)
        if src.lifecycle_stage == LifecycleStage.DELETED:
            store.delete_run(dest)

    def _create_run(self, dest_exp: str, src: SourceRun) -> Any:
        """The destination run, created pending; with the source's id when the destination
        store can take it (a SQL store) and no run has it there yet."""
        store = self.client.store
        name = src.name or src.tags.get(_RUN_NAME)
        start = [RunTag(TAG_RUN, src.run_id), RunTag(TAG_PENDING, "true")]
        from mlflowx.store.tracking.sql import SqlTrackingStore

        if isinstance(store, SqlTrackingStore) and _RUN_ID.fullmatch(src.run_id):
            try:
                store.get_run(src.run_id)
            except NotFound:
                return store.create_run(
                    dest_exp, src.user_id, src.start_time, start, name, run_id=src.run_id
                )
        return store.create_run(dest_exp, src.user_id, src.start_time, start, name)

    def _copy_artifacts(self, source_uri: str, dest_uri: str) -> None:
        if not source_uri:
            return
        local = _local_dir(source_uri)
        if local is not None:
            if local.is_dir() and any(local.iterdir()):
                self._dest_repository(dest_uri).log_artifacts(local)
            return
        with tempfile.TemporaryDirectory() as tmp:
            repo = get_artifact_repository(source_uri)
            if repo.list_artifacts():
                downloaded = repo.download_artifacts("", tmp)
                self._dest_repository(dest_uri).log_artifacts(downloaded)

    def _dest_repository(self, uri: str) -> ArtifactRepository:
        """Where artifacts go; a destination server's proxied ``mlflow-artifacts:`` URIs are
        written through that server."""
        if uri.startswith("mlflow-artifacts:"):
            from mlflowx.store.artifacts.http import proxy_uri

            uri = proxy_uri(self.client.tracking_uri, uri)
        return get_artifact_repository(uri)

    # ------------------------------------------------------------------ logged models
    def _existing_models(self, experiment_id: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        token: str | None = None
        while True:
            page = self.client.search_logged_models(
                [experiment_id], max_results=100, page_token=token
            )
            for model in page:
                source_id = model.tags.get(TAG_MODEL)
                if source_id:
                    found[source_id] = model
            token = page.token
            if not token:
                return found

    def _logged_model(
        self, dest_exp: str, src: SourceLoggedModel, existing: dict[str, Any]
    ) -> None:
        model = existing.get(src.model_id)
        if model is not None and model.status.value == src.status:
            self.models[src.model_id] = model.model_id
            self.locations[src.artifact_location] = model.artifact_location
            self.summary.skipped["logged models"] += 1
            return
        try:
            if model is None:  # else: a model an interrupted import left pending
                model = self.client.create_logged_model(
                    dest_exp,
                    src.name,
                    source_run_id=self.runs.get(src.source_run_id or ""),
                    tags={**src.tags, TAG_MODEL: src.model_id},
                    params=src.params,
                    model_type=src.model_type,
                )
            self.models[src.model_id] = model.model_id
            self._copy_artifacts(src.artifact_location, model.artifact_location)
            self.locations[src.artifact_location] = model.artifact_location
            if src.status != "LOGGED_MODEL_PENDING":
                self.client.finalize_logged_model(model.model_id, src.status)
        except (MlflowxError, OSError, ValueError) as exc:
            self._fail("logged models", src.model_id, exc)
        else:
            self.summary.copied["logged models"] += 1

    def _model_links(
        self, exp: SourceExperiment, run_ids: list[str], models: list[SourceLoggedModel]
    ) -> None:
        """Attach the models' metric points to the copied models (through the copied runs
        that logged them) and record the models the copied runs consumed; both writes are
        idempotent, so runs and models skipped by a re-run are linked again harmlessly."""
        by_run: dict[str, list[Metric]] = {}
        for model in models:
            dest_model = self.models.get(model.model_id)
            for m in model.metrics if dest_model else []:
                by_run.setdefault(m.run_id or "", []).append(
                    Metric(m.key, m.value, m.timestamp, m.step, None, dest_model,
                           m.dataset_name, m.dataset_digest)
                )  # fmt: skip
        for run_id in run_ids:
            dest = self.runs.get(run_id)
            if dest is None:
                continue
            try:
                consumed = self.source.model_inputs(exp.experiment_id, run_id)
                metrics = by_run.get(run_id, [])
                if consumed or metrics:
                    self._link_run(dest, metrics, consumed)
            except (MlflowxError, OSError, ValueError) as exc:
                self._fail("runs", f"{run_id} (its logged-model metrics and inputs)", exc)

    def _link_run(self, dest: str, metrics: list[Metric], consumed: list[str]) -> None:
        store = self.client.store
        deleted = store.get_run(dest).info.lifecycle_stage == LifecycleStage.DELETED
        if deleted:  # a deleted run takes no writes: restored for them, then deleted again
            store.restore_run(dest)
        try:
            for metric_batch in _chunks(metrics, _BATCH["metrics"]):
                store.log_batch(dest, metric_batch, [], [])
            if consumed:
                models = [ModelInput(self.models.get(m, m)) for m in consumed]
                store.log_inputs(dest, [], models)
        finally:
            if deleted:
                store.delete_run(dest)

    # ------------------------------------------------------------------ registry
    def _registered_model(self, src: SourceRegisteredModel) -> None:
        client = self.client
        try:
            try:
                client.get_registered_model(src.name)
                self.summary.skipped["registered models"] += 1
            except NotFound:
                client.create_registered_model(src.name, src.tags, src.description)
                self.summary.copied["registered models"] += 1
            for key, value in src.tags.items():
                client.set_registered_model_tag(src.name, key, value)
            versions: dict[int, str] = {}
            for mv in client.search_model_versions(f"name = '{_quote(src.name)}'"):
                if TAG_VERSION in mv.tags:
                    versions[int(mv.tags[TAG_VERSION])] = str(mv.version)
        except MlflowxError as exc:
            self._fail("registered models", src.name, exc)
            for _ in src.versions:
                self.progress.advance("")
            return
        for version in src.versions:
            if version.version in versions:
                self.summary.skipped["model versions"] += 1
            else:
                try:
                    mv = client.create_model_version(
                        src.name,
                        self._rewrite(version.source),
                        run_id=self.runs.get(version.run_id or "", None),
                        tags={**version.tags, TAG_VERSION: str(version.version)},
                        description=version.description,
                        model_id=self.models.get(_model_id(version.model_id, version.source)),
                    )
                    if version.stage not in ("None", ""):
                        client.transition_model_version_stage(src.name, mv.version, version.stage)
                    versions[version.version] = str(mv.version)
                    self.summary.copied["model versions"] += 1
                except (MlflowxError, OSError, ValueError) as exc:
                    self._fail("model versions", f"{src.name}/{version.version}", exc)
            self.progress.advance(f"model version {src.name}/{version.version}")
        for alias, number in src.aliases.items():
            if number in versions:
                client.set_registered_model_alias(src.name, alias, versions[number])

    def _rewrite(self, source: str) -> str:
        """A version's source, pointed at the copied run or model."""
        if source.startswith("runs:/"):
            run_id, rest = parse_runs_uri(source)
            if run_id in self.runs:
                return f"runs:/{self.runs[run_id]}/{rest or ''}".rstrip("/")
        if source.startswith("models:/"):
            model_id = parse_model_uri(source).model_id
            if model_id is not None and model_id in self.models:
                return source.replace(model_id, self.models[model_id], 1)
        for old, new in sorted(self.locations.items(), key=lambda kv: -len(kv[0])):
            for form in {old, _as_path(old)}:
                if form and (source == form or source.startswith(form.rstrip("/") + "/")):
                    return new + source[len(form) :]
        return source


def _model_id(model_id: str | None, source: str) -> str:
    """The logged model a version came from: its own field, or (MLflow's SQL schema has no
    such column) the ``models:/m-...`` source it was registered from."""
    if model_id:
        return model_id
    if source.startswith("models:/"):
        return parse_model_uri(source).model_id or ""
    return ""


def _as_path(uri: str) -> str:
    local = _local_dir(uri)
    return str(local) if local is not None else uri


def _quote(name: str) -> str:
    return name.replace("'", "\\'")


def import_store(
    source: MlflowSource, client: MlflowxClient, progress: Progress | None = None
) -> Summary:
    """Copy everything ``source`` holds into ``client``'s tracking store and registry."""
    return _Importer(source, client, progress or _Quiet()).run()
