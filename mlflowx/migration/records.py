"""What an MLflow store holds, as the importer reads it: one shape for every source."""

from __future__ import annotations

from dataclasses import dataclass, field

from mlflowx.entities import DatasetInput, Metric

__all__ = [
    "SourceExperiment",
    "SourceLoggedModel",
    "SourceModelVersion",
    "SourceRegisteredModel",
    "SourceRun",
]


@dataclass
class SourceExperiment:
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    creation_time: int | None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class SourceRun:
    run_id: str
    experiment_id: str
    name: str | None
    user_id: str | None
    status: str
    start_time: int | None
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)
    inputs: list[DatasetInput] = field(default_factory=list)
    #: The ids (the source's) of the logged models the run consumed.
    model_inputs: list[str] = field(default_factory=list)


@dataclass
class SourceLoggedModel:
    model_id: str
    experiment_id: str
    name: str
    artifact_location: str
    status: str
    source_run_id: str | None
    model_type: str | None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    #: Its metric points; ``run_id`` is the source run that logged each.
    metrics: list[Metric] = field(default_factory=list)


@dataclass
class SourceModelVersion:
    version: int
    source: str
    run_id: str | None
    description: str | None
    stage: str
    model_id: str | None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class SourceRegisteredModel:
    name: str
    description: str | None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    versions: list[SourceModelVersion] = field(default_factory=list)
