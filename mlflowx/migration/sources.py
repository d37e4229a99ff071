"""An MLflow store to import from, chosen by its URI."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

from mlflowx.exceptions import InvalidParameter
from mlflowx.migration.records import (
    SourceExperiment,
    SourceLoggedModel,
    SourceRegisteredModel,
    SourceRun,
)
from mlflowx.store.schemes import scheme_of

__all__ = ["MlflowSource", "open_source", "status_name"]

# MLflow's RunStatus and LoggedModelStatus numbers (the file store writes them as numbers).
_RUN_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
_MODEL_STATUS = {0: "LOGGED_MODEL_PENDING", 1: "LOGGED_MODEL_PENDING", 2: "LOGGED_MODEL_READY"}


def status_name(value: object) -> str:
    """A run status as MLflow's name, from its name or its number."""
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return _RUN_STATUS.get(int(value), "FINISHED")
    return str(value)


def model_status_name(value: object) -> str:
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return _MODEL_STATUS.get(int(value), "LOGGED_MODEL_UPLOAD_FAILED")
    text = str(value)
    return text if text.startswith("LOGGED_MODEL_") else f"LOGGED_MODEL_{text}"


class MlflowSource(ABC):
    """Reads one MLflow store; the importer asks for everything through these methods."""

    uri: str

    @abstractmethod
    def experiments(self) -> list[SourceExperiment]: ...

    @abstractmethod
    def run_ids(self, experiment_id: str) -> list[str]: ...

    @abstractmethod
    def run(self, experiment_id: str, run_id: str) -> SourceRun: ...

    def run_location(self, experiment_id: str, run_id: str) -> tuple[str, str]:
        """A run's artifact URI and lifecycle stage, without its history (a re-run of the
        import needs only these for the runs it skips)."""
        run = self.run(experiment_id, run_id)
        return run.artifact_uri, run.lifecycle_stage

    def model_inputs(self, experiment_id: str, run_id: str) -> list[str]:
        """The logged models (source ids) a run consumed, without its history (the importer
        links them once every model is copied, for the runs it skips too)."""
        return self.run(experiment_id, run_id).model_inputs

    @abstractmethod
    def logged_models(self, experiment_id: str) -> list[SourceLoggedModel]: ...

    @abstractmethod
    def registered_models(self) -> Iterator[SourceRegisteredModel]: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def __enter__(self) -> MlflowSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_source(uri: str) -> MlflowSource:
    """``sqlite:///mlflow.db`` / ``postgresql://...``: MLflow's database; a folder (``./mlruns``,
    ``file:``): MLflow's file store; ``http(s)://``: a running MLflow server."""
    scheme = scheme_of(uri)
    if scheme in ("sqlite", "postgresql", "postgres", "mysql"):
        from mlflowx.migration.sql_source import SqlSource

        return SqlSource(uri)
    if scheme in ("http", "https"):
        from mlflowx.migration.server_source import ServerSource

        return ServerSource(uri)
    if scheme == "file":
        from mlflowx.migration.file_source import FileSource

        path = uri.removeprefix("file://") if uri.startswith("file://") else uri
        path = path.removeprefix("file:")
        return FileSource(Path(path).expanduser().resolve())
    raise InvalidParameter(
        f"Cannot import from {uri!r}: expected an MLflow database (sqlite:///mlflow.db, "
        "postgresql://...), an MLflow file store folder (./mlruns) or an MLflow server "
        "(http://host:5000)"
    )
