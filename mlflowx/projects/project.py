"""A loaded project, its environments, and the compilation of an entry point into a Prefect flow."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlflowx.entities import DEFAULT_EXPERIMENT_ID
from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.projects.envs import (
    CondaEnvironment,
    DockerEnvironment,
    Environment,
    LocalEnvironment,
    VirtualEnvironment,
)
from mlflowx.projects.execution import PROJECT_RUN_ENV, RunConfig, run_entry
from mlflowx.projects.params import convert
from mlflowx.projects.sources import ProjectSource, fetch
from mlflowx.projects.spec import (
    SCRIPT_RUNNERS,
    EntryPointSpec,
    ProjectSpec,
    PythonEnvSpec,
    load_python_env,
    load_spec,
    script_entry_point,
)

if TYPE_CHECKING:
    from prefect import Flow

__all__ = ["ENV_MANAGERS", "EXTRA_PARAMETERS", "Project", "flow_attribute", "load"]

ENV_MANAGERS = ("local", "virtualenv", "conda", "docker")
#: The flow parameter carrying undeclared parameters (passed to the command as ``--key value``).
EXTRA_PARAMETERS = "extra_parameters"
_PY_TYPES: dict[str, type] = {"float": float, "int": int, "string": str, "path": str, "uri": str}
_GENERATED_DIR = ".mlflowx"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_") or "entry"


def flow_attribute(entry: str) -> str:
    """The module attribute holding the compiled flow of ``entry`` (its function ``__name__``)."""
    return f"mlproject_{_slug(entry)}"


@dataclass(frozen=True)
class Project:
    """An MLproject (or a folder of scripts) at a resolved source."""

    source: ProjectSource
    spec: ProjectSpec
    mlproject: Path | None

    @property
    def directory(self) -> Path:
        return self.source.directory

    @property
    def name(self) -> str:
        return self.spec.name or self.directory.name

    @property
    def entry_points(self) -> dict[str, EntryPointSpec]:
        return dict(self.spec.entry_points)

    def entry_point(self, entry: str) -> EntryPointSpec:
        """A declared entry point, or a ``.py``/``.sh`` file of the project run as MLflow does."""
        if entry in self.spec.entry_points:
            return self.spec.entry_points[entry]
        script = script_entry_point(entry)
        if script is not None and (self.directory / entry).is_file():
            return script
        raise NotFound(
            f"Project {self.name!r} has no entry point {entry!r} (declared: "
            f"{sorted(self.spec.entry_points)}; or a {'/'.join(SCRIPT_RUNNERS)} file in "
            f"{self.directory})"
        )

    # ------------------------------------------------------------------ environments
    def default_env_manager(self) -> str:
        if self.spec.docker_env is not None:
            return "docker"
        if self.spec.conda_env is not None:
            return "conda"
        if self._python_env_file() is not None:
            return "virtualenv"
        return "local"

    def resolve_env_manager(self, env_manager: str | None) -> str:
        chosen = env_manager or self.default_env_manager()
        if chosen not in ENV_MANAGERS:
            raise InvalidParameter(f"Unknown env manager {chosen!r}; choose one of {ENV_MANAGERS}")
        if chosen == "docker" and self.spec.docker_env is None:
            raise InvalidParameter(f"Project {self.name!r} declares no docker_env in its MLproject")
        if chosen == "conda" and self._python_env_file() is not None and not self.spec.conda_env:
            raise InvalidParameter(
                f"Project {self.name!r} declares a python_env, which conda cannot run; use "
                "--env-manager virtualenv or local"
            )
        return chosen

    def _python_env_file(self) -> Path | None:
        if self.spec.python_env:
            return self.directory / self.spec.python_env
        if self.mlproject is None or not (self.spec.conda_env or self.spec.docker_env):
            default = self.directory / "python_env.yaml"
            if default.is_file():
                return default
        return None

    def python_env(self) -> PythonEnvSpec:
        """The project's python_env.yaml; this interpreter's version with no packages if none."""
        path = self._python_env_file()
        if path is None:
            import sys

            return PythonEnvSpec(python=f"{sys.version_info.major}.{sys.version_info.minor}")
        return load_python_env(path)

    def environment(self, env_manager: str | None = None, docker_client: Any = None) -> Environment:
        chosen = self.resolve_env_manager(env_manager)
        if chosen == "local":
            return LocalEnvironment()
        if chosen == "virtualenv":
            return VirtualEnvironment(self.python_env(), self.directory)
        if chosen == "conda":
            conda_file = self.directory / (self.spec.conda_env or "conda.yaml")
            if not conda_file.is_file():
                raise InvalidParameter(f"Project {self.name!r} has no conda environment file")
            return CondaEnvironment(conda_file)
        assert self.spec.docker_env is not None
        return DockerEnvironment(self.spec.docker_env, docker_client)

    # ------------------------------------------------------------------ compilation
    def signature(self, entry: str) -> inspect.Signature:
        """The entry point's parameters as a keyword-only signature (required ones first)."""
        spec = self.entry_point(entry)
        if EXTRA_PARAMETERS in spec.parameters:
            raise InvalidParameter(f"{EXTRA_PARAMETERS!r} is reserved; rename that parameter")
        params = []
        for name, param in spec.parameters.items():
            if not name.isidentifier():
                raise InvalidParameter(
                    f"Parameter {name!r} of entry point {entry!r} is not a valid Python name, so "
                    "it cannot become a flow parameter"
                )
            annotation = _PY_TYPES[param.type]
            default: Any = inspect.Parameter.empty
            if param.default is not None:
                default = convert(name, param, param.default, f"entry point {entry!r}")
            params.append(
                inspect.Parameter(
                    name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
                )
            )
        params.sort(key=lambda p: p.default is not inspect.Parameter.empty)
        params.append(
            inspect.Parameter(
                EXTRA_PARAMETERS,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=dict[str, str] | None,
                default=None,
            )
        )
        return inspect.Signature(params, return_annotation=dict[str, Any])

    def to_flow(
        self, entry: str = "main", config: RunConfig | None = None, **options: Any
    ) -> Flow[..., dict[str, Any]]:
        """The entry point as a Prefect flow named ``<project>-<entry>``.

        Its parameters carry the entry point's names, types and defaults (the Prefect UI shows a
        typed form); ``extra_parameters`` holds undeclared ones. ``options`` fill a
        :class:`RunConfig` (``env_manager``, ``experiment_name``, ``run_name``...).
        """
        from mlflowx.orchestration.tracked import FlowConfig, tracked_flow

        config = config or RunConfig(**options)
        signature = self.signature(entry)
        project = self

        def entry_fn(**kwargs: Any) -> Any:
            extra = kwargs.pop(EXTRA_PARAMETERS, None) or {}
            return run_entry(project, entry, {**extra, **kwargs}, config)

        entry_fn.__signature__ = signature  # type: ignore[attr-defined]
        entry_fn.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
        entry_fn.__annotations__["return"] = signature.return_annotation
        entry_fn.__name__ = entry_fn.__qualname__ = flow_attribute(entry)
        entry_fn.__doc__ = f"MLproject {self.name!r}, entry point {entry!r}."
        name = re.sub(r"[/%&<>]", "-", f"{self.name}-{entry}")
        tracking = FlowConfig(
            experiment=config.experiment_name,
            experiment_id=config.experiment_id,
            fallback_experiment_id=DEFAULT_EXPERIMENT_ID,  # MLflow runs projects there
            run_name=config.run_name,
            tracking_uri=config.tracking_uri,
            log_results=False,  # the command logs what it logs
            log_params=False,  # logged as the entry point resolves them
            source_tags=False,  # the project is the source, not this process
            run_id=config.run_id,
            run_id_env=PROJECT_RUN_ENV,
        )
        return tracked_flow(
            entry_fn, tracking, name=name, description=entry_fn.__doc__, validate_parameters=True
        )

    def write_flow_module(self, entry: str, **options: Any) -> str:
        """Write ``.mlflowx/flow_<entry>.py`` defining the compiled flow at module level, so a
        worker can load it; returns the entrypoint (``.mlflowx/flow_x.py:mlproject_x``)."""
        folder = self.directory / _GENERATED_DIR
        folder.mkdir(exist_ok=True)
        (folder / ".gitignore").write_text("*\n")
        attr = flow_attribute(entry)
        source = {
            "uri": self.source.uri,
            "version": self.source.version,
            "commit": self.source.commit,
            "repo_url": self.source.repo_url,
            "branch": self.source.branch,
        }
        module = folder / f"flow_{_slug(entry)}.py"
        module.write_text(
            '"""Generated by mlflowx: the compiled flow of one MLproject entry point. '
            'Do not edit."""\n\n'
            "from pathlib import Path\n\n"
            "from mlflowx.projects.project import load_directory\n\n"
            f"{attr} = load_directory(\n"
            "    Path(__file__).resolve().parent.parent,\n"
            f"    source={source!r},\n"
            f").to_flow({entry!r}, **{options!r})\n"
        )
        return f"{_GENERATED_DIR}/{module.name}:{attr}"


def load(uri: str, version: str | None = None) -> Project:
    """Load the project at ``uri`` (a folder or git repository, ``#subdir`` allowed) at
    ``version`` (a branch, tag or commit of a git source)."""
    source = fetch(uri, version)
    spec, mlproject = load_spec(source.directory)
    return Project(source, spec, mlproject)


def load_directory(directory: str | Path, source: dict[str, Any] | None = None) -> Project:
    """A project already on disk, with the source facts recorded when it was fetched."""
    path = Path(directory).resolve()
    facts = source or {}
    spec, mlproject = load_spec(path)
    src = ProjectSource(
        str(facts.get("uri") or path), path, facts.get("version"), facts.get("commit"),
        facts.get("repo_url"), facts.get("branch"),
    )  # fmt: skip
    return Project(src, spec, mlproject)
