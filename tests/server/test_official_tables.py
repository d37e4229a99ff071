"""Tables cross over: what MLflow's client logs, mlflowx's ``load_table`` reads, and back,
through a live mlflowx server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import fluent as mlflow_fluent
from mlflow.tracking._tracking_service import utils as mlflow_tracking_utils

import mlflowx
from tests.fixtures.server import LiveServer

# mlflow's own pandas calls (log_table) use APIs pandas 3 deprecates; checked, not ours to fix.
pytestmark = pytest.mark.filterwarnings(r"ignore::pandas.errors.Pandas4Warning:mlflow\.")


@pytest.fixture
def server(mlflowx_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    previous = mlflow_tracking_utils._tracking_uri
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setattr(mlflow_fluent, "_active_experiment_id", None)
    mlflow.set_tracking_uri(mlflowx_server.url)
    try:
        yield mlflowx_server
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        mlflow.set_tracking_uri(previous)  # type: ignore[arg-type]


def test_tables_cross_between_mlflow_and_mlflowx(server: LiveServer) -> None:
    official = mlflow.MlflowClient(server.url)
    ours = mlflowx.MlflowClient(server.url)
    experiment_id = official.create_experiment(f"tables-{uuid.uuid4().hex[:8]}")
    by_mlflow = official.create_run(experiment_id).info.run_id
    official.log_table(by_mlflow, {"q": ["a"], "n": [1]}, "t.json")
    by_mlflowx = ours.create_run(experiment_id).info.run_id
    ours.log_table(by_mlflowx, {"q": ["b", "c"], "n": [2, 3]}, "t.json")
    tag = "mlflow.loggedArtifacts"
    assert official.get_run(by_mlflowx).data.tags[tag] == official.get_run(by_mlflow).data.tags[tag]
    mine = ours.load_table(experiment_id, "t.json", extra_columns=["run_id"])
    theirs = official.load_table(experiment_id, "t.json", extra_columns=["run_id"])
    key = ["q", "n", "run_id"]
    assert sorted(map(tuple, mine[key].to_numpy().tolist())) == sorted(
        map(tuple, theirs[key].to_numpy().tolist())
    )
    assert sorted(mine["q"]) == ["a", "b", "c"]
    # mlflowx appends to the table MLflow wrote, and MLflow reads the result
    ours.log_table(by_mlflow, pd.DataFrame({"q": ["d"], "n": [4]}), "t.json")
    again = official.load_table(experiment_id, "t.json", run_ids=[by_mlflow])
    assert again.to_dict("list") == {"q": ["a", "d"], "n": [1, 4]}
