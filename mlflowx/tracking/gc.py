"""Garbage collection (``mlflowx gc``): purge deleted runs, experiments and logged models.

As MLflow's ``mlflow gc``: only objects in the ``deleted`` lifecycle stage go, with their
artifacts. Artifacts are deleted before the rows, so an interrupted collection leaves every
remaining object still listed as deleted and a second run finishes it.
"""

from __future__ import annotations

import posixpath
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.store.artifacts import get_artifact_repository, safe_artifact_path

__all__ = [
    "GcPlan",
    "GcResult",
    "PurgeableStore",
    "collect",
    "parse_older_than",
    "plan",
    "purgeable",
]

PROXY_SCHEME = "mlflow-artifacts:"
_AGE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


@runtime_checkable
class PurgeableStore(Protocol):
    """What gc needs of a store: the SQL tracking store's purge methods."""

    def deleted_runs(self, older_than_ms: int | None = None) -> list[str]: ...
    def deleted_experiments(self, older_than_ms: int | None = None) -> list[str]: ...
    def deleted_logged_models(self, older_than_ms: int | None = None) -> list[str]: ...
    def run_artifact_locations(self, run_id: str) -> list[str]: ...
    def experiment_runs(self, experiment_id: str) -> list[str]: ...
    def experiment_artifact_locations(self, experiment_id: str) -> list[str]: ...
    def logged_model_artifact_location(self, model_id: str) -> str: ...
    def purge_run(self, run_id: str, *, with_experiment: bool = False) -> None: ...
    def purge_experiment(self, experiment_id: str) -> None: ...
    def purge_logged_model(self, model_id: str) -> None: ...


def purgeable(store: object, uri: str) -> PurgeableStore:
    """``store`` if it can purge; else an error saying which store URIs can."""
    if not isinstance(store, PurgeableStore):
        raise InvalidParameter(
            f"gc cannot purge through {uri!r}: pass --backend-store-uri with the SQL store "
            "(sqlite:///... or postgresql://...) or the tracking server's http(s):// URI"
        )
    return store


def parse_older_than(value: str) -> int:
    """``1d2h3m4s`` (any part may be left out) in milliseconds."""
    match = _AGE.match(value.strip())
    if not value.strip() or match is None:
        raise InvalidParameter(
            f"Could not parse --older-than {value!r}: use days, hours, minutes and seconds "
            "like '30d', '12h' or '1d2h3m4s'"
        )
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60_000 + seconds * 1000


@dataclass
class GcPlan:
    """What a collection deletes: runs on their own, whole experiments, logged models."""

    run_ids: list[str] = field(default_factory=list)
    experiment_ids: list[str] = field(default_factory=list)
    model_ids: list[str] = field(default_factory=list)

    @property
    def steps(self) -> int:
        return len(self.run_ids) + len(self.experiment_ids) + len(self.model_ids)


@dataclass
class GcResult:
    runs: int = 0
    experiments: int = 0
    logged_models: int = 0
    artifact_locations: list[str] = field(default_factory=list)


def plan(
    store: PurgeableStore,
    older_than: str | None = None,
    run_ids: Sequence[str] = (),
    experiment_ids: Sequence[str] = (),
) -> GcPlan:
    """What to purge. With no ids: every deleted run, experiment and logged model (deleted
    longer ago than ``older_than`` when given). With ids: only those, each of which must be
    deleted (and old enough)."""
    cutoff = None if older_than is None else int(time.time() * 1000) - parse_older_than(older_than)
    deleted_runs = store.deleted_runs()
    old_runs = set(store.deleted_runs(cutoff))
    deleted_exps = store.deleted_experiments()
    old_exps = set(store.deleted_experiments(cutoff))
    if not run_ids and not experiment_ids:
        exps = sorted(old_exps, key=int)
        in_exps = {r for e in exps for r in store.experiment_runs(e)}
        return GcPlan(
            run_ids=[r for r in deleted_runs if r in old_runs and r not in in_exps],
            experiment_ids=exps,
            model_ids=store.deleted_logged_models(cutoff),
        )
    for eid in experiment_ids:
        if eid not in deleted_exps:
            raise InvalidParameter(
                f"Experiment {eid} is not in `deleted` lifecycle stage (or does not exist). "
                "Only experiments in `deleted` lifecycle stage can be deleted."
            )
        if eid not in old_exps:
            raise InvalidParameter(
                f"Experiment {eid} was deleted less than {older_than} ago; only experiments "
                f"deleted longer ago than --older-than can be purged."
            )
    in_exps = {r for e in experiment_ids for r in store.experiment_runs(e)}
    for rid in run_ids:
        if rid in in_exps:
            continue
        if rid not in deleted_runs:
            raise InvalidParameter(
                f"Run {rid} is not in `deleted` lifecycle stage (or does not exist). Only runs "
                "in `deleted` lifecycle stage can be deleted."
            )
        if rid not in old_runs:
            raise InvalidParameter(
                f"Run {rid} was deleted less than {older_than} ago; only runs deleted longer "
                "ago than --older-than can be purged."
            )
    return GcPlan(
        run_ids=[r for r in dict.fromkeys(run_ids) if r not in in_exps],
        experiment_ids=list(dict.fromkeys(experiment_ids)),
    )


def _delete_artifacts(uri: str, artifacts_destination: str | None) -> None:
    if uri.startswith(PROXY_SCHEME):
        assert artifacts_destination is not None  # checked by collect()
        sub = safe_artifact_path(urlsplit(uri).path.lstrip("/"))
        uri = posixpath.join(artifacts_destination.rstrip("/"), sub)
    get_artifact_repository(uri).delete_artifacts()


def collect(
    store: PurgeableStore,
    todo: GcPlan,
    artifacts_destination: str | None = None,
    on_step: Callable[[str], None] = lambda _: None,
    check_location: Callable[[str], object] | None = None,
) -> GcResult:
    """Purge what ``todo`` lists, artifacts first; ``on_step`` is called after each object.

    ``check_location`` vets every location stored as a direct URI (not ``mlflow-artifacts:/``)
    before anything is deleted, raising to refuse it: a tracking server passes its location
    policy, so a row such as ``file:///etc`` cannot make it delete its own machine's files.
    """
    run_locations = {r: store.run_artifact_locations(r) for r in todo.run_ids}
    exp_runs = {e: store.experiment_runs(e) for e in todo.experiment_ids}
    exp_locations = {
        e: [u for r in runs for u in store.run_artifact_locations(r)]
        + store.experiment_artifact_locations(e)
        for e, runs in exp_runs.items()
    }
    model_locations = {m: [store.logged_model_artifact_location(m)] for m in todo.model_ids}
    everything = [
        u for d in (run_locations, exp_locations, model_locations) for us in d.values() for u in us
    ]
    if check_location is not None:
        for uri in dict.fromkeys(u for u in everything if u and not u.startswith(PROXY_SCHEME)):
            check_location(uri)
    if artifacts_destination is None and any(u.startswith(PROXY_SCHEME) for u in everything):
        raise InvalidParameter(
            "Some artifacts are stored through a tracking server's proxy (mlflow-artifacts:/ "
            "URIs); pass --artifacts-destination with the server's --artifacts-destination "
            "so gc can delete them"
        )
    result = GcResult()

    def drop(locations: list[str]) -> None:
        for uri in dict.fromkeys(u for u in locations if u):
            _delete_artifacts(uri, artifacts_destination)
            result.artifact_locations.append(uri)

    for rid, locations in run_locations.items():
        drop(locations)
        store.purge_run(rid)
        result.runs += 1
        on_step(f"run {rid}")
    for eid, locations in exp_locations.items():
        drop(locations)
        store.purge_experiment(eid)
        result.experiments += 1
        result.runs += len(exp_runs[eid])
        on_step(f"experiment {eid}")
    for mid, locations in model_locations.items():
        try:
            store.logged_model_artifact_location(mid)
        except NotFound:
            continue  # went with its run or experiment above
        drop(locations)
        store.purge_logged_model(mid)
        result.logged_models += 1
        on_step(f"logged model {mid}")
    return result
