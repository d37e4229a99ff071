from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from mlflowx.entities.run import Metric
from mlflowx.exceptions import InvalidParameter


class LoggedModelStatus(StrEnum):
    PENDING = "LOGGED_MODEL_PENDING"
    READY = "LOGGED_MODEL_READY"
    UPLOAD_FAILED = "LOGGED_MODEL_UPLOAD_FAILED"

    @classmethod
    def parse(cls, value: str | LoggedModelStatus) -> LoggedModelStatus:
        text = str(value).upper()
        for status in cls:
            if text in (status.value, status.name):
                return status
        known = ", ".join(s.value for s in cls)
        raise InvalidParameter(f"Invalid logged model status {value!r}; expected one of {known}")


@dataclass(slots=True)
class LoggedModel:
    """A model logged in an experiment (MLflow 3): ``models:/m-<id>`` resolves to it."""

    model_id: str
    experiment_id: str
    name: str
    artifact_location: str
    creation_timestamp: int
    last_updated_timestamp: int
    status: LoggedModelStatus = LoggedModelStatus.PENDING
    source_run_id: str | None = None
    model_type: str | None = None
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    #: Metric points logged with this model's id (``log_metric(..., model_id=)``).
    metrics: list[Metric] = field(default_factory=list)

    @property
    def model_uri(self) -> str:
        return f"models:/{self.model_id}"

    @property
    def artifact_uri(self) -> str:
        return self.artifact_location
