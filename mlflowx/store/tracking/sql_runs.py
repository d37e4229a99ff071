"""Runs in the SQL tracking store (creating, loading, their state and lifecycle): a mixin of
``SqlTrackingStore``."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from mlflowx.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LifecycleStage,
    Metric,
    ModelInput,
    ModelOutput,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
    RunTag,
    now_ms,
)
from mlflowx.exceptions import AlreadyExists, InvalidParameter, NotFound
from mlflowx.store.sql.db import Connection
from mlflowx.store.tracking.sql_experiments import CHUNK, ExperimentsMixin
from mlflowx.store.tracking.sql_models import LoggedModelsMixin
from mlflowx.utils import validation as v
from mlflowx.utils.names import generate_run_name, new_run_id
from mlflowx.utils.uri import join_uri

__all__ = ["RUN_NAME_TAG", "UPSERT_TAG", "RunsMixin", "stored_float"]

_RUN_ID = re.compile(r"[0-9a-f]{32}")
RUN_NAME_TAG = "mlflow.runName"
_RUN_COLUMNS = (
    "run_uuid, experiment_id, name, user_id, status, start_time, end_time, artifact_uri, "
    "lifecycle_stage"
)
UPSERT_TAG = (
    "INSERT INTO tags (run_uuid, key, value) VALUES (:run_uuid, :key, :value) "
    "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value"
)


def stored_float(value: float, is_nan: Any) -> float:
    """A metric value as stored: NaN is kept as 0.0 with ``is_nan`` set."""
    return math.nan if is_nan else float(value)


class RunsMixin(ExperimentsMixin, LoggedModelsMixin):
    """Creating runs, loading them whole, their info, state and lifecycle."""

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
        for start in range(0, len(run_ids), CHUNK):
            chunk = list(run_ids[start : start + CHUNK])
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
                data.metrics[key] = number = stored_float(value, is_nan)
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
                conn.execute(UPSERT_TAG, {"run_uuid": run_id, "key": RUN_NAME_TAG, "value": name})
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
