"""MLflow's JSON shapes of the tracking entities, as pydantic models.

These are the wire format of the REST API (what MLflow's protobuf messages look like as JSON).
Each model converts to and from the plain domain entities in :mod:`mlflowx.entities`.
NaN and infinities travel as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``, as in
protobuf's JSON mapping; 64-bit integers are accepted as numbers or strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mlflowx import entities as e

__all__ = [
    "DatasetInputJ",
    "DatasetJ",
    "ExperimentJ",
    "KeyValue",
    "MetricJ",
    "RunDataJ",
    "RunInfoJ",
    "RunInputsJ",
    "RunJ",
    "WireModel",
    "kv_dict",
    "kv_list",
]

Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
Key = Annotated[str, StringConstraints(max_length=1000)]


class WireModel(BaseModel):
    """Base of every wire model: unknown fields are ignored, as protobuf's JSON parser does."""

    model_config = ConfigDict(extra="ignore", ser_json_inf_nan="strings", populate_by_name=True)


class KeyValue(WireModel):
    key: Key
    value: str = ""


def kv_list(mapping: Mapping[str, str] | None) -> list[KeyValue]:
    """``{"k": "v"}`` -> the wire's ``[{"key": "k", "value": "v"}]``."""
    return [KeyValue(key=k, value=v) for k, v in (mapping or {}).items()]


def kv_dict(items: Iterable[KeyValue]) -> dict[str, str]:
    """The wire's key/value list -> ``{"k": "v"}`` (a repeated key: the last one wins)."""
    return {t.key: t.value for t in items}


class MetricJ(WireModel):
    key: Key
    value: float
    timestamp: Int64
    step: Int64 = 0
    run_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None
    model_id: str | None = None

    @classmethod
    def of(cls, m: e.Metric) -> MetricJ:
        return cls(
            key=m.key,
            value=m.value,
            timestamp=m.timestamp,
            step=m.step,
            run_id=m.run_id,
            dataset_name=m.dataset_name,
            dataset_digest=m.dataset_digest,
            model_id=m.model_id,
        )

    def entity(self) -> e.Metric:
        return e.Metric(
            self.key,
            self.value,
            self.timestamp,
            self.step,
            self.run_id,
            self.model_id or None,
            self.dataset_name or None,
            self.dataset_digest or None,
        )


class ExperimentJ(WireModel):
    experiment_id: str
    name: str
    artifact_location: str = ""
    lifecycle_stage: str = "active"
    last_update_time: Int64 | None = None
    creation_time: Int64 | None = None
    tags: list[KeyValue] = Field(default_factory=list)

    @classmethod
    def of(cls, x: e.Experiment) -> ExperimentJ:
        return cls(
            experiment_id=x.experiment_id,
            name=x.name,
            artifact_location=x.artifact_location,
            lifecycle_stage=str(x.lifecycle_stage),
            last_update_time=x.last_update_time,
            creation_time=x.creation_time,
            tags=kv_list(x.tags),
        )

    def entity(self) -> e.Experiment:
        return e.Experiment(
            experiment_id=self.experiment_id,
            name=self.name,
            artifact_location=self.artifact_location,
            lifecycle_stage=e.LifecycleStage(self.lifecycle_stage),
            tags=kv_dict(self.tags),
            creation_time=self.creation_time,
            last_update_time=self.last_update_time,
        )


class RunInfoJ(WireModel):
    run_id: str
    run_uuid: str | None = None
    run_name: str | None = None
    experiment_id: str
    user_id: str | None = None
    status: str = "RUNNING"
    start_time: Int64 | None = None
    end_time: Int64 | None = None
    artifact_uri: str | None = None
    lifecycle_stage: str = "active"

    @classmethod
    def of(cls, i: e.RunInfo) -> RunInfoJ:
        return cls(
            run_id=i.run_id,
            run_uuid=i.run_id,
            run_name=i.run_name,
            experiment_id=i.experiment_id,
            user_id=i.user_id or "",
            status=str(i.status),
            start_time=i.start_time,
            end_time=i.end_time,
            artifact_uri=i.artifact_uri,
            lifecycle_stage=str(i.lifecycle_stage),
        )

    def entity(self) -> e.RunInfo:
        return e.RunInfo(
            run_id=self.run_id,
            experiment_id=self.experiment_id,
            run_name=self.run_name,
            user_id=self.user_id or None,
            status=e.RunStatus(self.status),
            start_time=self.start_time,
            end_time=self.end_time,
            artifact_uri=self.artifact_uri,
            lifecycle_stage=e.LifecycleStage(self.lifecycle_stage),
        )


class RunDataJ(WireModel):
    metrics: list[MetricJ] = Field(default_factory=list)
    params: list[KeyValue] = Field(default_factory=list)
    tags: list[KeyValue] = Field(default_factory=list)


class DatasetJ(WireModel):
    name: str
    digest: str
    source_type: str
    source: str
    schema_: str | None = Field(default=None, alias="schema")
    profile: str | None = None

    @classmethod
    def of(cls, d: e.Dataset) -> DatasetJ:
        return cls(
            name=d.name,
            digest=d.digest,
            source_type=d.source_type,
            source=d.source,
            schema=d.schema,
            profile=d.profile,
        )

    def entity(self) -> e.Dataset:
        return e.Dataset(
            self.name, self.digest, self.source_type, self.source, self.schema_, self.profile
        )


class DatasetInputJ(WireModel):
    tags: list[KeyValue] = Field(default_factory=list)
    dataset: DatasetJ

    @classmethod
    def of(cls, d: e.DatasetInput) -> DatasetInputJ:
        return cls(
            tags=[KeyValue(key=t.key, value=t.value) for t in d.tags],
            dataset=DatasetJ.of(d.dataset),
        )

    def entity(self) -> e.DatasetInput:
        return e.DatasetInput(
            self.dataset.entity(), [e.InputTag(t.key, t.value) for t in self.tags]
        )


class ModelInputJ(WireModel):
    model_id: Annotated[str, StringConstraints(min_length=1, max_length=40)]


class RunInputsJ(WireModel):
    dataset_inputs: list[DatasetInputJ] = Field(default_factory=list)
    model_inputs: list[ModelInputJ] = Field(default_factory=list)


class ModelOutputRefJ(WireModel):
    model_id: str
    step: Int64 = 0


class RunOutputsJ(WireModel):
    model_outputs: list[ModelOutputRefJ] = Field(default_factory=list)


class RunJ(WireModel):
    info: RunInfoJ
    data: RunDataJ = Field(default_factory=RunDataJ)
    inputs: RunInputsJ = Field(default_factory=RunInputsJ)
    outputs: RunOutputsJ = Field(default_factory=RunOutputsJ)

    @classmethod
    def of(cls, r: e.Run) -> RunJ:
        latest = r.data.latest_metrics
        return cls(
            info=RunInfoJ.of(r.info),
            data=RunDataJ(
                metrics=[
                    MetricJ.of(latest[k]) if k in latest else MetricJ(key=k, value=v, timestamp=0)
                    for k, v in r.data.metrics.items()
                ],
                params=kv_list(r.data.params),
                tags=kv_list(r.data.tags),
            ),
            inputs=RunInputsJ(
                dataset_inputs=[DatasetInputJ.of(d) for d in r.inputs.dataset_inputs],
                model_inputs=[ModelInputJ(model_id=m.model_id) for m in r.inputs.model_inputs],
            ),
            outputs=RunOutputsJ(
                model_outputs=[
                    ModelOutputRefJ(model_id=o.model_id, step=o.step)
                    for o in r.outputs.model_outputs
                ]
            ),
        )

    def entity(self) -> e.Run:
        return e.Run(
            info=self.info.entity(),
            data=e.RunData(
                metrics={m.key: m.value for m in self.data.metrics},
                params={p.key: p.value for p in self.data.params},
                tags=kv_dict(self.data.tags),
                latest_metrics={m.key: m.entity() for m in self.data.metrics},
            ),
            inputs=e.RunInputs(
                [d.entity() for d in self.inputs.dataset_inputs],
                [e.ModelInput(m.model_id) for m in self.inputs.model_inputs],
            ),
            outputs=e.RunOutputs(
                [e.ModelOutput(o.model_id, o.step) for o in self.outputs.model_outputs]
            ),
        )


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)
