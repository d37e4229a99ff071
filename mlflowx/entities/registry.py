"""Model registry entities: registered models, their versions, tags and aliases."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from mlflowx.exceptions import InvalidParameter


class ModelVersionStage(StrEnum):
    """A version's stage (deprecated in MLflow in favour of aliases, still in its API)."""

    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"

    @classmethod
    def parse(cls, value: str | ModelVersionStage) -> ModelVersionStage:
        """Case-insensitive, as MLflow's ``get_canonical_stage``: ``"production"`` -> Production."""
        for stage in cls:
            if str(value).lower() == stage.value.lower():
                return stage
        raise InvalidParameter(
            f"Invalid Model Version stage: {value}. Value must be one of "
            f"{', '.join(s.value for s in cls)}."
        )


class ModelVersionStatus(StrEnum):
    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    READY = "READY"


@dataclass(slots=True)
class RegisteredModelTag:
    key: str
    value: str


@dataclass(slots=True)
class ModelVersionTag:
    key: str
    value: str


@dataclass(slots=True)
class RegisteredModelAlias:
    alias: str
    version: str


@dataclass(slots=True)
class ModelVersion:
    """One numbered version of a registered model, with its lineage (``source``, ``run_id``)."""

    name: str
    version: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    description: str | None = None
    user_id: str | None = None
    current_stage: str = ModelVersionStage.NONE.value
    source: str | None = None
    run_id: str | None = None
    status: str = ModelVersionStatus.READY.value
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    run_link: str | None = None
    aliases: list[str] = field(default_factory=list)
    #: The logged model (``models:/<model_id>``) this version was registered from, if any.
    model_id: str | None = None


@dataclass(slots=True)
class RegisteredModel:
    """A named model: its tags, its aliases (alias -> version) and latest version per stage."""

    name: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    description: str | None = None
    latest_versions: list[ModelVersion] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
