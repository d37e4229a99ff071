"""Permanent deletion (``mlflowx gc``) in the SQL tracking store: a mixin of ``SqlTrackingStore``.

Only objects already in the ``deleted`` lifecycle stage can be purged. Each purge removes the
object's rows and every child row in one transaction and returns the artifact locations that
held its files, which the caller deletes first (see :mod:`mlflowx.tracking.gc`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.store.sql.db import Connection, Database

__all__ = ["PurgeMixin"]

# Child tables of a run, deepest first (input_tags hang off inputs).
_RUN_CHILDREN = (
    "metrics",
    "metric_step_blocks",
    "latest_metrics",
    "params",
    "tags",
    "inputs",
    "model_inputs",
    "model_outputs",
)
_CHUNK = 500  # ids per IN (...) list
_MODEL_CHILDREN = (
    "logged_model_tags",
    "logged_model_params",
    "logged_model_metrics",
    "model_inputs",
    "model_outputs",
)


def _marks(ids: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    params = {f"i{i}": x for i, x in enumerate(ids)}
    return ", ".join(f":i{i}" for i in range(len(ids))), params


class PurgeMixin:
    """Listing and purging deleted runs, experiments and logged models."""

    db: Database

    # ------------------------------------------------------------------ listing
    def deleted_runs(self, older_than_ms: int | None = None) -> list[str]:
        """Ids of the runs in the ``deleted`` stage, deleted before ``older_than_ms`` (epoch ms)
        when given."""
        sql = "SELECT run_uuid FROM runs WHERE lifecycle_stage = 'deleted'"
        params: dict[str, Any] = {}
        if older_than_ms is not None:
            sql += " AND deleted_time IS NOT NULL AND deleted_time < :t"
            params["t"] = older_than_ms
        with self.db.read() as conn:
            return [str(r[0]) for r in conn.execute(sql + " ORDER BY run_uuid", params)]

    def deleted_experiments(self, older_than_ms: int | None = None) -> list[str]:
        """Ids of the experiments in the ``deleted`` stage, deleted before ``older_than_ms``."""
        sql = "SELECT experiment_id FROM experiments WHERE lifecycle_stage = 'deleted'"
        params: dict[str, Any] = {}
        if older_than_ms is not None:
            sql += " AND last_update_time < :t"
            params["t"] = older_than_ms
        with self.db.read() as conn:
            return [str(r[0]) for r in conn.execute(sql + " ORDER BY experiment_id", params)]

    def deleted_logged_models(self, older_than_ms: int | None = None) -> list[str]:
        """Ids of the logged models in the ``deleted`` stage, deleted before ``older_than_ms``."""
        sql = "SELECT model_id FROM logged_models WHERE lifecycle_stage = 'deleted'"
        params: dict[str, Any] = {}
        if older_than_ms is not None:
            sql += " AND last_updated_timestamp_ms < :t"
            params["t"] = older_than_ms
        with self.db.read() as conn:
            return [str(r[0]) for r in conn.execute(sql + " ORDER BY model_id", params)]

    def run_artifact_locations(self, run_id: str) -> list[str]:
        """The run's artifact URI and those of the logged models it produced."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT artifact_uri FROM runs WHERE run_uuid = :id", {"id": run_id}
            )
            if not rows:
                raise NotFound(f"Run with id={run_id} not found")
            models = conn.execute(
                "SELECT artifact_location FROM logged_models WHERE source_run_id = :id",
                {"id": run_id},
            )
        return [str(x[0]) for x in rows + models if x[0]]

    def experiment_runs(self, experiment_id: str) -> list[str]:
        """Ids of all runs of an experiment, whatever their stage."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT run_uuid FROM runs WHERE experiment_id = :id ORDER BY run_uuid",
                {"id": _experiment_int(experiment_id)},
            )
        return [str(r[0]) for r in rows]

    def experiment_artifact_locations(self, experiment_id: str) -> list[str]:
        """The artifact locations of an experiment's logged models (its runs' are listed per
        run)."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT artifact_location FROM logged_models WHERE experiment_id = :id",
                {"id": _experiment_int(experiment_id)},
            )
        return [str(r[0]) for r in rows if r[0]]

    def logged_model_artifact_location(self, model_id: str) -> str:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT artifact_location FROM logged_models WHERE model_id = :id", {"id": model_id}
            )
        if not rows:
            raise NotFound(f"Logged model with id={model_id} not found")
        return str(rows[0][0] or "")

    # ------------------------------------------------------------------ purging
    def purge_run(self, run_id: str, *, with_experiment: bool = False) -> None:
        """Delete a run in the ``deleted`` stage, its child rows and the logged models it
        produced. ``with_experiment`` (an experiment being purged) lifts the stage check."""
        with self.db.write() as conn:
            rows = conn.execute(
                "SELECT lifecycle_stage FROM runs WHERE run_uuid = :id", {"id": run_id}
            )
            if not rows:
                raise NotFound(f"Run with id={run_id} not found")
            if rows[0][0] != "deleted" and not with_experiment:
                raise InvalidParameter(
                    f"Run {run_id} is not in `deleted` lifecycle stage. Only runs in `deleted` "
                    "lifecycle stage can be deleted."
                )
            models = conn.execute(
                "SELECT model_id FROM logged_models WHERE source_run_id = :id", {"id": run_id}
            )
            self._delete_models(conn, [str(m[0]) for m in models])
            self._delete_runs(conn, [run_id])

    def purge_experiment(self, experiment_id: str) -> None:
        """Delete an experiment in the ``deleted`` stage with everything left in it (purge its
        runs first to delete their artifacts)."""
        eid = _experiment_int(experiment_id)
        with self.db.write() as conn:
            rows = conn.execute(
                "SELECT lifecycle_stage FROM experiments WHERE experiment_id = :id", {"id": eid}
            )
            if not rows:
                raise NotFound(f"No Experiment with id={experiment_id} exists")
            if rows[0][0] != "deleted":
                raise InvalidParameter(
                    f"Experiment {experiment_id} is not in `deleted` lifecycle stage. Only "
                    "experiments in `deleted` lifecycle stage can be deleted."
                )
            runs = conn.execute("SELECT run_uuid FROM runs WHERE experiment_id = :id", {"id": eid})
            models = conn.execute(
                "SELECT model_id FROM logged_models WHERE experiment_id = :id", {"id": eid}
            )
            self._delete_models(conn, [str(m[0]) for m in models])
            self._delete_runs(conn, [str(r[0]) for r in runs])
            conn.execute("DELETE FROM datasets WHERE experiment_id = :id", {"id": eid})
            conn.execute("DELETE FROM experiment_tags WHERE experiment_id = :id", {"id": eid})
            if "auth_experiment_permissions" in self._tables(conn):
                conn.execute(
                    "DELETE FROM auth_experiment_permissions WHERE experiment_id = :id",
                    {"id": eid},
                )
            conn.execute("DELETE FROM experiments WHERE experiment_id = :id", {"id": eid})

    def purge_logged_model(self, model_id: str) -> None:
        """Delete a logged model in the ``deleted`` stage and its tags, params, metrics and
        outputs."""
        with self.db.write() as conn:
            rows = conn.execute(
                "SELECT lifecycle_stage FROM logged_models WHERE model_id = :id", {"id": model_id}
            )
            if not rows:
                raise NotFound(f"Logged model with id={model_id} not found")
            if rows[0][0] != "deleted":
                raise InvalidParameter(
                    f"Logged model {model_id} is not in `deleted` lifecycle stage. Only models "
                    "in `deleted` lifecycle stage can be deleted."
                )
            self._delete_models(conn, [model_id])

    def _tables(self, conn: Connection) -> set[str]:  # provided by SqlTrackingStore
        raise NotImplementedError

    @staticmethod
    def _delete_runs(conn: Connection, run_ids: Sequence[str]) -> None:
        for start in range(0, len(run_ids), _CHUNK):
            PurgeMixin._delete_run_chunk(conn, run_ids[start : start + _CHUNK])

    @staticmethod
    def _delete_run_chunk(conn: Connection, run_ids: Sequence[str]) -> None:
        marks, params = _marks(run_ids)
        conn.execute(
            "DELETE FROM input_tags WHERE input_uuid IN "
            f"(SELECT input_uuid FROM inputs WHERE run_uuid IN ({marks}))",
            params,
        )
        for table in _RUN_CHILDREN:
            conn.execute(f"DELETE FROM {table} WHERE run_uuid IN ({marks})", params)
        conn.execute(f"DELETE FROM logged_model_metrics WHERE run_id IN ({marks})", params)
        conn.execute(f"DELETE FROM runs WHERE run_uuid IN ({marks})", params)

    @staticmethod
    def _delete_models(conn: Connection, model_ids: Sequence[str]) -> None:
        for start in range(0, len(model_ids), _CHUNK):
            marks, params = _marks(model_ids[start : start + _CHUNK])
            for table in _MODEL_CHILDREN:
                conn.execute(f"DELETE FROM {table} WHERE model_id IN ({marks})", params)
            conn.execute(f"DELETE FROM logged_models WHERE model_id IN ({marks})", params)


def _experiment_int(experiment_id: str) -> int:
    if not str(experiment_id).isdigit():
        raise InvalidParameter(f"Invalid experiment id {experiment_id!r}: expected an integer")
    return int(experiment_id)
