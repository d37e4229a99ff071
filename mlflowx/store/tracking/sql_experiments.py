"""Experiments in the SQL tracking store: a mixin of ``SqlTrackingStore``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from mlflowx.entities import (
    DEFAULT_EXPERIMENT_ID,
    Experiment,
    LifecycleStage,
    PagedList,
    RunTag,
    ViewType,
    now_ms,
)
from mlflowx.exceptions import AlreadyExists, InvalidParameter, NotFound
from mlflowx.store.locations import LocationPolicy, absolute_local
from mlflowx.store.search import compile_experiments_search, decode_page_token, encode_page_token
from mlflowx.store.sql.db import Connection, Database
from mlflowx.store.tracking.base import SEARCH_MAX_RESULTS_DEFAULT
from mlflowx.utils import validation as v
from mlflowx.utils.uri import join_uri

__all__ = ["CHUNK", "ExperimentsMixin"]

CHUNK = 500  # ids per IN (...) list when loading many rows

_EXPERIMENT_COLUMNS = (
    "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time"
)


class ExperimentsMixin:
    """Creating, reading, searching, deleting and tagging experiments."""

    db: Database
    default_artifact_root: str
    location_policy: LocationPolicy

    def _experiment_int(self, experiment_id: str | int) -> int:
        number = v.parse_experiment_id(experiment_id)
        if number >= 2**63:  # no row can have it (and the driver cannot bind it)
            raise NotFound(f"No Experiment with id={experiment_id} exists")
        return number

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Sequence[RunTag] = ()
    ) -> str:
        name = v.validate_experiment_name(name)
        if artifact_location:
            artifact_location = absolute_local(artifact_location)
            self.location_policy.check(artifact_location)
        checked_tags = [v.validate_experiment_tag(t.key, t.value) for t in tags]
        t = now_ms()
        with self.db.write() as conn:
            existing = conn.execute(
                "SELECT lifecycle_stage FROM experiments WHERE name = :name", {"name": name}
            )
            if existing:
                hint = (
                    " in deleted state; restore it or choose another name"
                    if existing[0][0] == LifecycleStage.DELETED
                    else ""
                )
                raise AlreadyExists(f"Experiment(name={name}) already exists{hint}")
            try:
                rows = conn.execute(
                    "INSERT INTO experiments (name, artifact_location, lifecycle_stage, "
                    "creation_time, last_update_time) VALUES (:name, :loc, 'active', :t, :t) "
                    "RETURNING experiment_id",
                    {"name": name, "loc": artifact_location, "t": t},
                )
            except self.db.integrity_errors:
                raise AlreadyExists(f"Experiment(name={name}) already exists") from None
            experiment_id = str(rows[0][0])
            if not artifact_location:
                conn.execute(
                    "UPDATE experiments SET artifact_location = :loc WHERE experiment_id = :id",
                    {
                        "loc": join_uri(self.default_artifact_root, experiment_id),
                        "id": int(experiment_id),
                    },
                )
            if checked_tags:
                conn.executemany(
                    "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (:id, :k, :v)",
                    [
                        {"id": int(experiment_id), "k": k, "v": val}
                        for k, val in dict(checked_tags).items()
                    ],
                )
        return experiment_id

    def _load_experiments(
        self, conn: Connection, where: str, params: dict[str, Any]
    ) -> list[Experiment]:
        rows = conn.execute(
            f"SELECT {_EXPERIMENT_COLUMNS} FROM experiments e WHERE {where}", params
        )
        return self._experiments_from_rows(conn, rows)

    def _experiments_from_rows(
        self, conn: Connection, rows: list[tuple[Any, ...]]
    ) -> list[Experiment]:
        if not rows:
            return []
        ids = [int(r[0]) for r in rows]
        tags: dict[int, dict[str, str]] = defaultdict(dict)
        for chunk_start in range(0, len(ids), CHUNK):
            chunk = ids[chunk_start : chunk_start + CHUNK]
            marks = ", ".join(f":i{i}" for i in range(len(chunk)))
            for eid, key, value in conn.execute(
                f"SELECT experiment_id, key, value FROM experiment_tags "
                f"WHERE experiment_id IN ({marks})",
                {f"i{i}": e for i, e in enumerate(chunk)},
            ):
                tags[int(eid)][key] = value
        return [
            Experiment(
                experiment_id=str(r[0]),
                name=r[1],
                artifact_location=r[2] or "",
                lifecycle_stage=LifecycleStage(r[3]),
                tags=tags.get(int(r[0]), {}),
                creation_time=r[4],
                last_update_time=r[5],
            )
            for r in rows
        ]

    def get_experiment(self, experiment_id: str) -> Experiment:
        eid = self._experiment_int(experiment_id)
        with self.db.read() as conn:
            found = self._load_experiments(conn, "experiment_id = :id", {"id": eid})
        if not found:
            raise NotFound(f"No Experiment with id={experiment_id} exists")
        return found[0]

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        with self.db.read() as conn:
            found = self._load_experiments(conn, "name = :name", {"name": name})
        return found[0] if found else None

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        view_type = ViewType.parse(view_type)
        max_results = v.validate_max_results(max_results, v.MAX_RESULTS_SEARCH_EXPERIMENTS)
        offset = decode_page_token(page_token)
        frag = compile_experiments_search(filter_string, order_by, self.db.dialect)
        stages = view_type.stages()
        params: dict[str, Any] = dict(frag.params)
        params.update({f"ls{i}": s.value for i, s in enumerate(stages)})
        params.update({"limit": max_results + 1, "offset": offset})
        stage_marks = ", ".join(f":ls{i}" for i in range(len(stages)))
        sql = (
            f"SELECT {', '.join('e.' + c.strip() for c in _EXPERIMENT_COLUMNS.split(','))} "
            f"FROM experiments e {frag.joins} WHERE e.lifecycle_stage IN ({stage_marks}) "
            f"AND ({frag.where}) ORDER BY {frag.order_by} LIMIT :limit OFFSET :offset"
        )
        with self.db.read() as conn:
            rows = conn.execute(sql, params)
            experiments = self._experiments_from_rows(conn, rows[:max_results])
        token = encode_page_token(offset + max_results) if len(rows) > max_results else None
        return PagedList(experiments, token)

    def _require_experiment(self, conn: Connection, eid: int) -> str:
        rows = conn.execute(
            "SELECT lifecycle_stage FROM experiments WHERE experiment_id = :id", {"id": eid}
        )
        if not rows:
            raise NotFound(f"No Experiment with id={eid} exists")
        return str(rows[0][0])

    def delete_experiment(self, experiment_id: str) -> None:
        eid = self._experiment_int(experiment_id)
        if str(eid) == DEFAULT_EXPERIMENT_ID:
            raise InvalidParameter("Cannot delete the default experiment '0'")
        with self.db.write() as conn:
            if self._require_experiment(conn, eid) == LifecycleStage.DELETED:
                raise InvalidParameter(f"Experiment {eid} is already deleted")
            # The deletion time marks the runs deleted with the experiment, so it must differ
            # from the time of any run deleted on its own before.
            latest = conn.execute(
                "SELECT MAX(deleted_time) FROM runs WHERE experiment_id = :id", {"id": eid}
            )[0][0]
            t = max(now_ms(), (latest or 0) + 1)
            conn.execute(
                "UPDATE experiments SET lifecycle_stage = 'deleted', last_update_time = :t "
                "WHERE experiment_id = :id",
                {"t": t, "id": eid},
            )
            # Its runs go with it; restore brings back exactly the ones deleted here (same time).
            conn.execute(
                "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = :t "
                "WHERE experiment_id = :id AND lifecycle_stage = 'active'",
                {"t": t, "id": eid},
            )

    def restore_experiment(self, experiment_id: str) -> None:
        eid = self._experiment_int(experiment_id)
        with self.db.write() as conn:
            if self._require_experiment(conn, eid) != LifecycleStage.DELETED:
                raise InvalidParameter(f"Cannot restore experiment {eid}: it is not deleted")
            rows = conn.execute(
                "SELECT last_update_time FROM experiments WHERE experiment_id = :id", {"id": eid}
            )
            conn.execute(
                "UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL "
                "WHERE experiment_id = :id AND lifecycle_stage = 'deleted' AND deleted_time = :t",
                {"id": eid, "t": rows[0][0]},
            )
            conn.execute(
                "UPDATE experiments SET lifecycle_stage = 'active', last_update_time = :t "
                "WHERE experiment_id = :id",
                {"t": now_ms(), "id": eid},
            )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        eid = self._experiment_int(experiment_id)
        new_name = v.validate_experiment_name(new_name)
        with self.db.write() as conn:
            if self._require_experiment(conn, eid) != LifecycleStage.ACTIVE:
                raise InvalidParameter(f"Cannot rename experiment {eid}: it is deleted")
            clash = conn.execute(
                "SELECT experiment_id FROM experiments WHERE name = :n", {"n": new_name}
            )
            if clash and int(clash[0][0]) != eid:
                raise AlreadyExists(f"Experiment(name={new_name}) already exists")
            conn.execute(
                "UPDATE experiments SET name = :n, last_update_time = :t WHERE experiment_id = :id",
                {"n": new_name, "t": now_ms(), "id": eid},
            )

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        eid = self._experiment_int(experiment_id)
        key, value = v.validate_experiment_tag(key, value)
        with self.db.write() as conn:
            if self._require_experiment(conn, eid) != LifecycleStage.ACTIVE:
                raise InvalidParameter(f"Cannot set a tag on experiment {eid}: it is deleted")
            conn.execute(
                "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (:id, :k, :v) "
                "ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
                {"id": eid, "k": key, "v": value},
            )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        eid = self._experiment_int(experiment_id)
        with self.db.write() as conn:
            self._require_experiment(conn, eid)
            n = conn.execute_rowcount(
                "DELETE FROM experiment_tags WHERE experiment_id = :id AND key = :k",
                {"id": eid, "k": key},
            )
        if n == 0:
            raise NotFound(f"No tag with name: {key} in experiment with id {eid}")
