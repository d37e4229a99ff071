"""Seed data for ``bench/server.py``'s search workload, and the seeders that bypass REST.

Imported by ``bench/server.py`` for :func:`seed_data` (no mlflow/mlflowx import at module
level), and run as a script next to a live server to add runs to its SQLite DB directly:

* ``"side": "mlflow"`` (default): bulk inserts through MLflow's own SQLAlchemy table models
  (MLflow's REST API manages only a few dozen runs/s on this box);
* ``"side": "mlflowx"``: mlflowx's own store API (create_run + log_batch), for what its REST
  seeding did not finish in time on a loaded machine.

    python bench/_server_seed.py '{"side": "mlflow", "db": "sqlite:///...",
        "experiment_id": "1", "artifact_location": "mlflow-artifacts:/1", "total": 10000,
        "indices": [300, 301, ...]}'

``indices`` pick runs out of ``seed_data(total)``; the older ``"start"``/``"n"`` form means
``range(start, start + n)``.
"""

from __future__ import annotations

import json
import random
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

MODELS = ("tree", "linear", "forest")
SEED_USER = "bench"
_CHUNK = 5_000  # runs per bulk-insert transaction


@dataclass(frozen=True)
class SeedRun:
    name: str
    team: str
    model: str
    lr: str
    depth: str
    acc: float
    loss: float


def seed_data(n: int) -> list[SeedRun]:
    """The same ``n`` runs on every side (fixed RNG seed), so search results can be compared."""
    rng = random.Random(20240601)
    return [
        SeedRun(
            name=f"run-{i}",
            team=f"team-{rng.randrange(5)}",
            model=MODELS[rng.randrange(len(MODELS))],
            lr=str(round(10 ** rng.uniform(-4, -1), 6)),
            depth=str(rng.randrange(2, 12)),
            acc=round(rng.random(), 9),
            loss=round(rng.random() * 3, 9),
        )
        for i in range(n)
    ]


def _rows(
    runs: list[SeedRun], eid: str, artifact_location: str, t0: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """What MLflow's server stores for runs/create (name, user, team tag) + one log-batch."""
    run_rows, tag_rows, param_rows, metric_rows = [], [], [], []
    for i, r in enumerate(runs):
        rid = uuid.uuid4().hex
        t = t0 + i
        run_rows.append(
            {
                "run_uuid": rid,
                "name": r.name,
                "experiment_id": int(eid),
                "status": "RUNNING",
                "start_time": t,
                "end_time": None,
                "deleted_time": None,
                "lifecycle_stage": "active",
                "artifact_uri": f"{artifact_location}/{rid}/artifacts",
                "user_id": SEED_USER,
                "source_type": "UNKNOWN",
                "source_name": "",
                "entry_point_name": "",
                "source_version": "",
            }
        )
        tag_rows += [
            {"run_uuid": rid, "key": "team", "value": r.team},
            {"run_uuid": rid, "key": "mlflow.runName", "value": r.name},
        ]
        param_rows += [
            {"run_uuid": rid, "key": "model", "value": r.model},
            {"run_uuid": rid, "key": "lr", "value": r.lr},
            {"run_uuid": rid, "key": "depth", "value": r.depth},
        ]
        for key, value in (("acc", r.acc), ("loss", r.loss)):
            metric_rows.append(
                {
                    "run_uuid": rid,
                    "key": key,
                    "value": value,
                    "timestamp": t,
                    "step": 0,
                    "is_nan": False,
                }
            )
    return run_rows, tag_rows, param_rows, metric_rows


def selected_runs(spec: dict[str, Any]) -> list[SeedRun]:
    if "indices" in spec:
        everything = seed_data(int(spec["total"]))
        return [everything[i] for i in spec["indices"]]
    start, n = int(spec["start"]), int(spec["n"])
    return seed_data(start + n)[start:]


def store_seed_mlflowx(spec: dict[str, Any]) -> dict[str, float]:
    """The runs through mlflowx's own store API, as its REST handlers would call it."""
    t_import = time.perf_counter()
    from mlflowx.entities import Metric, Param, RunTag
    from mlflowx.store.tracking.sql import SqlTrackingStore

    t_insert = time.perf_counter()
    runs = selected_runs(spec)
    store = SqlTrackingStore(spec["db"], default_artifact_root="mlflow-artifacts:/")
    for r in runs:
        run = store.create_run(
            spec["experiment_id"], SEED_USER, int(time.time() * 1000),
            [RunTag("team", r.team)], r.name,
        )  # fmt: skip
        ts = int(time.time() * 1000)
        store.log_batch(
            run.info.run_id,
            metrics=[Metric("acc", r.acc, ts, 0), Metric("loss", r.loss, ts, 0)],
            params=[Param("model", r.model), Param("lr", r.lr), Param("depth", r.depth)],
        )
    store.close()
    done = time.perf_counter()
    return {"import_s": t_insert - t_import, "insert_s": done - t_insert, "runs": len(runs)}


def bulk_seed_mlflow(spec: dict[str, Any]) -> dict[str, float]:
    """Insert the runs into MLflow's tables with its SQLAlchemy table models."""
    t_import = time.perf_counter()
    import sqlalchemy
    from mlflow.store.tracking.dbmodels.models import (
        SqlLatestMetric,
        SqlMetric,
        SqlParam,
        SqlRun,
        SqlTag,
    )

    t_insert = time.perf_counter()
    runs = selected_runs(spec)
    engine = sqlalchemy.create_engine(spec["db"])
    base = int(time.time() * 1000)
    for i in range(0, len(runs), _CHUNK):
        run_rows, tag_rows, param_rows, metric_rows = _rows(
            runs[i : i + _CHUNK], spec["experiment_id"], spec["artifact_location"], base + i
        )
        with engine.begin() as conn:
            conn.execute(SqlRun.__table__.insert(), run_rows)
            conn.execute(SqlTag.__table__.insert(), tag_rows)
            conn.execute(SqlParam.__table__.insert(), param_rows)
            conn.execute(SqlMetric.__table__.insert(), metric_rows)
            conn.execute(SqlLatestMetric.__table__.insert(), metric_rows)
    engine.dispose()
    done = time.perf_counter()
    return {"import_s": t_insert - t_import, "insert_s": done - t_insert, "runs": len(runs)}


if __name__ == "__main__":
    given = json.loads(sys.argv[1])
    seeder = store_seed_mlflowx if given.get("side") == "mlflowx" else bulk_seed_mlflow
    print(json.dumps(seeder(given)))
