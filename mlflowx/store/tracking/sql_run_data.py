"""Logging metrics, params and tags to runs in the SQL tracking store: a mixin of
``SqlTrackingStore``. ``log_metric`` is the hot path: one short transaction, no ORM."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from mlflowx.entities import Metric, Param, RunStatus, RunTag
from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.store.sql.db import Connection
from mlflowx.store.tracking.base import (
    KeyValueLike,
    MetricLike,
    validate_metric_points,
    validate_params_and_tags,
)
from mlflowx.store.tracking.sql_models import ModelMetricRow, model_metric_rows
from mlflowx.store.tracking.sql_runs import RUN_NAME_TAG, UPSERT_TAG, RunsMixin
from mlflowx.store.tracking.step_blocks import (
    COUNT_INSERTED_SQL,
    COUNT_ONE_INSERTED_SQL,
    STEP_BLOCK_SHIFT,
    add_block_counts,
    count_inserted,
)
from mlflowx.utils import validation as v

__all__ = ["RunDataMixin"]

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
# instead of five (BEGIN, the run's state, three inserts, COMMIT). It writes only if the run is
# active and returns the run's experiment; no row back means "not active" (or not found), and
# the ordinary path then raises the precise error. The point's step block is counted only when
# the point was really inserted (``RETURNING`` of ``ON CONFLICT DO NOTHING``).
_LOG_METRIC_ONE_STATEMENT = (
    "WITH run AS (SELECT run_uuid, experiment_id FROM runs "
    "WHERE run_uuid = :run_uuid AND lifecycle_stage = 'active'), "
    f"inserted AS (INSERT INTO metrics ({_METRIC_COLUMNS}) SELECT {_METRIC_VALUES} FROM run "
    "ON CONFLICT DO NOTHING RETURNING run_uuid), "
    f"b AS ({COUNT_ONE_INSERTED_SQL}), "
    f"l AS (INSERT INTO latest_metrics ({_METRIC_COLUMNS}) SELECT {_METRIC_VALUES} FROM run "
    f"{_LATEST_ON_CONFLICT}) "
    "SELECT experiment_id FROM run"
)
# PostgreSQL: a batch's metrics in one statement each (the rows as five arrays, unnest()ed by
# the server) instead of one statement per row: one round trip for up to 1,000 points.
_UNNEST_ROWS = (
    "SELECT :run_uuid, * FROM unnest(CAST(:{p}keys AS TEXT[]), CAST(:{p}values AS FLOAT8[]), "
    "CAST(:{p}timestamps AS BIGINT[]), CAST(:{p}steps AS BIGINT[]), CAST(:{p}nans AS BOOLEAN[]))"
)
# The points, the step blocks of those really inserted, and each key's latest point (arrays
# prefixed "latest_"): one statement and round trip. The blocks are the main statement, so
# their rows are locked before the latest points' (the CTEs that modify run after it), in the
# order log_metric's statement locks them too.
_INSERT_METRICS_UNNEST = (
    f"WITH inserted AS (INSERT INTO metrics ({_METRIC_COLUMNS}) {_UNNEST_ROWS.format(p='')} "
    "ON CONFLICT DO NOTHING RETURNING key, step), "
    f"latest AS (INSERT INTO latest_metrics ({_METRIC_COLUMNS}) "
    f"{_UNNEST_ROWS.format(p='latest_')} {_LATEST_ON_CONFLICT}) {COUNT_INSERTED_SQL}"
)
_INSERT_PARAM = (
    "INSERT INTO params (run_uuid, key, value) VALUES (:run_uuid, :key, :value) "
    "ON CONFLICT DO NOTHING"
)


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


def _unnest_args(rows: Sequence[tuple[Any, ...]], prefix: str = "") -> dict[str, Any]:
    """The array parameters of :data:`_INSERT_METRICS_UNNEST` for metric row tuples of one
    run, named with ``prefix``."""
    _, keys, values, timestamps, steps, nans = zip(*rows, strict=True)
    return {
        f"{prefix}keys": list(keys),
        f"{prefix}values": list(values),
        f"{prefix}timestamps": list(timestamps),
        f"{prefix}steps": list(steps),
        f"{prefix}nans": list(nans),
    }


_STEP_TIMESTAMP_VALUE = itemgetter(4, 3, 2)


def _latest_per_key(rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The greatest (step, timestamp, value) point of each key, from metric row tuples (the
    first of equal ones). A batch of one key, the usual one, is one ``max()`` in C."""
    if len({row[1] for row in rows}) == 1:
        return [max(rows, key=_STEP_TIMESTAMP_VALUE)]
    best: dict[str, tuple[Any, ...]] = {}
    for row in rows:
        cur = best.get(row[1])
        if cur is None or (row[4], row[3], row[2]) > (cur[4], cur[3], cur[2]):
            best[row[1]] = row
    return list(best.values())


class RunDataMixin(RunsMixin):
    """Metrics, params and tags of runs: single writes, batches and a run's end."""

    def log_metric(self, run_id: str, metric: Metric) -> None:
        # The hot path: one short write transaction, no list building, no ORM.
        key, value, timestamp, step = v.validate_metric(
            metric.key, metric.value, metric.timestamp, metric.step
        )
        row = _metric_row(run_id, Metric(key, value, timestamp, step))
        if self.db.dialect == "postgresql" and not metric.model_id:
            block = step >> STEP_BLOCK_SHIFT
            with self.db.autocommit() as conn:
                if conn.execute(_LOG_METRIC_ONE_STATEMENT, row | {"block": block}):
                    return
        with self.db.write() as conn:
            eid = self._require_active_run(conn, run_id)
            if conn.execute_rowcount(_INSERT_METRIC, row) == 1:
                add_block_counts(conn, run_id, [tuple(row.values())])
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
                conn.executemany_rows(UPSERT_TAG, rows)
                if RUN_NAME_TAG in batch.tags:
                    conn.execute(
                        "UPDATE runs SET name = :n WHERE run_uuid = :id",
                        {"n": v.validate_run_name(batch.tags[RUN_NAME_TAG]), "id": run_id},
                    )
            if batch.metric_rows:
                self._insert_metric_rows(conn, run_id, batch.metric_rows)
            if batch.model_rows:
                self._log_model_metrics(conn, run_id, eid, batch.model_rows)
            if end is not None:
                conn.execute(
                    "UPDATE runs SET status = :s, end_time = :e WHERE run_uuid = :id",
                    {"s": end[0].value, "e": end[1], "id": run_id},
                )

    @staticmethod
    def _insert_metric_rows(conn: Connection, run_id: str, rows: list[tuple[Any, ...]]) -> None:
        """A batch's points into ``metrics`` (duplicates ignored) and their step blocks'
        counts, and each key's latest point into ``latest_metrics`` (kept only if greater than
        the stored one)."""
        latest = _latest_per_key(rows)
        if conn.dialect == "postgresql":
            args = {"run_uuid": run_id, **_unnest_args(rows), **_unnest_args(latest, "latest_")}
            conn.execute(_INSERT_METRICS_UNNEST, args)
            return
        count_inserted(conn, run_id, rows, conn.executemany_rows(_INSERT_METRIC, rows))
        conn.executemany_rows(_UPSERT_LATEST, latest)

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
