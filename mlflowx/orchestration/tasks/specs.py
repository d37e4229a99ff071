"""Typed specs for the task library: what to train on, what to train, how to judge and where to
deploy. They are pydantic models, so a flow that takes them as parameters shows them as a form in
the Prefect UI and validates them on the server.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

__all__ = [
    "DEFAULT_ALLOWED_ESTIMATORS",
    "DatasetSpec",
    "DeploySpec",
    "DeployTarget",
    "EstimatorSpec",
    "EvaluationSpec",
    "Threshold",
]

#: Import-path prefixes ``train`` accepts without an explicit opt-in. A flow parameter can come
#: from anyone who may trigger a deployment, so "import this and call it" must be bounded.
DEFAULT_ALLOWED_ESTIMATORS: tuple[str, ...] = ("sklearn.",)

DeployTarget = Literal["process", "docker", "none"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetSpec(_Spec):
    """A dataset reference and a deterministic train/test split.

    ``ref`` is ``sklearn:<name>`` for scikit-learn's bundled datasets (``iris``, ``wine``,
    ``breast_cancer``, ``digits``, ``diabetes``) or a CSV path or fsspec URL
    (``data/train.csv``, ``s3://bucket/train.csv``), which then needs ``target``.
    """

    ref: str = Field("sklearn:wine", description="sklearn:<name>, or a CSV path/URL")
    target: str | None = Field(None, description="target column (CSV; default 'target')")
    test_size: float = Field(0.25, gt=0, lt=1, description="held-out fraction")
    seed: int = Field(42, description="random seed of the split")
    stratify: bool = Field(True, description="stratified split (classification targets)")

    @field_validator("ref")
    @classmethod
    def _ref_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("dataset ref must not be empty")
        return value.strip()


class EstimatorSpec(_Spec):
    """An estimator by import path and constructor parameters, optionally behind preprocessing
    steps (a scikit-learn pipeline: ``preprocess`` first, then the estimator)."""

    import_path: str = Field(
        "sklearn.linear_model.LogisticRegression",
        description="module.Class of a scikit-learn style estimator",
    )
    params: dict[str, JsonValue] = Field(default_factory=dict, description="constructor kwargs")
    preprocess: list[EstimatorSpec] = Field(
        default_factory=list, description="transformers applied before the estimator"
    )

    @field_validator("import_path")
    @classmethod
    def _dotted(cls, value: str) -> str:
        module, _, name = value.strip().rpartition(".")
        if not module or not name.isidentifier():
            raise ValueError(f"import_path must be 'module.Class', got {value!r}")
        return value.strip()

    def label(self) -> str:
        """A short name: the class name, after any preprocessing steps."""
        names = [s.import_path.rpartition(".")[2] for s in (*self.preprocess, self)]
        return "+".join(names)

    def flat_params(self) -> dict[str, Any]:
        """Constructor parameters as run params (``estimator``, ``<param>``, ``<step>.<param>``)."""
        out: dict[str, Any] = {"estimator": self.import_path}
        for step in self.preprocess:
            short = step.import_path.rpartition(".")[2]
            out.update({f"{short}.{k}": v for k, v in step.params.items()})
        out.update(self.params)
        return out


class Threshold(_Spec):
    """A bar for one evaluation metric (MLflow's ``MetricThreshold``)."""

    threshold: float | None = Field(None, description="absolute bar the challenger must meet")
    min_absolute_change: float | None = Field(
        None, gt=0, description="must beat the champion by at least this much"
    )
    min_relative_change: float | None = Field(
        None, ge=0, le=1, description="must beat the champion by this fraction"
    )
    greater_is_better: bool = True


class EvaluationSpec(_Spec):
    """How the challenger is judged against the held-out data and the current champion."""

    thresholds: dict[str, Threshold] = Field(
        default_factory=dict,
        description="metric name -> bar, e.g. accuracy_score: {threshold: 0.8}",
    )
    compare_to_champion: bool = Field(
        True, description="evaluate the champion on the same data and compare"
    )
    fail_if_worse: bool = Field(
        True,
        description="fail the flow when the challenger misses a bar (else register it "
        "without moving the champion alias)",
    )


class DeploySpec(_Spec):
    """Where the champion is rolled out after registration."""

    target: DeployTarget = Field(
        "process", description="process (local scoring server), docker (container) or none"
    )
    name: str | None = Field(None, description="deployment name (default: the model name)")
    port: int | None = Field(None, ge=0, le=65535, description="host port (default: a free one)")
    base_image: str | None = Field(None, description="docker: base image for the model image")
    keep_running: bool = Field(
        True, description="process: leave the scoring server running after the flow"
    )
