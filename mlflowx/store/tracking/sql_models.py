"""Logged models (MLflow 3) in the SQL tracking store: a mixin of ``SqlTrackingStore``."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from typing import Any

from mlflowx.entities import (
    LifecycleStage,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    ModelOutput,
    PagedList,
    now_ms,
)
from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.store.search import decode_page_token, encode_page_token
from mlflowx.store.sql.db import Connection, Database
from mlflowx.store.tracking.base import any_model_metric
from mlflowx.utils import validation as v
from mlflowx.utils.names import generate_run_name
from mlflowx.utils.uri import join_uri

__all__ = ["LoggedModelsMixin", "ModelMetricRow", "model_metric_rows"]

#: A metric point for ``logged_model_metrics``: (model_id, key, value, timestamp, step,
#: dataset_name, dataset_digest), the value already checked.
ModelMetricRow = tuple[str, str, float, int, int, str | None, str | None]

_UPSERT_MODEL_METRIC = (
    "INSERT INTO logged_model_metrics (model_id, metric_name, metric_timestamp_ms, metric_step, "
    "metric_value, experiment_id, run_id, dataset_name, dataset_digest) "
    "VALUES (:m, :k, :t, :s, :v, :e, :r, :dn, :dd) "
    "ON CONFLICT (model_id, metric_name, metric_timestamp_ms, metric_step, run_id) "
    "DO UPDATE SET metric_value = excluded.metric_value, dataset_name = excluded.dataset_name, "
    "dataset_digest = excluded.dataset_digest"
)


def model_metric_rows(
    metrics: Sequence[Any], points: Sequence[tuple[str, float, int, int]]
) -> list[ModelMetricRow]:
    """The points of ``metrics`` (already checked into ``points``, in the same order) that
    name a logged model; metrics without ``model_id`` cost one attribute lookup."""
    if not any_model_metric(metrics):
        return []
    rows: list[ModelMetricRow] = []
    for m, (key, value, timestamp, step) in zip(metrics, points, strict=True):
        model_id = getattr(m, "model_id", None)
        if model_id:
            name = getattr(m, "dataset_name", None) or None
            digest = getattr(m, "dataset_digest", None) or None
            rows.append((str(model_id), key, value, timestamp, step, name, digest))
    return rows


_LOGGED_MODEL_COLUMNS = (
    "model_id, experiment_id, name, artifact_location, creation_timestamp_ms, "
    "last_updated_timestamp_ms, status, source_run_id, model_type, status_message"
)


class LoggedModelsMixin:
    """Logged models (MLflow 3) in the SQL store; mixed into :class:`SqlTrackingStore`."""

    db: Database

    def _experiment_location(self, conn: Connection, experiment_id: str) -> tuple[int, str]:
        eid = int(v.validate_experiment_id(experiment_id)) if experiment_id.isdigit() else -1
        rows = conn.execute(
            "SELECT lifecycle_stage, artifact_location FROM experiments WHERE experiment_id = :id",
            {"id": eid},
        )
        if not rows:
            raise NotFound(f"No Experiment with id={experiment_id} exists")
        if rows[0][0] != LifecycleStage.ACTIVE:
            raise InvalidParameter(
                f"The experiment {experiment_id} must be in the 'active' state. "
                f"Current state is {rows[0][0]}."
            )
        return eid, rows[0][1] or ""

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        model_type: str | None = None,
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> LoggedModel:
        # No name: a generated one (``adjective-animal-123``), as MLflow gives.
        name = v.validate_key("Logged model", name, max_length=500) if name else ""
        name = name or generate_run_name()
        checked_params = dict(v.validate_param(k, val) for k, val in (params or {}).items())
        checked_tags = dict(v.validate_tag(k, val) for k, val in (tags or {}).items())
        model_id = f"m-{uuid.uuid4().hex}"
        t = now_ms()
        with self.db.write() as conn:
            eid, location = self._experiment_location(conn, str(experiment_id))
            # As MLflow: the source run is recorded, not looked up (it may live elsewhere).
            artifact_location = join_uri(location, "models", model_id, "artifacts")
            conn.execute(
                f"INSERT INTO logged_models ({_LOGGED_MODEL_COLUMNS}, lifecycle_stage) VALUES "
                "(:id, :eid, :name, :loc, :t, :t, :status, :run, :type, NULL, 'active')",
                {"id": model_id, "eid": eid, "name": name, "loc": artifact_location, "t": t,
                 "status": LoggedModelStatus.PENDING.value, "run": source_run_id or None,
                 "type": model_type or None},
            )  # fmt: skip
            self._upsert_model_kv(conn, "logged_model_params", model_id, checked_params)
            self._upsert_model_kv(conn, "logged_model_tags", model_id, checked_tags)
            return self._load_logged_models(conn, [model_id])[0]

    @staticmethod
    def _upsert_model_kv(
        conn: Connection, table: str, model_id: str, values: dict[str, str]
    ) -> None:
        if values:
            conn.executemany(
                f"INSERT INTO {table} (model_id, key, value) VALUES (:m, :k, :v) "
                "ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value",
                [{"m": model_id, "k": k, "v": val} for k, val in values.items()],
            )

    def _load_logged_models(self, conn: Connection, ids: Sequence[str]) -> list[LoggedModel]:
        if not ids:
            return []
        params = {f"i{i}": x for i, x in enumerate(ids)}
        marks = ", ".join(f":i{i}" for i in range(len(ids)))
        models: dict[str, LoggedModel] = {}
        for r in conn.execute(
            f"SELECT {_LOGGED_MODEL_COLUMNS} FROM logged_models WHERE model_id IN ({marks})", params
        ):
            models[r[0]] = LoggedModel(
                model_id=r[0], experiment_id=str(r[1]), name=r[2], artifact_location=r[3],
                creation_timestamp=r[4], last_updated_timestamp=r[5],
                status=LoggedModelStatus(r[6]), source_run_id=r[7], model_type=r[8],
                status_message=r[9],
            )  # fmt: skip
        for table, attr in (("logged_model_tags", "tags"), ("logged_model_params", "params")):
            for mid, key, value in conn.execute(
                f"SELECT model_id, key, value FROM {table} WHERE model_id IN ({marks})", params
            ):
                getattr(models[mid], attr)[key] = value
        for mid, key, value, ts, step, run_id, dn, dd in conn.execute(
            "SELECT model_id, metric_name, metric_value, metric_timestamp_ms, metric_step, run_id, "
            f"dataset_name, dataset_digest FROM logged_model_metrics WHERE model_id IN ({marks}) "
            "ORDER BY metric_name, metric_step, metric_timestamp_ms",
            params,
        ):
            value = math.nan if value is None else float(value)
            models[mid].metrics.append(Metric(key, value, ts, step, run_id, mid, dn, dd))
        return [models[i] for i in ids if i in models]

    def _log_model_metrics(
        self, conn: Connection, run_id: str, experiment_id: int, rows: Sequence[ModelMetricRow]
    ) -> None:
        """Attach metric points to their logged models (MLflow's ``logged_model_metrics``)."""
        for model_id in dict.fromkeys(r[0] for r in rows):
            self._require_model(conn, model_id)
        conn.executemany(
            _UPSERT_MODEL_METRIC,
            [
                {"m": m, "k": k, "t": t, "s": s, "v": None if math.isnan(val) else val,
                 "e": experiment_id, "r": run_id, "dn": dn, "dd": dd}
                for m, k, val, t, s, dn, dd in rows
            ],
        )  # fmt: skip

    def _require_model(self, conn: Connection, model_id: str) -> None:
        rows = conn.execute(
            "SELECT lifecycle_stage FROM logged_models WHERE model_id = :m", {"m": model_id}
        )
        if not rows or rows[0][0] != LifecycleStage.ACTIVE:
            raise NotFound(f"Logged model with ID '{model_id}' not found")

    def get_logged_model(self, model_id: str) -> LoggedModel:
        with self.db.read() as conn:
            self._require_model(conn, model_id)
            return self._load_logged_models(conn, [model_id])[0]

    def _touch(self, conn: Connection, model_id: str, extra: str = "", **params: Any) -> None:
        conn.execute(
            f"UPDATE logged_models SET last_updated_timestamp_ms = :t{extra} WHERE model_id = :m",
            {"t": now_ms(), "m": model_id, **params},
        )

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        status = LoggedModelStatus.parse(status)
        with self.db.write() as conn:
            self._require_model(conn, model_id)
            self._touch(conn, model_id, ", status = :s", s=status.value)
            return self._load_logged_models(conn, [model_id])[0]

    def set_logged_model_tags(self, model_id: str, tags: dict[str, str]) -> None:
        checked = dict(v.validate_tag(k, val) for k, val in tags.items())
        with self.db.write() as conn:
            self._require_model(conn, model_id)
            self._upsert_model_kv(conn, "logged_model_tags", model_id, checked)
            self._touch(conn, model_id)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        with self.db.write() as conn:
            self._require_model(conn, model_id)
            n = conn.execute_rowcount(
                "DELETE FROM logged_model_tags WHERE model_id = :m AND key = :k",
                {"m": model_id, "k": key},
            )
            if n == 0:
                raise NotFound(f"No tag with key {key!r} on logged model {model_id}")
            self._touch(conn, model_id)

    def log_logged_model_params(self, model_id: str, params: dict[str, str]) -> None:
        checked = dict(v.validate_param(k, val) for k, val in params.items())
        with self.db.write() as conn:
            self._require_model(conn, model_id)
            self._upsert_model_kv(conn, "logged_model_params", model_id, checked)

    def delete_logged_model(self, model_id: str) -> None:
        with self.db.write() as conn:
            self._require_model(conn, model_id)
            self._touch(conn, model_id, ", lifecycle_stage = 'deleted'")

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        from mlflowx.store.search.logged_models import compile_logged_models_search

        max_results = v.validate_max_results(max_results, v.MAX_RESULTS_SEARCH_RUNS)
        offset = decode_page_token(page_token)
        eids = [int(v.validate_experiment_id(e)) for e in experiment_ids if str(e).isdigit()]
        if not eids:
            return PagedList([], None)
        frag = compile_logged_models_search(filter_string, order_by, self.db.dialect)
        params: dict[str, Any] = dict(frag.params)
        params.update({f"e{i}": e for i, e in enumerate(eids)})
        params.update({"limit": max_results + 1, "offset": offset})
        sql = (
            f"SELECT m.model_id FROM logged_models m {frag.joins} "
            f"WHERE m.experiment_id IN ({', '.join(f':e{i}' for i in range(len(eids)))}) "
            f"AND m.lifecycle_stage = 'active' AND ({frag.where}) "
            f"ORDER BY {frag.order_by} LIMIT :limit OFFSET :offset"
        )
        with self.db.read() as conn:
            ids = [r[0] for r in conn.execute(sql, params)]
            models = self._load_logged_models(conn, ids[:max_results])
        token = encode_page_token(offset + max_results) if len(ids) > max_results else None
        return PagedList(models, token)

    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None:
        run_id = v.validate_run_id(run_id)
        with self.db.write() as conn:
            stage = conn.execute(
                "SELECT lifecycle_stage FROM runs WHERE run_uuid = :r", {"r": run_id}
            )
            if not stage:
                raise NotFound(f"Run with id={run_id} not found")
            for output in models:
                self._require_model(conn, output.model_id)
            conn.executemany(
                "INSERT INTO model_outputs (run_uuid, model_id, step) VALUES (:r, :m, :s) "
                "ON CONFLICT (run_uuid, model_id) DO UPDATE SET step = excluded.step",
                [{"r": run_id, "m": o.model_id, "s": int(o.step)} for o in models],
            )
