"""Domain objects with MLflow's shapes and JSON names. No I/O here."""

from mlflowx.entities.common import LifecycleStage, PagedList, RunStatus, ViewType, now_ms
from mlflowx.entities.experiment import Experiment, ExperimentTag
from mlflowx.entities.run import (
    Dataset,
    DatasetInput,
    InputTag,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunTag,
)

__all__ = [
    "Dataset",
    "DatasetInput",
    "Experiment",
    "ExperimentTag",
    "InputTag",
    "LifecycleStage",
    "Metric",
    "PagedList",
    "Param",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunStatus",
    "RunTag",
    "ViewType",
    "now_ms",
]
