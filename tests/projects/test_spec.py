"""MLproject parsing: MLflow's format, and every error naming file, key and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.projects import MLprojectError, load
from tests.projects.conftest import ProjectFactory

MLFLOW_DOC_EXAMPLE = """
name: My Project

python_env: python_env.yaml

entry_points:
  main:
    parameters:
      data_file: path
      regularization: {type: float, default: 0.1}
    command: "python train.py -r {regularization} {data_file}"
  validate:
    parameters:
      data_file: path
    command: "python validate.py {data_file}"
"""


def test_mlflow_documented_format_parses(make_project: ProjectFactory) -> None:
    root = make_project(MLproject=MLFLOW_DOC_EXAMPLE, **{"python_env.yaml": "python: '3.11'\n"})
    project = load(str(root))
    assert project.name == "My Project"
    assert project.default_env_manager() == "virtualenv"
    main = project.entry_point("main")
    assert main.parameters["data_file"].type == "path"
    assert main.parameters["data_file"].required
    assert main.parameters["regularization"].default == 0.1
    assert main.command == "python train.py -r {regularization} {data_file}"
    assert set(project.entry_points) == {"main", "validate"}


def test_lowercase_file_name_and_no_environment(make_project: ProjectFactory) -> None:
    root = make_project(mlproject="entry_points:\n  main:\n    command: echo hi\n")
    project = load(str(root))
    assert project.name == root.name
    assert project.default_env_manager() == "local"


def test_docker_env_fields(make_project: ProjectFactory) -> None:
    root = make_project(
        MLproject="""
        name: d
        docker_env:
          image: mlflowx-base:py311
          volumes: ["/tmp:/data"]
          environment: [["A", "1"], "HOME"]
          run_options: {shm_size: 64m}
        entry_points:
          main: {command: "python3 -V"}
        """
    )
    env = load(str(root)).spec.docker_env
    assert env is not None
    assert env.image == "mlflowx-base:py311"
    assert env.volumes == ["/tmp:/data"]
    assert env.environment == [("A", "1"), "HOME"]
    assert env.run_options == {"shm_size": "64m"}


def _error(root: Path) -> str:
    with pytest.raises(MLprojectError, match=r", line \d+") as info:
        load(str(root))
    return info.value.message


@pytest.mark.parametrize(
    ("text", "line", "key", "message"),
    [
        (
            "entry_points:\n  main:\n    parameters:\n      a: floatt\n    command: x {a}\n",
            4, "entry_points.main.parameters.a.type", "'float', 'int', 'string', 'path' or 'uri'",
        ),
        (
            "entry_points:\n  main:\n    parameters:\n      a: {type: int, dflt: 1}\n"
            "    command: x {a}\n",
            4, "entry_points.main.parameters.a.dflt", "unknown key 'dflt'",
        ),
        (
            "name: p\nentry_points:\n  main:\n    parameters: {}\n",
            3, "entry_points.main.command", "Field required",
        ),
        (
            "entry_points:\n  main:\n    parameters:\n      a: float\n"
            "    command: python t.py {a} {b}\n",
            2, "entry_points.main", "uses {b} but no parameter 'b' is declared",
        ),
        (
            "name: p\ndocker_env:\n  volumes: [/a:/b]\nentry_points: {}\n",
            2, "docker_env.image", "Field required",
        ),
        (
            "name: p\ndocker_env:\n  image: x\n  volumes: [nocolon]\n",
            4, "docker_env.volumes", "must be 'host_path:container_path",
        ),
        (
            "name: p\ndocker_env:\n  image: x\n  environment: [[A, B, C]]\n",
            4, "docker_env.environment.0", "",
        ),
        (
            "name: p\nconda_env: c.yaml\ndocker_env: {image: x}\n",
            1, "<top level>", "only one environment",
        ),
        ("name: p\nentrypoints: {}\n", 2, "entrypoints", "unknown key 'entrypoints'"),
        ("name: [1, 2]\n", 1, "name", "valid string"),
        (
            "entry_points:\n  main:\n    parameters:\n      n: {type: int, default: 1}\n"
            "    command: 7\n",
            5, "entry_points.main.command", "valid string",
        ),
    ],
)  # fmt: skip
def test_errors_name_file_key_and_line(
    make_project: ProjectFactory, text: str, line: int, key: str, message: str
) -> None:
    root = make_project(MLproject=text)
    error = _error(root)
    assert f"{root / 'MLproject'}, line {line} ({key})" in error
    assert message in error


def test_invalid_yaml_names_line(make_project: ProjectFactory) -> None:
    root = make_project(MLproject="name: p\nentry_points:\n  main: {command: [unclosed\n")
    error = _error(root)
    assert f"{root / 'MLproject'}, line " in error
    assert "invalid YAML" in error


def test_top_level_must_be_mapping(make_project: ProjectFactory) -> None:
    root = make_project(MLproject="- a\n- b\n")
    assert "line 1: the top level must be a mapping" in _error(root)


def test_missing_env_file_names_line(make_project: ProjectFactory) -> None:
    root = make_project(MLproject="name: p\n\npython_env: nope.yaml\n")
    assert f"{root / 'MLproject'}, line 3 (python_env): the file 'nope.yaml' does not exist" in (
        _error(root)
    )


def test_python_env_yaml_errors(make_project: ProjectFactory) -> None:
    root = make_project(
        MLproject="python_env: python_env.yaml\nentry_points: {main: {command: x}}\n",
        **{"python_env.yaml": "python: '3.11'\ndependencies: scikit-learn\n"},
    )
    with pytest.raises(MLprojectError, match=r"python_env.yaml, line 2 \(dependencies\)"):
        load(str(root)).python_env()


def test_folder_without_mlproject_runs_scripts(make_project: ProjectFactory) -> None:
    root = make_project(**{"train.py": "print(1)\n", "run.sh": "echo 1\n", "notes.txt": "x"})
    project = load(str(root))
    assert project.entry_point("train.py").command == "python train.py"
    assert project.entry_point("run.sh").command == "bash run.sh"
    with pytest.raises(NotFound, match=r"no entry point 'notes.txt'"):
        project.entry_point("notes.txt")
    with pytest.raises(NotFound, match=r"no entry point 'missing.py'"):
        project.entry_point("missing.py")


def test_missing_project_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="No project at"):
        load(str(tmp_path / "nope"))


def test_subdirectory_escape_refused(make_project: ProjectFactory) -> None:
    root = make_project(MLproject="entry_points: {main: {command: x}}\n")
    with pytest.raises(InvalidParameter, match="Invalid project subdirectory"):
        load(f"{root}#../..")


def test_example_project_loads() -> None:
    example = Path(__file__).parents[2] / "examples"
    project = load(str(example / "sklearn_project"))
    assert project.name == "sklearn-wine"
    assert project.python_env().dependencies == ["scikit-learn>=1.4"]
    docker = load(str(example / "sklearn_project_docker"))
    assert docker.default_env_manager() == "docker"
