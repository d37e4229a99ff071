"""Lineage into Prefect: a tracked flow run links to its tracking run and summarises it, the
register task links to the model version; an artifact that cannot be made never fails a flow."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import mlflowx
from mlflowx.entities import Run
from mlflowx.orchestration import flow, lineage
from mlflowx.orchestration.tasks import DatasetSpec, EstimatorSpec, register, train_model

UI = "http://ui.example:5000"


def _artifacts(**filters: str) -> dict[str, str]:
    """Artifact key -> Markdown of a flow or task run."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterTaskRunId,
    )

    if "flow_run_id" in filters:
        wanted = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[filters["flow_run_id"]]))
    else:
        wanted = ArtifactFilter(task_run_id=ArtifactFilterTaskRunId(any_=[filters["task_run_id"]]))
    with get_client(sync_client=True) as client:
        return {a.key: str(a.data) for a in client.read_artifacts(artifact_filter=wanted) if a.key}


def _run_of(experiment: str) -> Run:
    found = mlflowx.get_experiment_by_name(experiment)
    assert found is not None
    runs = mlflowx.MlflowClient().search_runs([found.experiment_id])
    assert len(runs) == 1
    return runs[0]


def test_run_and_model_version_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOWX_UI_URL", raising=False)
    assert lineage.run_url("sqlite:///x.db", "1", "abc") is None
    assert (
        lineage.run_url("http://srv:5000/", "1", "abc")
        == "http://srv:5000/#/experiments/1/runs/abc"
    )
    monkeypatch.setenv("MLFLOWX_UI_URL", "https://ml.example.com/")
    assert lineage.model_version_url("sqlite:///x.db", "my model", "3") == (
        "https://ml.example.com/#/models/my%20model/versions/3"
    )


def test_summary_markdown_lists_metrics_and_params(tmp_path: Any) -> None:
    mlflowx.set_tracking_uri(f"sqlite:///{tmp_path / 'db'}")
    with mlflowx.start_run(run_name="sum") as run:
        mlflowx.log_metric("acc", 0.9)
        mlflowx.log_params({f"p{i:02d}": i for i in range(25)} | {"a-pipe": "a|b"})
    done = mlflowx.get_run(run.info.run_id)
    text = lineage.run_summary_markdown(done, "sqlite:///db", "http://ui/#/x")
    assert "**[sum](http://ui/#/x)**" in text
    assert "| acc | 0.9 |" in text
    assert "| a-pipe | a\\|b |" in text  # table cells escape the pipe
    assert "| … | 6 more |" in text  # 26 params, 20 shown
    assert "MLFLOWX_UI_URL" in lineage.run_summary_markdown(done, "sqlite:///db", None)


@pytest.mark.usefixtures("prefect_server")
def test_flow_run_links_to_its_tracking_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOWX_UI_URL", UI)

    @flow(experiment="lineage-links")
    def job(alpha: float = 0.5) -> dict[str, float]:
        mlflowx.log_metric("loss", 0.25)
        return {"score": 0.75}

    job()
    run = _run_of("lineage-links")
    flow_run_id = run.data.tags["mlflowx.prefect.flow_run_id"]
    found = _artifacts(flow_run_id=flow_run_id)
    page = f"{UI}/#/experiments/{run.info.experiment_id}/runs/{run.info.run_id}"
    assert found[lineage.RUN_KEY] == f"[{run.info.run_name}: tracking run in mlflowx]({page})\n"
    summary = found[lineage.RUN_SUMMARY_KEY]
    assert f"**[{run.info.run_name}]({page})**" in summary
    assert "- status: **FINISHED**" in summary
    assert "| loss | 0.25 |" in summary
    assert "| alpha | 0.5 |" in summary


@pytest.mark.usefixtures("prefect_server")
def test_register_task_links_to_the_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOWX_UI_URL", UI)
    seen: dict[str, Any] = {}

    @flow(experiment="lineage-register")
    def pipeline() -> str:
        trained = train_model(
            DatasetSpec(ref="sklearn:iris", test_size=0.3, seed=1),
            EstimatorSpec(
                import_path="sklearn.linear_model.LogisticRegression", params={"max_iter": 500}
            ),
        )
        future = register.submit(trained, "lineage-model")
        seen["task_run_id"] = str(future.task_run_id)
        return future.result().version

    assert pipeline() == "1"
    found = _artifacts(task_run_id=seen["task_run_id"])
    assert found[lineage.MODEL_VERSION_KEY] == (
        f"[lineage-model version 1 in mlflowx]({UI}/#/models/lineage-model/versions/1), "
        "now @champion\n"
    )


@pytest.mark.usefixtures("prefect_server")
def test_an_artifact_that_fails_never_fails_the_flow(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import prefect.client.schemas.actions as actions

    def broken(**_: Any) -> None:
        raise RuntimeError("artifact store down")

    monkeypatch.setattr(actions, "ArtifactCreate", broken)

    @flow(experiment="lineage-broken")
    def job() -> int:
        return 1

    with caplog.at_level(logging.WARNING, logger="mlflowx.orchestration.lineage"):
        assert job() == 1
    assert _run_of("lineage-broken").info.status == "FINISHED"
    assert "could not create the Prefect artifact 'mlflowx-run'" in caplog.text
