"""Several processes writing one SQLite file at once lose nothing and duplicate nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mlflowx.store.tracking.sql import SqlTrackingStore

WRITER = """
import sys
import mlflowx as mlflow
mlflow.set_tracking_uri(sys.argv[1])
client = mlflow.MlflowClient()
run_id = sys.argv[2]
for i in range(int(sys.argv[3])):
    client.log_metric(run_id, "m", float(i), timestamp=1000 + i, step=i)
    client.log_metric(run_id, f"w{sys.argv[4]}", float(i), step=i)
client.log_param(run_id, f"p{sys.argv[4]}", "done")
"""


def test_processes_share_one_sqlite_file(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'shared.db'}"
    store = SqlTrackingStore(uri)
    run_id = store.create_run("0", None, None, [], "shared").info.run_id
    n, procs = 300, 4
    workers = [
        subprocess.Popen([sys.executable, "-c", WRITER, uri, run_id, str(n), str(w)])
        for w in range(procs)
    ]
    assert [w.wait(timeout=120) for w in workers] == [0] * procs
    # Every writer logged the same points of "m": the store keeps each point once.
    assert len(store.get_metric_history(run_id, "m")) == n
    for w in range(procs):
        assert len(store.get_metric_history(run_id, f"w{w}")) == n
    run = store.get_run(run_id)
    assert {f"p{w}" for w in range(procs)} <= set(run.data.params)
    assert run.data.metrics["m"] == n - 1
    store.close()
