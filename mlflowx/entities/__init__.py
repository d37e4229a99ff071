"""Domain objects with MLflow's shapes and JSON names. No I/O here."""

from mlflowx.entities.common import LifecycleStage, PagedList, RunStatus, ViewType, now_ms
from mlflowx.entities.experiment import DEFAULT_EXPERIMENT_ID, Experiment, ExperimentTag
from mlflowx.entities.logged_model import LoggedModel, LoggedModelStatus
from mlflowx.entities.registry import (
    ModelVersion,
    ModelVersionStage,
    ModelVersionStatus,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from mlflowx.entities.run import (
    Dataset,
    DatasetInput,
    DatasetSummary,
    InputTag,
    Metric,
    ModelInput,
    ModelOutput,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunTag,
)

#: MLflow's name for a run's model output (``mlflow.entities.LoggedModelOutput``).
LoggedModelOutput = ModelOutput
#: MLflow's name for a run's model input (``mlflow.entities.LoggedModelInput``).
LoggedModelInput = ModelInput

__all__ = [
    "DEFAULT_EXPERIMENT_ID",
    "Dataset",
    "DatasetInput",
    "DatasetSummary",
    "Experiment",
    "ExperimentTag",
    "InputTag",
    "LifecycleStage",
    "LoggedModel",
    "LoggedModelInput",
    "LoggedModelOutput",
    "LoggedModelStatus",
    "Metric",
    "ModelInput",
    "ModelOutput",
    "ModelVersion",
    "ModelVersionStage",
    "ModelVersionStatus",
    "ModelVersionTag",
    "PagedList",
    "Param",
    "RegisteredModel",
    "RegisteredModelAlias",
    "RegisteredModelTag",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunOutputs",
    "RunStatus",
    "RunTag",
    "ViewType",
    "now_ms",
]
