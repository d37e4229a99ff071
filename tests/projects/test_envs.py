"""Environments for real: this interpreter, a cached virtualenv, a Docker container, conda."""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

import mlflowx
from mlflowx.exceptions import InvalidParameter
from mlflowx.projects import ProjectRunFailed, RunConfig, load
from mlflowx.projects.execution import execute
from tests.projects.conftest import ProjectFactory

LOG_FROM_PROJECT = (
    "import sys, mlflowx; print('prefix', sys.prefix); "
    "mlflowx.start_run(); mlflowx.log_metric('from_project', 1.5); mlflowx.end_run()"
)


def test_local_env_logs_into_the_same_run(make_project: ProjectFactory) -> None:
    root = make_project(
        MLproject=f"""
        name: local-demo
        entry_points:
          main:
            parameters: {{n: {{type: int, default: 2}}}}
            command: "python -c \\"{LOG_FROM_PROJECT}\\" && echo n={{n}}"
        """
    )
    out = execute(load(str(root)), "main", {"n": 4, "extra": "v"}, RunConfig(env_manager="local"))
    run = mlflowx.get_run(out["run_id"])
    assert run.info.status.value == "FINISHED"
    assert run.data.metrics == {"from_project": 1.5}
    assert run.data.params == {"n": "4", "extra": "v"}
    tags = run.data.tags
    assert tags["mlflow.project.env"] == "local"
    assert tags["mlflow.project.entryPoint"] == "main"
    assert tags["mlflow.source.type"] == "PROJECT"
    assert tags["mlflow.source.name"] == str(root)


def test_failing_command_fails_the_run(make_project: ProjectFactory) -> None:
    root = make_project(MLproject="entry_points: {main: {command: 'echo boom; exit 3'}}\n")
    with pytest.raises(ProjectRunFailed, match="exited with code 3") as info:
        execute(load(str(root)), "main", {}, RunConfig(env_manager="local"))
    assert info.value.returncode == 3
    (run,) = mlflowx.search_runs(output_format="list")
    assert run.info.status.value == "FAILED"


def test_virtualenv_is_created_once_and_reused(
    make_project: ProjectFactory, caplog: pytest.LogCaptureFixture
) -> None:
    files = {
        "MLproject": f"""
            name: venv-demo
            python_env: python_env.yaml
            entry_points:
              main: {{command: "python -c \\"{LOG_FROM_PROJECT}\\""}}
            """,
        "python_env.yaml": "python: '3.11'\ndependencies: []\n",
    }
    first = load(str(make_project(**files)))
    second = load(str(make_project(**files)))  # another folder, the same spec: the same env
    env = first.environment()
    assert env.name == "virtualenv"
    caplog.set_level(logging.INFO, logger="mlflowx.projects")
    out = execute(first, "main", {}, RunConfig())
    lines = [r.getMessage() for r in caplog.records]
    prefix = next(line.split(" ", 1)[1] for line in lines if line.startswith("prefix "))
    assert Path(prefix) == env.path  # type: ignore[attr-defined]
    assert Path(prefix) != Path(sys.prefix)
    assert mlflowx.get_run(out["run_id"]).data.metrics == {"from_project": 1.5}
    assert mlflowx.get_run(out["run_id"]).data.tags["mlflow.project.env"] == "virtualenv"
    caplog.clear()
    execute(second, "main", {}, RunConfig())
    assert any(r.getMessage().startswith("Reusing virtualenv") for r in caplog.records)


def test_virtualenv_python_version_must_exist(make_project: ProjectFactory) -> None:
    root = make_project(
        MLproject="python_env: e.yaml\nentry_points: {main: {command: 'true'}}\n",
        **{"e.yaml": "python: '3.2'\n"},
    )
    with pytest.raises(InvalidParameter, match=r"asks for Python 3.2, but no python3.2"):
        execute(load(str(root)), "main", {}, RunConfig())


def test_conda_without_conda_is_a_clear_error(
    make_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("conda"):
        pytest.skip("conda is installed here")
    monkeypatch.delenv("MLFLOW_CONDA_HOME", raising=False)
    monkeypatch.delenv("MLFLOWX_CONDA_HOME", raising=False)
    root = make_project(
        MLproject="conda_env: conda.yaml\nentry_points: {main: {command: 'true'}}\n",
        **{"conda.yaml": "name: x\ndependencies: [python=3.11]\n"},
    )
    project = load(str(root))
    assert project.default_env_manager() == "conda"
    with pytest.raises(InvalidParameter, match="needs conda, which is not installed"):
        execute(project, "main", {}, RunConfig())


def test_docker_env_on_a_plain_project_is_refused(make_project: ProjectFactory) -> None:
    root = make_project(MLproject="entry_points: {main: {command: 'true'}}\n")
    with pytest.raises(InvalidParameter, match="declares no docker_env"):
        load(str(root)).environment("docker")


def test_docker_env_runs_in_the_image(
    docker_client: Any, base_image: str, make_project: ProjectFactory,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    monkeypatch.setenv("FROM_HOST", "copied")
    root = make_project(
        MLproject=f"""
        name: docker-demo
        docker_env:
          image: {base_image}
          environment: [["GREETING", "hi"], "FROM_HOST"]
        entry_points:
          main:
            parameters: {{label: string}}
            command: 'python3 show.py {{label}} "q {{label}}" > out.txt; cat out.txt'
        """,
        **{
            "show.py": """
            import os, sys
            print(os.getcwd(), sys.argv[1], os.environ["GREETING"], os.environ["FROM_HOST"],
                  os.environ["MLFLOWX_RUN_ID"])
            db = os.environ["MLFLOWX_TRACKING_URI"][len("sqlite:///"):]
            print("store writable:", os.access(os.path.dirname(db), os.W_OK))
            print("quoted:", sys.argv[2])
            """
        },
    )
    caplog.set_level(logging.INFO, logger="mlflowx.projects")
    out = execute(
        load(str(root)), "main", {"label": "$(reboot)"},
        RunConfig(docker_client=docker_client),
    )  # fmt: skip
    expected = f"/mlflow/projects/code $(reboot) hi copied {out['run_id']}"
    lines = [r.getMessage() for r in caplog.records]
    assert expected in lines
    assert "store writable: True" in lines  # the SQLite store's folder is mounted
    assert "quoted: q $(reboot)" in lines  # the value reached the container by its environment
    assert (root / "out.txt").read_text().splitlines()[0] == expected  # written through the mount
    run = mlflowx.get_run(out["run_id"])
    assert run.data.tags["mlflow.project.env"] == "docker"
    assert run.data.tags["mlflow.docker.image.name"] == base_image
    assert run.info.status.value == "FINISHED"


EXAMPLES = Path(__file__).parents[2] / "examples"


def test_example_sklearn_project_runs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mlflowx.projects")
    project = load(str(EXAMPLES / "sklearn_project"))
    out = execute(project, "main", {"alpha": "0.2"}, RunConfig(env_manager="local"))
    run = mlflowx.get_run(out["run_id"])
    assert set(run.data.metrics) == {"rmse", "mae", "r2"}
    assert run.data.params == {"alpha": "0.2", "l1_ratio": "0.1", "max_iter": "2000"}
    assert any("ElasticNet(alpha=0.2" in r.getMessage() for r in caplog.records)


def test_example_docker_project_runs(
    docker_client: Any, base_image: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mlflowx.projects")
    project = load(str(EXAMPLES / "sklearn_project_docker"))
    out = execute(project, "main", {"rows": 3}, RunConfig(docker_client=docker_client))
    lines = [r.getMessage() for r in caplog.records]
    assert "hello from docker_env" in lines
    assert f"run {out['run_id']}: mean alcohol of 3 rows = 13.530" in lines
