"""The task library: Prefect tasks for train -> evaluate -> register -> deploy.

Each task is also available as a plain function (``train_model``, ``evaluate_model``,
``register_trained``, ``deploy_champion``) for use outside a flow. Inputs are typed specs
(:mod:`mlflowx.orchestration.tasks.specs`), outputs small pydantic models.
"""

from mlflowx.orchestration.tasks.deploy import (
    DeploymentCheckFailed,
    Rollout,
    build_image,
    deploy,
    deploy_champion,
    deploy_model,
    docker_available,
    running_servers,
    stop_servers,
)
from mlflowx.orchestration.tasks.evaluate import (
    CHAMPION_ALIAS,
    ChallengerRejected,
    EvaluationOutcome,
    evaluate,
    evaluate_model,
)
from mlflowx.orchestration.tasks.register import Registration, register, register_trained
from mlflowx.orchestration.tasks.specs import (
    DatasetSpec,
    DeploySpec,
    EstimatorSpec,
    EvaluationSpec,
    Threshold,
)
from mlflowx.orchestration.tasks.sweep import TrialResult, run_trial, trial
from mlflowx.orchestration.tasks.train import TrainResult, build_estimator, train, train_model

__all__ = [
    "CHAMPION_ALIAS",
    "ChallengerRejected",
    "DatasetSpec",
    "DeploySpec",
    "DeploymentCheckFailed",
    "EstimatorSpec",
    "EvaluationOutcome",
    "EvaluationSpec",
    "Registration",
    "Rollout",
    "Threshold",
    "TrainResult",
    "TrialResult",
    "build_estimator",
    "build_image",
    "deploy",
    "deploy_champion",
    "deploy_model",
    "docker_available",
    "evaluate",
    "evaluate_model",
    "register",
    "register_trained",
    "run_trial",
    "running_servers",
    "stop_servers",
    "train",
    "train_model",
    "trial",
]
