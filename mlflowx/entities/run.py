from __future__ import annotations

from dataclasses import dataclass, field

from mlflowx.entities.common import LifecycleStage, RunStatus


@dataclass(slots=True)
class Metric:
    """One point of a metric's history."""

    key: str
    value: float
    timestamp: int
    step: int = 0
    run_id: str | None = None
    #: The logged model the point is also attached to (MLflow 3), and the dataset it was
    #: computed on.
    model_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


@dataclass(slots=True)
class Param:
    key: str
    value: str


@dataclass(slots=True)
class RunTag:
    key: str
    value: str


@dataclass(slots=True)
class InputTag:
    key: str
    value: str


@dataclass(slots=True)
class Dataset:
    """A dataset a run consumed, identified by name and content digest."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass(slots=True, frozen=True)
class DatasetSummary:
    """A dataset used in an experiment, with the context a run logged it under (``training``,
    ``eval`` ...): the UI's dataset filter (MLflow's ``SearchDatasets``)."""

    experiment_id: str
    name: str
    digest: str
    context: str | None = None


@dataclass(slots=True)
class DatasetInput:
    dataset: Dataset
    tags: list[InputTag] = field(default_factory=list)


@dataclass(slots=True)
class ModelInput:
    """A logged model a run consumed (MLflow's ``LoggedModelInput``)."""

    model_id: str


@dataclass(slots=True)
class RunInputs:
    dataset_inputs: list[DatasetInput] = field(default_factory=list)
    model_inputs: list[ModelInput] = field(default_factory=list)


@dataclass(slots=True)
class RunInfo:
    run_id: str
    experiment_id: str
    run_name: str | None = None
    user_id: str | None = None
    status: RunStatus = RunStatus.RUNNING
    start_time: int | None = None
    end_time: int | None = None
    artifact_uri: str | None = None
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE

    @property
    def run_uuid(self) -> str:
        """MLflow's deprecated alias of :attr:`run_id`."""
        return self.run_id


@dataclass(slots=True)
class RunData:
    """A run's latest metric values, params and tags, each as a plain dict."""

    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    #: The latest point of each metric, with its timestamp and step (MLflow's ``_metric_objs``).
    latest_metrics: dict[str, Metric] = field(default_factory=dict, repr=False, compare=False)


@dataclass(slots=True)
class ModelOutput:
    model_id: str
    step: int = 0


@dataclass(slots=True)
class RunOutputs:
    model_outputs: list[ModelOutput] = field(default_factory=list)


@dataclass(slots=True)
class Run:
    info: RunInfo
    data: RunData = field(default_factory=RunData)
    inputs: RunInputs = field(default_factory=RunInputs)
    outputs: RunOutputs = field(default_factory=RunOutputs)
