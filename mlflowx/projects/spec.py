"""The MLproject file: parsed with line marks, validated with pydantic.

MLflow reads MLproject with ``yaml.safe_load`` and checks little. Here every key is validated and an
error names the file, the key path and the line, e.g.
``MLproject, line 7 (entry_points.main.parameters.alpha.type): Input should be 'float', ...``.
"""

from __future__ import annotations

import os
import string
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mlflowx.exceptions import InvalidParameter

__all__ = [
    "DockerEnv",
    "EntryPointSpec",
    "MLprojectError",
    "ParameterSpec",
    "ProjectSpec",
    "PythonEnvSpec",
    "find_mlproject",
    "load_python_env",
    "load_spec",
    "script_entry_point",
]

ParamType = Literal["float", "int", "string", "path", "uri"]
#: How MLflow runs a script named as the entry point when no MLproject declares it.
SCRIPT_RUNNERS = {".py": "python", ".sh": "bash"}


class MLprojectError(InvalidParameter):
    """The MLproject (or python_env.yaml) is invalid; the message names file, key and line."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterSpec(_Strict):
    """One entry point parameter: ``alpha: float`` or ``alpha: {type: float, default: 0.1}``."""

    type: ParamType = "string"
    default: float | int | str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"type": data} if isinstance(data, str) else data

    @property
    def required(self) -> bool:
        return self.default is None  # MLflow's rule: no default (or null) means required


class EntryPointSpec(_Strict):
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    command: str

    @model_validator(mode="after")
    def _placeholders_declared(self) -> EntryPointSpec:
        for _, field, _, _ in string.Formatter().parse(self.command):
            if field is None:
                continue
            name = field.split(".", 1)[0].split("[", 1)[0]
            if name not in self.parameters:
                raise ValueError(
                    f"the command uses {{{field}}} but no parameter {name!r} is declared "
                    f"(declared: {sorted(self.parameters)})"
                )
        return self


class DockerEnv(_Strict):
    image: str = Field(min_length=1)
    #: ``host:container[:mode]`` strings, as for ``docker run -v``.
    volumes: list[str] = Field(default_factory=list)
    #: ``NAME`` copies the host's variable; ``[NAME, value]`` sets one.
    environment: list[str | tuple[str, str]] = Field(default_factory=list)
    #: Extra keyword arguments for the Docker SDK's ``containers.run`` (``shm_size``, ``user``...).
    run_options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("volumes")
    @classmethod
    def _volume_form(cls, volumes: list[str]) -> list[str]:
        for volume in volumes:
            if ":" not in volume:
                raise ValueError(f"volume {volume!r} must be 'host_path:container_path[:mode]'")
        return volumes


class ProjectSpec(_Strict):
    name: str | None = None
    python_env: str | None = None
    conda_env: str | None = None
    docker_env: DockerEnv | None = None
    entry_points: dict[str, EntryPointSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_environment(self) -> ProjectSpec:
        given = [k for k in ("python_env", "conda_env", "docker_env") if getattr(self, k)]
        if len(given) > 1:
            raise ValueError(f"a project may declare only one environment, got {given}")
        return self


class PythonEnvSpec(_Strict):
    """``python_env.yaml``: the interpreter version and pip requirements."""

    python: str
    build_dependencies: list[str] = Field(default_factory=list)
    dependencies: list[str] = Field(default_factory=list)

    @field_validator("python", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, float | int) else value


# ------------------------------------------------------------------------ YAML with marks
def _marks(
    node: yaml.Node, path: tuple[str | int, ...], out: dict[tuple[str | int, ...], int]
) -> None:
    """Record the 1-based line of every key path (a key's own line for mapping entries)."""
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            out[child] = key.start_mark.line + 1
            _marks(value, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _marks(item, (*path, index), out)


def _load_yaml(path: Path) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f", line {mark.line + 1}" if mark else ""
        raise MLprojectError(f"{path}{line}: invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise MLprojectError(f"{path}: invalid YAML: {exc}") from None
    marks: dict[tuple[str | int, ...], int] = {}
    if node is not None:
        _marks(node, (), marks)
    return data, marks


def _validate(model: type[_Strict], path: Path) -> Any:
    data, marks = _load_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise MLprojectError(f"{path}, line 1: the top level must be a mapping of keys")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in _UNION_TAGS))
            line = None
            for size in range(len(loc), -1, -1):  # the deepest key the YAML has a mark for
                line = marks.get(loc[:size])
                if line is not None:
                    break
            key = ".".join(str(p) for p in loc) or "<top level>"
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = f"unknown key {loc[-1]!r}"
            problems.append(f"{path}, line {line or 1} ({key}): {message}")
        raise MLprojectError("; ".join(problems)) from None


_UNION_TAGS = {"str", "int", "float", "tuple[str, str]"}


def find_mlproject(directory: Path) -> Path | None:
    """The MLproject file of ``directory`` (any letter case, as MLflow accepts)."""
    for entry in sorted(os.listdir(directory)):
        if entry.lower() == "mlproject" and (directory / entry).is_file():
            return directory / entry
    return None


def load_spec(directory: Path) -> tuple[ProjectSpec, Path | None]:
    """The project's spec, and its MLproject path (``None``: a folder of scripts)."""
    mlproject = find_mlproject(directory)
    if mlproject is None:
        return ProjectSpec(), None
    spec: ProjectSpec = _validate(ProjectSpec, mlproject)
    _, marks = _load_yaml(mlproject)
    for key in ("python_env", "conda_env"):
        rel = getattr(spec, key)
        if rel and not (directory / rel).is_file():
            raise MLprojectError(
                f"{mlproject}, line {marks.get((key,), 1)} ({key}): "
                f"the file {rel!r} does not exist in {directory}"
            )
    return spec, mlproject


def load_python_env(path: Path) -> PythonEnvSpec:
    spec: PythonEnvSpec = _validate(PythonEnvSpec, path)
    return spec


def script_entry_point(name: str) -> EntryPointSpec | None:
    """MLflow's rule for an undeclared entry point: ``x.py`` runs ``python x.py``, ``x.sh`` runs
    ``bash x.sh``; parameters then all go on the command line as ``--key value``."""
    import shlex

    runner = SCRIPT_RUNNERS.get(Path(name).suffix)
    if runner is None:
        return None
    return EntryPointSpec(
        command=f"{runner} {shlex.quote(name)}".replace("{", "{{").replace("}", "}}")
    )
