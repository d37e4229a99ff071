"""Runs as flat records for ``runs list -o json|csv`` and ``experiments csv``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from mlflowx.entities import Run

PARENT_TAG = "mlflow.parentRunId"
BASE_COLUMNS = (
    "run_id", "run_name", "experiment_id", "status", "artifact_uri", "start_time", "end_time",
    "parent_run_id",
)  # fmt: skip


def iso_time(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds")


def record(run: Run) -> dict[str, Any]:
    """One run: its info, then ``metrics.*``, ``params.*`` and ``tags.*`` (MLflow's
    ``search_runs`` DataFrame columns)."""
    info = run.info
    out: dict[str, Any] = {
        "run_id": info.run_id,
        "run_name": info.run_name or "",
        "experiment_id": info.experiment_id,
        "status": str(info.status),
        "artifact_uri": info.artifact_uri or "",
        "start_time": iso_time(info.start_time),
        "end_time": iso_time(info.end_time),
        "parent_run_id": run.data.tags.get(PARENT_TAG, ""),
    }
    out.update({f"metrics.{k}": v for k, v in sorted(run.data.metrics.items())})
    out.update({f"params.{k}": v for k, v in sorted(run.data.params.items())})
    out.update({f"tags.{k}": v for k, v in sorted(run.data.tags.items())})
    return out


def to_json(runs: Sequence[Run]) -> str:
    return json.dumps([record(r) for r in runs], indent=2, default=str)


def to_csv(runs: Sequence[Run]) -> str:
    records = [record(r) for r in runs]
    columns = list(dict.fromkeys(k for r in records for k in r)) or list(BASE_COLUMNS)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()
