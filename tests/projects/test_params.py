"""Parameters: required, typed, paths resolved or downloaded, every value passed verbatim."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlflowx.exceptions import InvalidParameter
from mlflowx.projects import load
from mlflowx.projects.command import Command
from mlflowx.projects.envs import LocalEnvironment, RunHandle
from mlflowx.projects.params import build_command, resolve_parameters
from mlflowx.projects.spec import EntryPointSpec
from tests.projects.conftest import ProjectFactory

SPEC = EntryPointSpec.model_validate(
    {
        "parameters": {
            "alpha": {"type": "float", "default": 0.5},
            "epochs": {"type": "int", "default": 3},
            "label": "string",
            "data": {"type": "path", "default": "data.csv"},
            "source": {"type": "uri", "default": "s3://bucket/key"},
        },
        "command": "python train.py {alpha} {epochs} {label} {data} {source}",
    }
)


def _resolve(given: dict[str, object], project: Path, storage: Path | None = None):  # type: ignore[no-untyped-def]
    return resolve_parameters(SPEC, given, "entry point 'main'", project, storage)


def test_types_are_converted_and_defaults_applied(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("x\n")
    declared, extra = _resolve({"alpha": "0.25", "epochs": "7", "label": 5}, tmp_path, tmp_path)
    assert declared == {
        "alpha": 0.25,
        "epochs": 7,
        "label": "5",
        "data": str(tmp_path / "data.csv"),
        "source": "s3://bucket/key",
    }
    assert extra == {}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"alpha": "abc"}, r"'alpha' of entry point 'main' must be a float, got 'abc'"),
        ({"alpha": "nan"}, r"'alpha' .* must be a float"),
        ({"epochs": "2.5"}, r"'epochs' .* must be an int, got '2.5'"),
        ({"epochs": 2.5}, r"'epochs' .* must be an int"),
        ({"epochs": True}, r"'epochs' .* must be an int"),
        ({"source": "/local/path"}, r"'source' .* must be a URI"),
    ],
)
def test_bad_values_are_refused(given: dict[str, object], message: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match=message):
        _resolve({"label": "x", **given}, tmp_path)


def test_required_parameter_must_be_given(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match=r"required parameter\(s\) 'label'"):
        _resolve({}, tmp_path)


def test_missing_local_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match=r"'data' .* 'nope.csv', but no such file"):
        _resolve({"label": "x", "data": "nope.csv"}, tmp_path, tmp_path / "s")


def test_path_uri_is_downloaded_with_artifact_repositories(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "train.csv").write_text("a,b\n1,2\n")
    (tmp_path / "data.csv").write_text("")
    declared, _ = _resolve(
        {"label": "x", "data": f"file://{remote}/train.csv"}, tmp_path, tmp_path / "store"
    )
    assert declared["data"] == str(remote / "train.csv")  # file:// is local: used in place
    import fsspec

    with fsspec.open("memory://bucket/train.csv", "w") as handle:
        handle.write("a,b\n1,2\n")
    declared, _ = _resolve(
        {"label": "x", "data": "memory://bucket/train.csv"}, tmp_path, tmp_path / "store"
    )
    local = Path(declared["data"])
    assert local.is_relative_to(tmp_path / "store")
    assert local.read_text() == "a,b\n1,2\n"


def _run(command: Command, cwd: Path) -> list[str]:
    lines: list[str] = []
    code = LocalEnvironment().run(command.text, cwd, command.env, lines.append, RunHandle())
    assert code == 0, lines
    return lines


ARGV = "python -c 'import sys; print(repr(sys.argv[1:]))'"


def test_undeclared_parameters_become_flags(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("")
    declared, extra = _resolve({"label": "a b", "lr": 0.1, "mode": "x;y"}, tmp_path, tmp_path)
    assert extra == {"lr": "0.1", "mode": "x;y"}
    spec = SPEC.model_copy(update={"command": ARGV + " {alpha} {epochs} {label}"})
    command = build_command(spec, declared, extra)
    assert _run(command, tmp_path) == [repr(["0.5", "3", "a b", "--lr", "0.1", "--mode", "x;y"])]
    with pytest.raises(InvalidParameter, match="Invalid parameter name"):
        _resolve({"label": "a", "x;rm -rf": "1"}, tmp_path)


@pytest.mark.parametrize(
    "attack",
    [
        "; touch pwned",
        "$(touch pwned)",
        "`touch pwned`",
        "x' ; touch pwned ; echo '",
        "a\ntouch pwned",
        '"; touch pwned; "',
    ],
)
def test_injection_through_a_string_parameter_runs_nothing(
    make_project: ProjectFactory, attack: str
) -> None:
    root = make_project(
        MLproject="""
        entry_points:
          main:
            parameters: {label: string}
            command: "echo label={label}"
        """
    )
    project = load(str(root))
    spec = project.entry_point("main")
    declared, extra = resolve_parameters(spec, {"label": attack, "more": attack}, "m", root)
    lines = _run(build_command(spec, declared, extra), root)
    assert not (root / "pwned").exists()
    assert "\n".join(lines) == f"label={attack} --more {attack}"


def test_script_entry_point_gets_flags(make_project: ProjectFactory) -> None:
    root = make_project(**{"t.py": "import sys; print(sys.argv[1:])\n"})
    project = load(str(root))
    spec = project.entry_point("t.py")
    declared, extra = resolve_parameters(spec, {"alpha": "0.1", "name": "$(id)"}, "m", root)
    command = build_command(spec, declared, extra)
    assert command.text.startswith("python t.py --alpha ")
    assert _run(command, root) == [str(["--alpha", "0.1", "--name", "$(id)"])]
