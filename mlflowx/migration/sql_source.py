"""MLflow's SQL store (``mlflow.db``, PostgreSQL, MySQL), read with plain SELECTs on its schema.

The tables and columns read here have been stable across MLflow 2 and 3 (``experiments``,
``runs``, ``metrics``, ``params``, ``tags``, ``datasets``/``inputs``/``input_tags``,
``logged_models`` and its ``_params``/``_tags``, the registry's ``registered_models``,
``model_versions`` and their tags and aliases).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from mlflowx.entities import Dataset, DatasetInput, InputTag, Metric
from mlflowx.exceptions import InvalidParameter
from mlflowx.migration.records import (
    SourceExperiment,
    SourceLoggedModel,
    SourceModelVersion,
    SourceRegisteredModel,
    SourceRun,
)
from mlflowx.migration.sources import MlflowSource, model_status_name, status_name
from mlflowx.store.mlflow_stores import is_mlflow_revision, safe_uri
from mlflowx.store.sql.db import open_database

__all__ = ["SqlSource"]


class SqlSource(MlflowSource):
    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.db = open_database(uri)
        revision = self._one("SELECT version_num FROM alembic_version", missing_ok=True)
        if not is_mlflow_revision(revision):
            self.db.close()
            raise InvalidParameter(
                f"{safe_uri(uri)} is not an MLflow database (schema revision {revision!r})"
            )
        self._tables = {str(r[0]) for r in self._rows(self._table_sql())}

    def _table_sql(self) -> str:
        if self.db.dialect == "sqlite":
            return "SELECT name FROM sqlite_master WHERE type = 'table'"
        return (
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )

    def _rows(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        with self.db.read() as conn:
            return list(conn.execute(sql, params or {}))

    def _one(self, sql: str, missing_ok: bool = False) -> Any:
        try:
            rows = self._rows(sql)
        except Exception:
            if missing_ok:
                return None
            raise
        return rows[0][0] if rows else None

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ tracking
    def experiments(self) -> list[SourceExperiment]:
        tags: dict[str, dict[str, str]] = {}
        for key, value, eid in self._rows("SELECT key, value, experiment_id FROM experiment_tags"):
            tags.setdefault(str(eid), {})[key] = value or ""
        return [
            SourceExperiment(str(eid), name, location or "", stage, created, tags.get(str(eid), {}))
            for eid, name, location, stage, created in self._rows(
                "SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time "
                "FROM experiments ORDER BY experiment_id"
            )
        ]

    def run_ids(self, experiment_id: str) -> list[str]:
        rows = self._rows(
            "SELECT run_uuid FROM runs WHERE experiment_id = :e ORDER BY start_time, run_uuid",
            {"e": int(experiment_id)},
        )
        return [str(r[0]) for r in rows]

    def run(self, experiment_id: str, run_id: str) -> SourceRun:
        p = {"r": run_id}
        (row,) = self._rows(
            "SELECT name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri "
            "FROM runs WHERE run_uuid = :r",
            p,
        )
        name, user, status, start, end, stage, artifact_uri = row
        run = SourceRun(
            run_id,
            experiment_id,
            name,
            user,
            status_name(status),
            start,
            end,
            stage,
            artifact_uri or "",
        )
        run.params = dict(self._rows("SELECT key, value FROM params WHERE run_uuid = :r", p))
        run.tags = {
            k: v or "" for k, v in self._rows("SELECT key, value FROM tags WHERE run_uuid = :r", p)
        }
        run.metrics = [
            Metric(key, math.nan if is_nan else float(value), int(ts), int(step or 0))
            for key, value, ts, step, is_nan in self._rows(
                "SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = :r "
                "ORDER BY key, step, timestamp",
                p,
            )
        ]
        run.inputs = self._inputs(run_id)
        run.model_inputs = self.model_inputs(experiment_id, run_id)
        return run

    def model_inputs(self, experiment_id: str, run_id: str) -> list[str]:
        if "inputs" not in self._tables:
            return []
        rows = self._rows(
            "SELECT destination_id FROM inputs WHERE source_type = 'RUN_INPUT' "
            "AND source_id = :r AND destination_type = 'MODEL_INPUT' ORDER BY destination_id",
            {"r": run_id},
        )
        return [str(r[0]) for r in rows]

    def _model_metrics(self, model_id: str) -> list[Metric]:
        if "logged_model_metrics" not in self._tables:
            return []
        # MLflow 3.x keeps the dataset's name and digest on the row; earlier 3.x only a
        # dataset_uuid into its datasets table.
        dataset = (
            "m.dataset_name, m.dataset_digest FROM logged_model_metrics m"
            if {"dataset_name", "dataset_digest"} <= self._columns("logged_model_metrics")
            else "d.name, d.digest FROM logged_model_metrics m LEFT JOIN datasets d "
            "ON d.dataset_uuid = m.dataset_uuid"
        )
        return [
            Metric(key, math.nan if value is None else float(value), int(ts), int(step), run_id,
                   None, dataset_name, dataset_digest)
            for key, value, ts, step, run_id, dataset_name, dataset_digest in self._rows(
                "SELECT m.metric_name, m.metric_value, m.metric_timestamp_ms, m.metric_step, "
                f"m.run_id, {dataset} WHERE m.model_id = :m "
                "ORDER BY m.metric_name, m.metric_step, m.metric_timestamp_ms",
                {"m": model_id},
            )
        ]  # fmt: skip

    def run_location(self, experiment_id: str, run_id: str) -> tuple[str, str]:
        ((uri, stage),) = self._rows(
            "SELECT artifact_uri, lifecycle_stage FROM runs WHERE run_uuid = :r", {"r": run_id}
        )
        return uri or "", stage

    def _inputs(self, run_id: str) -> list[DatasetInput]:
        if not {"inputs", "datasets"} <= self._tables:
            return []
        found: list[DatasetInput] = []
        for input_id, name, digest, stype, source, schema, profile in self._rows(
            "SELECT i.input_uuid, d.name, d.digest, d.dataset_source_type, d.dataset_source, "
            "d.dataset_schema, d.dataset_profile FROM inputs i JOIN datasets d "
            "ON d.dataset_uuid = i.source_id WHERE i.destination_id = :r "
            "AND i.source_type = 'DATASET' AND i.destination_type = 'RUN'",
            {"r": run_id},
        ):
            tags = [
                InputTag(k, v or "")
                for k, v in self._rows(
                    "SELECT name, value FROM input_tags WHERE input_uuid = :i", {"i": input_id}
                )
            ]
            found.append(DatasetInput(Dataset(name, digest, stype, source, schema, profile), tags))
        return found

    def logged_models(self, experiment_id: str) -> list[SourceLoggedModel]:
        if "logged_models" not in self._tables:
            return []
        models = []
        for mid, name, location, status, run_id, model_type, stage in self._rows(
            "SELECT model_id, name, artifact_location, status, source_run_id, model_type, "
            "lifecycle_stage FROM logged_models WHERE experiment_id = :e "
            "ORDER BY creation_timestamp_ms",
            {"e": int(experiment_id)},
        ):
            if stage == "deleted":
                continue
            p = {"m": mid}
            models.append(
                SourceLoggedModel(
                    mid,
                    experiment_id,
                    name,
                    location or "",
                    model_status_name(status),
                    run_id,
                    model_type,
                    dict(
                        self._rows(
                            "SELECT param_key, param_value FROM logged_model_params "
                            "WHERE model_id = :m",
                            p,
                        )
                    ),
                    dict(
                        self._rows(
                            "SELECT tag_key, tag_value FROM logged_model_tags WHERE model_id = :m",
                            p,
                        )
                    ),
                    self._model_metrics(mid),
                )
            )
        return models

    # ------------------------------------------------------------------ registry
    def registered_models(self) -> Iterator[SourceRegisteredModel]:
        if "registered_models" not in self._tables:
            return
        for name, description in self._rows(
            "SELECT name, description FROM registered_models ORDER BY creation_time, name"
        ):
            p = {"n": name}
            model = SourceRegisteredModel(name, description)
            model.tags = dict(
                self._rows("SELECT key, value FROM registered_model_tags WHERE name = :n", p)
            )
            model.aliases = {
                a: int(v)
                for a, v in self._rows(
                    "SELECT alias, version FROM registered_model_aliases WHERE name = :n", p
                )
            }
            version_tags: dict[int, dict[str, str]] = {}
            for version, key, value in self._rows(
                "SELECT version, key, value FROM model_version_tags WHERE name = :n", p
            ):
                version_tags.setdefault(int(version), {})[key] = value or ""
            has_model_id = "model_id" in self._columns("model_versions")
            model_id = "model_id" if has_model_id else "NULL"
            for version, source, run_id, description, stage, mid in self._rows(
                f"SELECT version, source, run_id, description, current_stage, {model_id} "
                "FROM model_versions WHERE name = :n AND current_stage != 'Deleted_Internal' "
                "ORDER BY version",
                p,
            ):
                model.versions.append(
                    SourceModelVersion(
                        int(version),
                        source or "",
                        run_id or None,
                        description,
                        stage or "None",
                        mid,
                        version_tags.get(int(version), {}),
                    )
                )
            yield model

    def _columns(self, table: str) -> set[str]:
        if self.db.dialect == "sqlite":
            return {str(r[1]) for r in self._rows(f"PRAGMA table_info({table})")}
        return {
            str(r[0])
            for r in self._rows(
                "SELECT column_name FROM information_schema.columns WHERE table_name = :t",
                {"t": table},
            )
        }
