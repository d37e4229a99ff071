from __future__ import annotations

from dataclasses import dataclass, field

from mlflowx.entities.common import LifecycleStage

#: The experiment every store starts with (MLflow's "Default"), where runs go by default.
DEFAULT_EXPERIMENT_ID = "0"


@dataclass(slots=True)
class ExperimentTag:
    key: str
    value: str


@dataclass(slots=True)
class Experiment:
    """An experiment: a named group of runs with its own artifact location."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE
    tags: dict[str, str] = field(default_factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None
