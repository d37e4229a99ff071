"""The SQL tracking store: SQLite (embedded default) and PostgreSQL through the same statements."""

from __future__ import annotations

import itertools
import math
import re
import uuid
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from mlflowx import settings
from mlflowx.entities import (
    DEFAULT_EXPERIMENT_ID,
    Dataset,
    DatasetInput,
    DatasetSummary,
    Experiment,
    InputTag,
    LifecycleStage,
    Metric,
    ModelInput,
    ModelOutput,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
    RunTag,
    ViewType,
    now_ms,
)
from mlflowx.exceptions import (
    AlreadyExists,
    InvalidParameter,
    InvalidState,
    NotFound,
    SchemaOutOfDate,
)
from mlflowx.store.locations import LocationPolicy, absolute_local, is_local
from mlflowx.store.mlflow_stores import is_mlflow_revision, mlflow_database_refused
from mlflowx.store.search import (
    KeysetPlan,
    compile_experiments_search,
    compile_runs_search,
    decode_keyset_token,
    decode_page_token,
    encode_keyset_token,
    encode_page_token,
    keyset_page,
    parse_order_by,
    parse_search_filter,
    plan_runs_keyset,
    search_fingerprint,
)
from mlflowx.store.sql.db import Connection, Database, SqliteDatabase, open_database
from mlflowx.store.sql.schema import HEAD_REVISION, KNOWN_REVISIONS
from mlflowx.store.tracking.base import (
    HISTORY_INTERVAL_MAX_RESULTS,
    SEARCH_DATASETS_MAX_RESULTS,
    SEARCH_MAX_RESULTS_DEFAULT,
    KeyValueLike,
    MetricLike,
    TrackingStore,
    check_history_interval,
    check_search_datasets,
    sample_indices,
    validate_metric_points,
    validate_params_and_tags,
)
from mlflowx.store.tracking.history import (
    HISTORY_COLUMNS,
    HISTORY_ORDER,
    HistoryPosition,
    decode_history_token,
    encode_history_token,
    history_entities,
)
from mlflowx.store.tracking.sql_models import LoggedModelsMixin, ModelMetricRow, model_metric_rows
from mlflowx.store.tracking.sql_purge import PurgeMixin
from mlflowx.utils import validation as v
from mlflowx.utils.gc import gc_paused
from mlflowx.utils.names import generate_run_name, new_run_id
from mlflowx.utils.uri import join_uri

__all__ = ["DEFAULT_EXPERIMENT_ID", "SqlTrackingStore"]

_RUN_ID = re.compile(r"[0-9a-f]{32}")

DEFAULT_EXPERIMENT_NAME = "Default"
RUN_NAME_TAG = "mlflow.runName"
USER_TAG = "mlflow.user"
DATASET_CONTEXT_TAG = "mlflow.data.context"
_CHUNK = 500  # ids per IN (...) list when loading many runs

_RUN_COLUMNS = (
    "run_uuid, experiment_id, name, user_id, status, start_time, end_time, artifact_uri, "
    "lifecycle_stage"
)
_EXPERIMENT_COLUMNS = (
    "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time"
)

_INSERT_METRIC = (
    "INSERT INTO metrics (run_uuid, key, value, timestamp, step, is_nan) "
    "VALUES (:run_uuid, :key, :value, :timestamp, :step, :is_nan) ON CONFLICT DO NOTHING"
)
# The latest point is the greatest (step, timestamp, value), as in MLflow.
_LATEST_ON_CONFLICT = (
    "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, "
    "timestamp = excluded.timestamp, step = excluded.step, is_nan = excluded.is_nan "
    "WHERE (excluded.step, excluded.timestamp, excluded.value) > "
    "(latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)"
)
_UPSERT_LATEST = (
    "INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) "
    f"VALUES (:run_uuid, :key, :value, :timestamp, :step, :is_nan) {_LATEST_ON_CONFLICT}"
)
_METRIC_COLUMNS = "run_uuid, key, value, timestamp, step, is_nan"
_METRIC_VALUES = "run_uuid, :key, :value, :timestamp, :step, :is_nan"
# PostgreSQL: log_metric in one statement (data-modifying CTEs), so one round trip in autocommit
# instead of five (BEGIN, the run's state, two inserts, COMMIT). It writes only if the run is
# active and returns the run's experiment; no row back means "not active" (or not found), and
# the ordinary path then raises the precise error.
_LOG_METRIC_ONE_STATEMENT = (
    "WITH run AS (SELECT run_uuid, experiment_id FROM runs "
    "WHERE run_uuid = :run_uuid AND lifecycle_stage = 'active'), "
    f"m AS (INSERT INTO metrics ({_METRIC_COLUMNS}) SELECT {_METRIC_VALUES} FROM run "
    "ON CONFLICT DO NOTHING), "
    f"l AS (INSERT INTO latest_metrics ({_METRIC_COLUMNS}) SELECT {_METRIC_VALUES} FROM run "
    f"{_LATEST_ON_CONFLICT}) "
    "SELECT experiment_id FROM run"
)
_UPSERT_TAG = (
    "INSERT INTO tags (run_uuid, key, value) VALUES (:run_uuid, :key, :value) "
    "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value"
)
_INSERT_PARAM = (
    "INSERT INTO params (run_uuid, key, value) VALUES (:run_uuid, :key, :value) "
    "ON CONFLICT DO NOTHING"
)


def _default_artifact_root(uri: str) -> str:
    """``$MLFLOWX_DEFAULT_ARTIFACT_ROOT``; else ``mlartifacts`` beside a SQLite file; else
    ``$MLFLOWX_HOME/mlartifacts``."""
    import os
    from pathlib import Path

    from mlflowx.store.sql.db import sqlite_path

    configured = os.environ.get("MLFLOWX_DEFAULT_ARTIFACT_ROOT")
    if configured:
        return configured
    if uri.startswith("sqlite:"):
        path = sqlite_path(uri)
        if path != ":memory:":
            return str(Path(path).resolve().parent / "mlartifacts")
    return settings.default_artifact_root()


def _metric_row(run_id: str, m: Metric) -> dict[str, Any]:
    nan = math.isnan(m.value)
    return {
        "run_uuid": run_id,
        "key": m.key,
        "value": 0.0 if nan else m.value,
        "timestamp": m.timestamp,
        "step": m.step,
        "is_nan": nan,
    }


def _float(value: float, is_nan: Any) -> float:
    return math.nan if is_nan else float(value)


@dataclass(slots=True)
class _Batch:
    """A ``log_batch`` validated outside the write transaction: metric row tuples (run_uuid,
    key, value, timestamp, step, is_nan; the column order of _INSERT_METRIC and
    _UPSERT_LATEST), and params and tags as key -> value."""

    metric_rows: list[tuple[Any, ...]]
    params: dict[str, str]
    tags: dict[str, str]
    #: The metric points that name a logged model (``logged_model_metrics``).
    model_rows: list[ModelMetricRow]

    @classmethod
    def of(
        cls,
        run_id: str,
        metrics: Sequence[MetricLike],
        params: Sequence[KeyValueLike],
        tags: Sequence[KeyValueLike],
    ) -> _Batch:
        v.validate_batch_sizes(metrics, params, tags)
        points = validate_metric_points(metrics)
        rows = [
            (run_id, key, 0.0 if value != value else value, timestamp, step, value != value)
            for key, value, timestamp, step in points
        ]
        param_map, tag_map = validate_params_and_tags(params, tags)
        return cls(rows, param_map, tag_map, model_metric_rows(metrics, points))


class SqlTrackingStore(LoggedModelsMixin, PurgeMixin, TrackingStore):
    """Tracking data in a SQL database.

    Args:
        uri: ``sqlite:///path.db`` or a SQLAlchemy URL such as ``postgresql://user@host/db``.
        default_artifact_root: where experiments without an explicit location keep artifacts.
        location_policy: which explicit artifact locations are accepted (by default the one
            the settings describe: see :mod:`mlflowx.store.locations`).
    """

    def __init__(
        self,
        uri: str,
        default_artifact_root: str | None = None,
        *,
        location_policy: LocationPolicy | None = None,
    ) -> None:
        self.uri = uri
        self.db: Database = open_database(uri)
        self.inline_writes = self.db.dialect == "sqlite"
        self.write_concurrency = self.db.pool_size
        embedded_root = _default_artifact_root(uri)
        self.default_artifact_root = default_artifact_root or embedded_root
        self.location_policy = location_policy or LocationPolicy.from_settings()
        # Where this database's direct users put artifacts: a server on it may read there.
        self.local_artifact_roots = tuple(
            dict.fromkeys(r for r in (self.default_artifact_root, embedded_root) if is_local(r))
        )
        self._ensure_schema()
        self._ensure_default_experiment()

    # ------------------------------------------------------------------ schema
    def _tables(self, conn: Connection) -> set[str]:
        if self.db.dialect == "sqlite":
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            rows = conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        return {str(r[0]) for r in rows}

    def _revision(self) -> str | None:
        with self.db.read() as conn:
            tables = self._tables(conn)
            if "alembic_version" not in tables:
                if tables & {"experiments", "runs"}:
                    raise InvalidState(
                        f"The database {self._safe_uri()} has tracking tables but no schema "
                        "version; it was not created by mlflowx"
                    )
                return None
            rows = conn.execute("SELECT version_num FROM alembic_version")
        return str(rows[0][0]) if rows else None

    def _safe_uri(self) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(self.uri)
        if parts.password:
            return self.uri.replace(f":{parts.password}@", ":***@")
        return self.uri

    def _ensure_schema(self) -> None:
        revision = self._revision()
        if revision is None:
            from mlflowx.store.sql.schema import migrate

            try:
                if not self._create_from_snapshot():
                    migrate(self.uri)
            except Exception:
                # Another process may have created it at the same moment: check again.
                if self._revision() != HEAD_REVISION:
                    raise
            return
        if revision == HEAD_REVISION:
            return
        if is_mlflow_revision(revision):
            raise mlflow_database_refused(self._safe_uri(), revision)
        if revision in KNOWN_REVISIONS:
            raise SchemaOutOfDate(
                f"The database {self._safe_uri()} is at schema revision {revision!r}; this "
                f"mlflowx needs {HEAD_REVISION!r}. Back it up, then run: "
                f"mlflowx db upgrade {self._safe_uri()}"
            )
        raise InvalidState(
            f"The database {self._safe_uri()} is at schema revision {revision!r}, which this "
            "mlflowx does not know (a newer mlflowx, or an MLflow database?)"
        )

    def _create_from_snapshot(self) -> bool:
        """SQLite only: create the head schema from the generated DDL, without Alembic."""
        if not isinstance(self.db, SqliteDatabase) or self.db.path == ":memory:":
            return False
        from mlflowx.store.sql.schema import create_sqlite_from_snapshot

        raw = self.db.raw_connection()
        return create_sqlite_from_snapshot(raw)

    def _ensure_default_experiment(self) -> None:
        with self.db.read() as conn:
            found = conn.execute("SELECT 1 FROM experiments WHERE experiment_id = 0")
        if found:
            return
        t = now_ms()
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO experiments (experiment_id, name, artifact_location, "
                "lifecycle_stage, creation_time, last_update_time) "
                "VALUES (0, :name, :loc, 'active', :t, :t) ON CONFLICT DO NOTHING",
                {
                    "name": DEFAULT_EXPERIMENT_NAME,
                    "loc": join_uri(self.default_artifact_root, DEFAULT_EXPERIMENT_ID),
                    "t": t,
                },
            )

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ experiments
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
        for chunk_start in range(0, len(ids), _CHUNK):
            chunk = ids[chunk_start : chunk_start + _CHUNK]
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

    # ------------------------------------------------------------------ runs
    def create_run(
        self,
        experiment_id: str,
        user_id: str | None,
        start_time: int | None,
        tags: Sequence[RunTag],
        run_name: str | None,
        *,
        run_id: str | None = None,
    ) -> Run:
        """``run_id`` (32 hex digits) keeps a run's id when it is copied from another store
        (``mlflowx import``); by default a new one is allocated."""
        if run_id is not None and not _RUN_ID.fullmatch(run_id):
            raise InvalidParameter(f"Invalid run id {run_id!r}: expected 32 lowercase hex digits")
        eid = self._experiment_int(experiment_id)
        tag_map = dict(v.validate_tag(t.key, t.value) for t in tags)
        tag_name = tag_map.get(RUN_NAME_TAG)
        if run_name is not None and tag_name is not None and run_name != tag_name:
            raise InvalidParameter(
                f"Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
                f"different values (run_name='{run_name}', mlflow.runName='{tag_name}')."
            )
        name = v.validate_run_name(run_name or tag_name or generate_run_name())
        tag_map[RUN_NAME_TAG] = name
        run_id = run_id or new_run_id()
        start = now_ms() if start_time is None else int(start_time)
        with self.db.write() as conn:
            rows = conn.execute(
                "SELECT lifecycle_stage, artifact_location FROM experiments "
                "WHERE experiment_id = :id",
                {"id": eid},
            )
            if not rows:
                raise NotFound(f"No Experiment with id={experiment_id} exists")
            if rows[0][0] != LifecycleStage.ACTIVE:
                raise InvalidParameter(
                    f"The experiment {experiment_id} must be in the 'active' state. "
                    f"Current state is {rows[0][0]}."
                )
            artifact_uri = join_uri(rows[0][1] or "", run_id, "artifacts")
            try:
                conn.execute(
                    "INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, "
                    "start_time, end_time, lifecycle_stage, artifact_uri) VALUES (:id, :name, "
                    ":eid, :user, 'RUNNING', :start, NULL, 'active', :uri)",
                    {
                        "id": run_id,
                        "name": name,
                        "eid": eid,
                        "user": user_id,
                        "start": start,
                        "uri": artifact_uri,
                    },
                )
            except self.db.integrity_errors:
                raise AlreadyExists(f"A run with id {run_id} already exists") from None
            conn.executemany(
                "INSERT INTO tags (run_uuid, key, value) VALUES (:r, :k, :v)",
                [{"r": run_id, "k": k, "v": val} for k, val in tag_map.items()],
            )
        info = RunInfo(
            run_id=run_id,
            experiment_id=str(eid),
            run_name=name,
            user_id=user_id,
            status=RunStatus.RUNNING,
            start_time=start,
            end_time=None,
            artifact_uri=artifact_uri,
            lifecycle_stage=LifecycleStage.ACTIVE,
        )
        return Run(info=info, data=RunData(tags=tag_map), inputs=RunInputs())

    def _load_runs(self, conn: Connection, run_ids: Sequence[str]) -> dict[str, Run]:
        """Load complete runs by id with one query per table per chunk."""
        runs: dict[str, Run] = {}
        for start in range(0, len(run_ids), _CHUNK):
            chunk = list(run_ids[start : start + _CHUNK])
            params = {f"i{i}": rid for i, rid in enumerate(chunk)}
            marks = ", ".join(f":i{i}" for i in range(len(chunk)))
            for r in conn.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_uuid IN ({marks})", params
            ):
                runs[r[0]] = Run(
                    info=RunInfo(
                        run_id=r[0],
                        experiment_id=str(r[1]),
                        run_name=r[2],
                        user_id=r[3],
                        status=RunStatus(r[4]),
                        start_time=r[5],
                        end_time=r[6],
                        artifact_uri=r[7],
                        lifecycle_stage=LifecycleStage(r[8]),
                    ),
                    data=RunData(),
                    inputs=RunInputs(),
                    outputs=RunOutputs(),
                )
            for rid, key, value in conn.execute(
                f"SELECT run_uuid, key, value FROM params WHERE run_uuid IN ({marks})", params
            ):
                runs[rid].data.params[key] = value
            for rid, key, value in conn.execute(
                f"SELECT run_uuid, key, value FROM tags WHERE run_uuid IN ({marks})", params
            ):
                runs[rid].data.tags[key] = value
            for rid, key, value, is_nan, ts, step in conn.execute(
                "SELECT run_uuid, key, value, is_nan, timestamp, step FROM latest_metrics "
                f"WHERE run_uuid IN ({marks})",
                params,
            ):
                data = runs[rid].data
                data.metrics[key] = number = _float(value, is_nan)
                data.latest_metrics[key] = Metric(key, number, ts, step, rid)
            for rid, model_id, step in conn.execute(
                "SELECT run_uuid, model_id, step FROM model_outputs "
                f"WHERE run_uuid IN ({marks}) ORDER BY model_id",
                params,
            ):
                runs[rid].outputs.model_outputs.append(ModelOutput(model_id, step))
            for rid, model_id in conn.execute(
                f"SELECT run_uuid, model_id FROM model_inputs WHERE run_uuid IN ({marks}) "
                "ORDER BY model_id",
                params,
            ):
                runs[rid].inputs.model_inputs.append(ModelInput(model_id))
            inputs = conn.execute(
                "SELECT i.run_uuid, i.input_uuid, d.name, d.digest, d.dataset_source_type, "
                "d.dataset_source, d.dataset_schema, d.dataset_profile FROM inputs i "
                f"JOIN datasets d ON d.dataset_uuid = i.dataset_uuid WHERE i.run_uuid IN ({marks}) "
                "ORDER BY i.input_uuid",
                params,
            )
            if inputs:
                by_input: dict[str, DatasetInput] = {}
                for rid, input_uuid, name, digest, stype, source, schema, profile in inputs:
                    di = DatasetInput(
                        dataset=Dataset(name, digest, stype, source, schema, profile), tags=[]
                    )
                    by_input[input_uuid] = di
                    runs[rid].inputs.dataset_inputs.append(di)
                input_ids = list(by_input)
                imarks = ", ".join(f":j{i}" for i in range(len(input_ids)))
                for input_uuid, key, value in conn.execute(
                    f"SELECT input_uuid, key, value FROM input_tags WHERE input_uuid IN ({imarks}) "
                    "ORDER BY key",
                    {f"j{i}": x for i, x in enumerate(input_ids)},
                ):
                    by_input[input_uuid].tags.append(InputTag(key, value))
        return runs

    def get_run(self, run_id: str) -> Run:
        run_id = v.validate_run_id(run_id)
        with self.db.read() as conn:
            runs = self._load_runs(conn, [run_id])
        if run_id not in runs:
            raise NotFound(f"Run with id={run_id} not found")
        return runs[run_id]

    def _run_state(self, conn: Connection, run_id: str) -> tuple[str, str, int]:
        rows = conn.execute(
            "SELECT lifecycle_stage, status, experiment_id FROM runs WHERE run_uuid = :id",
            {"id": run_id},
        )
        if not rows:
            raise NotFound(f"Run with id={run_id} not found")
        return rows[0][0], rows[0][1], int(rows[0][2])

    def _require_active_run(self, conn: Connection, run_id: str) -> int:
        stage, _, eid = self._run_state(conn, run_id)
        if stage != LifecycleStage.ACTIVE:
            raise InvalidParameter(
                f"The run {run_id} must be in the 'active' state. Current state is {stage}."
            )
        return eid

    def update_run_info(
        self,
        run_id: str,
        run_status: RunStatus | None,
        end_time: int | None,
        run_name: str | None = None,
    ) -> RunInfo:
        run_id = v.validate_run_id(run_id)
        status = RunStatus.parse(run_status) if run_status is not None else None
        name = v.validate_run_name(run_name) if run_name else None
        with self.db.write() as conn:
            self._require_active_run(conn, run_id)
            sets: list[str] = []
            params: dict[str, Any] = {"id": run_id}
            if status is not None:
                sets.append("status = :status")
                params["status"] = status.value
            if end_time is not None:
                sets.append("end_time = :end")
                params["end"] = int(end_time)
            if name is not None:
                sets.append("name = :name")
                params["name"] = name
                conn.execute(_UPSERT_TAG, {"run_uuid": run_id, "key": RUN_NAME_TAG, "value": name})
            if sets:
                conn.execute(f"UPDATE runs SET {', '.join(sets)} WHERE run_uuid = :id", params)
            runs = self._load_runs(conn, [run_id])
        return runs[run_id].info

    def _set_lifecycle(self, run_id: str, stage: LifecycleStage) -> None:
        run_id = v.validate_run_id(run_id)
        with self.db.write() as conn:
            self._run_state(conn, run_id)
            conn.execute(
                "UPDATE runs SET lifecycle_stage = :s, deleted_time = :t WHERE run_uuid = :id",
                {
                    "s": stage.value,
                    "t": now_ms() if stage == LifecycleStage.DELETED else None,
                    "id": run_id,
                },
            )

    def delete_run(self, run_id: str) -> None:
        self._set_lifecycle(run_id, LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> None:
        self._set_lifecycle(run_id, LifecycleStage.ACTIVE)

    # ------------------------------------------------------------------ logging
    def log_metric(self, run_id: str, metric: Metric) -> None:
        # The hot path: one short write transaction, no list building, no ORM.
        key, value, timestamp, step = v.validate_metric(
            metric.key, metric.value, metric.timestamp, metric.step
        )
        row = _metric_row(run_id, Metric(key, value, timestamp, step))
        if self.db.dialect == "postgresql" and not metric.model_id:
            with self.db.autocommit() as conn:
                if conn.execute(_LOG_METRIC_ONE_STATEMENT, row):
                    return
        with self.db.write() as conn:
            eid = self._require_active_run(conn, run_id)
            conn.execute(_INSERT_METRIC, row)
            conn.execute(_UPSERT_LATEST, row)
            if metric.model_id:  # only a model's metric pays for the extra insert
                points = [(key, value, timestamp, step)]
                self._log_model_metrics(conn, run_id, eid, model_metric_rows([metric], points))

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[MetricLike] = (),
        params: Sequence[KeyValueLike] = (),
        tags: Sequence[KeyValueLike] = (),
    ) -> None:
        self._write_batch(run_id, metrics, params, tags)

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        end_time: int,
        metrics: Sequence[MetricLike] = (),
        params: Sequence[KeyValueLike] = (),
        tags: Sequence[KeyValueLike] = (),
    ) -> None:
        # One transaction and no read-back: what a tracked task pays for its run's end.
        self._write_batch(run_id, metrics, params, tags, (RunStatus.parse(status), int(end_time)))

    def _write_batch(
        self,
        run_id: str,
        metrics: Sequence[MetricLike],
        params: Sequence[KeyValueLike],
        tags: Sequence[KeyValueLike],
        end: tuple[RunStatus, int] | None = None,
    ) -> None:
        """A batch (validated before the transaction), and the run's end when given."""
        run_id = v.validate_run_id(run_id)
        batch = _Batch.of(run_id, metrics, params, tags)
        with self.db.write() as conn:
            eid = self._require_active_run(conn, run_id)
            if batch.params:
                self._log_params(conn, run_id, batch.params)
            if batch.tags:
                rows = [(run_id, k, val) for k, val in batch.tags.items()]
                conn.executemany_rows(_UPSERT_TAG, rows)
                if RUN_NAME_TAG in batch.tags:
                    conn.execute(
                        "UPDATE runs SET name = :n WHERE run_uuid = :id",
                        {"n": v.validate_run_name(batch.tags[RUN_NAME_TAG]), "id": run_id},
                    )
            if batch.metric_rows:
                conn.executemany_rows(_INSERT_METRIC, batch.metric_rows)
                conn.executemany_rows(_UPSERT_LATEST, _latest_per_key(batch.metric_rows))
            if batch.model_rows:
                self._log_model_metrics(conn, run_id, eid, batch.model_rows)
            if end is not None:
                conn.execute(
                    "UPDATE runs SET status = :s, end_time = :e WHERE run_uuid = :id",
                    {"s": end[0].value, "e": end[1], "id": run_id},
                )

    def _log_params(self, conn: Connection, run_id: str, param_map: dict[str, str]) -> None:
        keys = list(param_map)
        marks = ", ".join(f":k{i}" for i in range(len(keys)))
        existing = conn.execute(
            f"SELECT key, value FROM params WHERE run_uuid = :r AND key IN ({marks})",
            {"r": run_id, **{f"k{i}": k for i, k in enumerate(keys)}},
        )
        for key, old in existing:
            if old != param_map[key]:
                raise InvalidParameter(
                    f"Changing param values is not allowed. Param with key='{key}' was already "
                    f"logged with value='{old}' for run ID='{run_id}'. Attempted logging new "
                    f"value '{param_map[key]}'."
                )
        conn.executemany_rows(_INSERT_PARAM, [(run_id, k, val) for k, val in param_map.items()])

    def log_param(self, run_id: str, param: Param) -> None:
        v.validate_param(param.key, param.value)  # messages name "key", not "params[0].key"
        self.log_batch(run_id, params=[param])

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        v.validate_tag(tag.key, tag.value)
        self.log_batch(run_id, tags=[tag])

    def delete_tag(self, run_id: str, key: str) -> None:
        run_id = v.validate_run_id(run_id)
        with self.db.write() as conn:
            self._require_active_run(conn, run_id)
            n = conn.execute_rowcount(
                "DELETE FROM tags WHERE run_uuid = :r AND key = :k", {"r": run_id, "k": key}
            )
        if n == 0:
            raise NotFound(f"No tag with name: {key} in run with id {run_id}")

    def log_inputs(
        self, run_id: str, datasets: Sequence[DatasetInput], models: Sequence[ModelInput] = ()
    ) -> None:
        run_id = v.validate_run_id(run_id)
        model_ids = list(dict.fromkeys(_model_input_id(m) for m in models))
        for di in datasets:
            d = di.dataset
            v.validate_dataset(d.name, d.digest, d.source_type, d.source, d.schema, d.profile)
            for tag in di.tags:
                v.validate_input_tag(tag.key, tag.value)
        with self.db.write() as conn:
            eid = self._require_active_run(conn, run_id)
            if model_ids:
                conn.executemany(
                    "INSERT INTO model_inputs (run_uuid, model_id) VALUES (:r, :m) "
                    "ON CONFLICT (run_uuid, model_id) DO NOTHING",
                    [{"r": run_id, "m": m} for m in model_ids],
                )
            for di in datasets:
                d = di.dataset
                found = conn.execute(
                    "SELECT dataset_uuid FROM datasets WHERE experiment_id = :e AND name = :n "
                    "AND digest = :d",
                    {"e": eid, "n": d.name, "d": d.digest},
                )
                if found:
                    dataset_uuid = found[0][0]
                else:
                    dataset_uuid = uuid.uuid4().hex
                    conn.execute(
                        "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, "
                        "dataset_source_type, dataset_source, dataset_schema, dataset_profile) "
                        "VALUES (:u, :e, :n, :d, :st, :s, :sc, :p)",
                        {
                            "u": dataset_uuid,
                            "e": eid,
                            "n": d.name,
                            "d": d.digest,
                            "st": d.source_type,
                            "s": d.source,
                            "sc": d.schema,
                            "p": d.profile,
                        },
                    )
                linked = conn.execute(
                    "SELECT input_uuid FROM inputs WHERE run_uuid = :r AND dataset_uuid = :u",
                    {"r": run_id, "u": dataset_uuid},
                )
                if linked:
                    continue  # as MLflow: the first logging of a dataset keeps its tags
                input_uuid = uuid.uuid4().hex
                conn.execute(
                    "INSERT INTO inputs (input_uuid, run_uuid, dataset_uuid) VALUES (:i, :r, :u)",
                    {"i": input_uuid, "r": run_id, "u": dataset_uuid},
                )
                if di.tags:
                    conn.executemany(
                        "INSERT INTO input_tags (input_uuid, key, value) VALUES (:i, :k, :v) "
                        "ON CONFLICT (input_uuid, key) DO UPDATE SET value = excluded.value",
                        [{"i": input_uuid, "k": t.key, "v": t.value} for t in di.tags],
                    )

    # ------------------------------------------------------------------ reading
    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        """MLflow's order (timestamp, step, value); pages resume after their last point (see
        :mod:`mlflowx.store.tracking.history`), so no page costs an OFFSET."""
        run_id = v.validate_run_id(run_id)
        position = decode_history_token(page_token)
        limit = None if max_results is None else v.validate_max_results(max_results, 1_000_000)
        with gc_paused():
            with self.db.read() as conn:
                self._run_state(conn, run_id)
                rows = self._history_page(conn, run_id, metric_key, limit, position)
            more = limit is not None and len(rows) > limit
            if more:
                del rows[limit:]
            token = encode_history_token(rows[-1]) if more else None
            return PagedList(history_entities(metric_key, run_id, rows), token)

    def _history_page(
        self,
        conn: Connection,
        run_id: str,
        key: str,
        limit: int | None,
        position: HistoryPosition | int,
    ) -> list[tuple[Any, ...]]:
        """Up to ``limit + 1`` history rows after ``position`` (a point, or an offset from an
        MLflow token); all of them without a limit."""
        if limit is None or isinstance(position, int):
            rows = self._history_rows(conn, run_id, key)
            start = position if isinstance(position, int) else bisect_right(rows, position)
            return rows[start : None if limit is None else start + limit + 1]
        return conn.execute_plain(
            f"SELECT {HISTORY_COLUMNS} FROM metrics WHERE run_uuid = :r AND key = :k "
            "AND (timestamp, step, value, is_nan) > (:t, :s, :v, :n) "
            f"{HISTORY_ORDER} LIMIT :limit",
            {"r": run_id, "k": key, "limit": limit + 1} | dict(zip("tsvn", position, strict=True)),
        )

    @staticmethod
    def _history_rows(conn: Connection, run_id: str, key: str) -> list[tuple[Any, ...]]:
        """A whole history in MLflow's order: read along the primary key, then sorted in
        Python, which is cheaper than sorting in SQL (the rows mostly come in order already)."""
        rows = conn.execute_plain(
            f"SELECT {HISTORY_COLUMNS} FROM metrics WHERE run_uuid = :r AND key = :k "
            "ORDER BY step, timestamp, value, is_nan",
            {"r": run_id, "k": key},
        )
        rows.sort()
        return rows

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int = HISTORY_INTERVAL_MAX_RESULTS,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        ids, limit = check_history_interval(run_ids, metric_key, max_results, start_step, end_step)
        points: list[Metric] = []
        with self.db.read() as conn:
            for run_id in ids:
                self._run_state(conn, v.validate_run_id(run_id))
            for run_id in ids:
                points += self._sampled_history(
                    conn, run_id, metric_key, limit, start_step, end_step
                )
        return points

    def _sampled_history(
        self,
        conn: Connection,
        run_id: str,
        key: str,
        buckets: int,
        start_step: int | None,
        end_step: int | None,
    ) -> list[Metric]:
        """The rows :func:`sample_indices` picks, read in the primary key's order (run, key,
        step, timestamp, value, is_nan): only the sampled rows leave the database."""
        where = "run_uuid = :r AND key = :k"
        args: dict[str, Any] = {"r": run_id, "k": key}
        if start_step is not None and end_step is not None:
            where += " AND step >= :s AND step <= :e"
            args.update(s=start_step, e=end_step)
        total = int(conn.execute(f"SELECT COUNT(*) FROM metrics WHERE {where}", args)[0][0])
        wanted = sample_indices(total, buckets)
        if not wanted:
            rows = []
        elif len(wanted) == total:
            rows = conn.execute(
                f"SELECT {_SAMPLE_COLUMNS} FROM metrics WHERE {where} {_SAMPLE_ORDER}", args
            )
        else:
            # The hops after the first row need no step bounds: the range's rows are contiguous
            # in the key's order and every wanted index is below their count. With a bound the
            # planner may seek by it instead of the previous row and walk from the range's start
            # on every hop (seen: 32 s instead of 0.1 s for 1M points).
            hop_where = "run_uuid = :r AND key = :k"
            sample = _hop_sample_sqlite if self.db.dialect == "sqlite" else _hop_sample_sql
            rows = sample(conn, where, hop_where, args, wanted)
        return [
            Metric(k, _float(value, is_nan), ts, step, run_id)
            for k, value, ts, step, is_nan in rows
        ]

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        if isinstance(experiment_ids, str):
            experiment_ids = [experiment_ids]
        eids = [self._experiment_int(e) for e in experiment_ids]
        view_type = ViewType.parse(run_view_type)
        max_results = v.validate_max_results(max_results, v.MAX_RESULTS_SEARCH_RUNS)
        offset = decode_page_token(page_token)
        filters, order = parse_search_filter(filter_string), parse_order_by(order_by)
        frag = compile_runs_search(filters, order, self.db.dialect)
        if not eids:
            return PagedList([], None)
        stages = view_type.stages()
        params: dict[str, Any] = {f"e{i}": e for i, e in enumerate(eids)}
        params.update({f"ls{i}": s.value for i, s in enumerate(stages)})
        scope = (
            f"r.experiment_id IN ({', '.join(f':e{i}' for i in range(len(eids)))}) "
            f"AND r.lifecycle_stage IN ({', '.join(f':ls{i}' for i in range(len(stages)))})"
        )
        keyset = decode_keyset_token(page_token)
        plan = plan_runs_keyset(filters, order, self.db.dialect)
        if plan is not None and (keyset is not None or offset == 0):
            return self._search_runs_keyset(
                plan, scope, params, max_results, offset, keyset, (eids, stages, filters, order)
            )
        # Several order columns, or an offset token (from MLflow or an older mlflowx).
        params.update(frag.params)
        params.update({"limit": max_results + 1, "offset": offset})
        sql = (
            f"SELECT r.run_uuid FROM runs r {frag.joins} WHERE {scope} "
            f"AND ({frag.where}) ORDER BY {frag.order_by} LIMIT :limit OFFSET :offset"
        )
        with self.db.read() as conn:
            ids = [r[0] for r in conn.execute(sql, params)]
            page = ids[:max_results]
            loaded = self._load_runs(conn, page)
        token = encode_page_token(offset + max_results) if len(ids) > max_results else None
        return PagedList([loaded[i] for i in page], token)

    def _search_runs_keyset(
        self,
        plan: KeysetPlan,
        scope: str,
        scope_params: dict[str, Any],
        max_results: int,
        offset: int,
        keyset: tuple[int, list[Any], str] | None,
        search: tuple[Any, ...],
    ) -> PagedList[Run]:
        fingerprint = search_fingerprint(*search)
        start = None
        if keyset is not None:
            segment, after, made_for = keyset
            if made_for != fingerprint:
                raise InvalidParameter(
                    "Invalid page token: it was made for another search (experiments, filter, "
                    "order or view type differ); start again without a page token"
                )
            start = (segment, after)
        with self.db.read() as conn:
            ids, following = keyset_page(
                plan, conn.execute, scope, scope_params, max_results, start
            )
            loaded = self._load_runs(conn, ids)
        token = None
        if following is not None:
            token = encode_keyset_token(offset + len(ids), *following, fingerprint)
        return PagedList([loaded[i] for i in ids], token)

    def search_datasets(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        eids = [self._experiment_int(e) for e in check_search_datasets(experiment_ids)]
        marks = ", ".join(f":e{i}" for i in range(len(eids)))
        # A left join: an input logged without a context still lists its dataset.
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT DISTINCT d.experiment_id, d.name, d.digest, t.value FROM datasets d "
                "JOIN inputs i ON i.dataset_uuid = d.dataset_uuid "
                "LEFT JOIN input_tags t ON t.input_uuid = i.input_uuid AND t.key = :ctx "
                f"WHERE d.experiment_id IN ({marks}) "
                "ORDER BY d.experiment_id, d.name, d.digest, t.value LIMIT :limit",
                {
                    "ctx": DATASET_CONTEXT_TAG,
                    "limit": SEARCH_DATASETS_MAX_RESULTS,
                    **{f"e{i}": e for i, e in enumerate(eids)},
                },
            )
        return [DatasetSummary(str(e), name, digest, ctx) for e, name, digest, ctx in rows]


def _model_input_id(model: ModelInput) -> str:
    model_id = model.model_id
    if not isinstance(model_id, str) or not 0 < len(model_id) <= 40:
        raise InvalidParameter(
            f"Invalid model input {model_id!r}: expected the id of a logged model "
            "(a string of 1 to 40 characters, e.g. 'm-...')"
        )
    return model_id


def _latest_per_key(rows: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The greatest (step, timestamp, value) point of each key, from metric row tuples."""
    best: dict[str, tuple[Any, ...]] = {}
    for row in rows:
        cur = best.get(row[1])
        if cur is None or (row[4], row[3], row[2]) > (cur[4], cur[3], cur[2]):
            best[row[1]] = row
    return list(best.values())


_SAMPLE_COLUMNS = "key, value, timestamp, step, is_nan"
_SAMPLE_ORDER = "ORDER BY step, timestamp, value, is_nan"


def _hop_sample_sqlite(
    conn: Connection, where: str, hop_where: str, args: dict[str, Any], wanted: list[int]
) -> list[tuple[Any, ...]]:
    """The ``wanted`` rows (indices in the primary key's order), each read by hopping from the
    previous one along the index: SQLite skips the rows in between inside its B-tree walk, so
    the whole sample costs one pass over the range (where numbering the rows with
    ROW_NUMBER() costs six times as much)."""
    columns, order = _SAMPLE_COLUMNS, _SAMPLE_ORDER
    hop = (
        f"SELECT {columns} FROM metrics WHERE {hop_where} AND (step, timestamp, value, "
        f"is_nan) > (:ps, :pt, :pv, :pn) {order} LIMIT 1 OFFSET :o"
    )
    rows = conn.execute(
        f"SELECT {columns} FROM metrics WHERE {where} {order} LIMIT 1 OFFSET :o",
        {**args, "o": wanted[0]},
    )
    for before, index in itertools.pairwise(wanted):
        _, value, ts, step, is_nan = rows[-1]
        after = {"ps": step, "pt": ts, "pv": value, "pn": is_nan, "o": index - before - 1}
        rows += conn.execute(hop, {**args, **after})
    return rows


def _hop_sample_sql(
    conn: Connection, where: str, hop_where: str, args: dict[str, Any], wanted: list[int]
) -> list[tuple[Any, ...]]:
    """:func:`_hop_sample_sqlite` in one statement (PostgreSQL): a recursive query whose each
    step hops from the previous row, so there is one round trip and no row numbering."""
    columns, order = _SAMPLE_COLUMNS, _SAMPLE_ORDER
    gaps = [index - before - 1 for before, index in itertools.pairwise(wanted)]
    sql = (
        f"WITH RECURSIVE hop(n, {columns}) AS ("
        f"(SELECT 0, {columns} FROM metrics WHERE {where} {order} LIMIT 1 OFFSET :first) "
        f"UNION ALL SELECT hop.n + 1, m.key, m.value, m.timestamp, m.step, m.is_nan FROM hop "
        f"CROSS JOIN LATERAL (SELECT {columns} FROM metrics WHERE {hop_where} AND "
        "(step, timestamp, value, is_nan) > (hop.step, hop.timestamp, hop.value, hop.is_nan) "
        f"{order} LIMIT 1 OFFSET (CAST(:gaps AS BIGINT[]))[hop.n + 1]) m "
        f"WHERE hop.n < :hops) SELECT {columns} FROM hop ORDER BY n"
    )
    return conn.execute(sql, {**args, "first": wanted[0], "gaps": gaps, "hops": len(gaps)})
