"""``backend_config`` and ``registry`` for project runs on Prefect (MLflow's ``--backend-config``):
a mapping, a JSON string or a ``.json`` file, checked before anything is submitted."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

import mlflowx
import mlflowx.projects
from mlflowx.cli import main
from mlflowx.exceptions import InvalidParameter
from mlflowx.orchestration._context import FLOW_RUN_ID_TAG
from mlflowx.projects.backend_config import PrefectBackendConfig, parse_backend_config
from tests.projects.conftest import ProjectFactory
from tests.projects.test_workpools import PROJECT, _docker_pool, _process_pool


def test_the_three_forms_read_the_same(tmp_path: Path) -> None:
    config = {"work_pool": "pool", "registry": "127.0.0.1:5000", "job_variables": {"cpu": 1}}
    path = tmp_path / "backend.json"
    path.write_text(json.dumps(config))
    expected = PrefectBackendConfig("pool", None, "127.0.0.1:5000", {"cpu": 1})
    assert parse_backend_config(config) == expected
    assert parse_backend_config(json.dumps(config)) == expected
    assert parse_backend_config(str(path)) == expected
    assert parse_backend_config(None) == PrefectBackendConfig()


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ("{not json", "the backend_config string is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ("/nowhere/backend.json", "no JSON file at /nowhere/backend.json"),
        ({"work_pool": "p", "pool": "q"}, "unknown key(s) 'pool'"),
        ({"registry": 5000}, "'registry' must be a string"),
        ({"job_variables": ["env"]}, "'job_variables' must be an object"),
    ],
)
def test_bad_config_names_the_problem(config: Any, words: str) -> None:
    with pytest.raises(InvalidParameter, match=re.escape(words)):
        parse_backend_config(config)


def test_local_backend_refuses_prefect_options(make_project: ProjectFactory) -> None:
    root = make_project(MLproject=PROJECT)
    with pytest.raises(InvalidParameter, match="apply to the prefect backend"):
        mlflowx.projects.run(str(root), backend_config={"work_pool": "p"})
    with pytest.raises(InvalidParameter, match="apply to the prefect backend"):
        mlflowx.projects.run(str(root), registry="127.0.0.1:5000")
    assert mlflowx.search_runs(output_format="list", search_all_experiments=True) == []


def test_refused_submission_fails_its_tracking_run(
    prefect_server: Any, make_project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """The pool comes from the config; pushing to a process pool is refused, through the CLI with
    exit code 2 and one line, and the tracking run created for it ends FAILED, not RUNNING."""
    pool = f"proc-{uuid.uuid4().hex[:8]}"
    _process_pool(pool)
    root = make_project(MLproject=PROJECT)
    config = json.dumps({"work_pool": pool, "registry": "127.0.0.1:5000"})
    with pytest.raises(SystemExit, match=r"^2$"):
        main(["run", str(root), "--backend", "prefect", "--backend-config", config])
    err = capsys.readouterr().err
    assert "is a process pool" in err
    assert "Traceback" not in err
    (run,) = mlflowx.search_runs(output_format="list", search_all_experiments=True)
    assert run.info.status.value == "FAILED"


@pytest.mark.slow
def test_run_with_registry_deploys_the_pushed_image(
    prefect_server: Any, docker_client: Any, base_image: str, registry: str,
    make_project: ProjectFactory,
) -> None:  # fmt: skip
    """``run(backend="prefect", registry=...)`` pushes the project image and submits a flow run
    whose deployment names the pushed image, pulled by the worker; the config's job variables
    are merged (env kept). The worker side is tested in test_workpools (pulled image runs)."""
    from prefect import get_client

    pool = _docker_pool()
    root = make_project(MLproject=PROJECT)
    submitted = mlflowx.projects.run(
        str(root), backend="prefect", synchronous=False, registry=registry,
        backend_config={"work_pool": pool, "job_variables": {"env": {"TEAM": "risk"}}},
    )  # fmt: skip
    assert isinstance(submitted, mlflowx.projects.PrefectSubmittedRun)
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(submitted.flow_run_id)
        deployment = client.read_deployment(flow_run.deployment_id)  # type: ignore[arg-type]
    variables = deployment.job_variables
    image = variables["image"]
    repository, _, tag = image.rpartition(":")
    try:
        assert repository == f"{registry}/mlflowx-project-pooled"
        assert variables["image_pull_policy"] == "IfNotPresent"
        assert variables["env"]["TEAM"] == "risk"
        assert variables["env"]["MLFLOWX_TRACKING_URI"] == mlflowx.get_tracking_uri()
        assert flow_run.job_variables["env"]["TEAM"] == "risk"
    finally:
        for name in (image, f"mlflowx-project-pooled:{tag}"):
            docker_client.images.remove(name, force=True)
    tags = mlflowx.get_run(submitted.run_id).data.tags
    assert tags[FLOW_RUN_ID_TAG] == str(submitted.flow_run_id)
