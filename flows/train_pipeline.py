"""The retraining pipeline: train -> evaluate -> register -> deploy, as one tracked Prefect flow.

Its parameters are pydantic models, so the Prefect UI shows them as a form and the server
validates them. Run it here with ``python flows/train_pipeline.py``; deploy it with
``deployments/prefect.yaml``; trigger it with ``mlflowx pipelines trigger
train-pipeline/nightly-retrain --param estimator.params.C=0.5 --wait``.
"""

from typing import Any

from pydantic import BaseModel, Field

from mlflowx.orchestration import flow, tasks
from mlflowx.orchestration.tasks import (
    DatasetSpec,
    DeploySpec,
    EstimatorSpec,
    EvaluationSpec,
    Threshold,
)

EXPERIMENT = "train-pipeline"
DEFAULT_MODEL = "wine-classifier"


def default_estimator() -> EstimatorSpec:
    return EstimatorSpec(
        import_path="sklearn.linear_model.LogisticRegression",
        params={"C": 1.0, "max_iter": 1000},
        preprocess=[EstimatorSpec(import_path="sklearn.preprocessing.StandardScaler")],
    )


def default_evaluation() -> EvaluationSpec:
    # An absolute bar, and "no worse than the champion" (relative change >= 0).
    return EvaluationSpec(
        thresholds={"accuracy_score": Threshold(threshold=0.8, min_relative_change=0.0)}
    )


class TrainPipelineParams(BaseModel):
    """Every parameter of the pipeline, with the defaults ``make demo`` runs."""

    model_name: str = Field(DEFAULT_MODEL, description="registered model name")
    dataset: DatasetSpec = Field(default_factory=DatasetSpec)
    estimator: EstimatorSpec = Field(default_factory=default_estimator)
    evaluation: EvaluationSpec = Field(default_factory=default_evaluation)
    deploy: DeploySpec = Field(default_factory=DeploySpec)


_DEFAULTS = TrainPipelineParams()


@flow(name="train-pipeline", experiment=EXPERIMENT)
def train_pipeline(
    model_name: str = _DEFAULTS.model_name,
    dataset: DatasetSpec = _DEFAULTS.dataset,
    estimator: EstimatorSpec = _DEFAULTS.estimator,
    evaluation: EvaluationSpec = _DEFAULTS.evaluation,
    deploy: DeploySpec = _DEFAULTS.deploy,
) -> dict[str, Any]:
    """Train a challenger, judge it against the champion, register it, roll the champion out."""
    trained = tasks.train(dataset, estimator)
    outcome = tasks.evaluate(trained, dataset, evaluation, model_name=model_name)
    registration = tasks.register(trained, model_name, outcome)
    rollout = tasks.deploy(model_name, deploy) if registration.champion else None
    return {
        "run_id": trained.run_id,
        "model_uri": registration.model_uri,
        "model_version": registration.version,
        "champion": registration.champion,
        "metrics": outcome.metrics,
        "deployment": None if rollout is None else rollout.model_dump(mode="json"),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(train_pipeline(), indent=2, default=str))
