"""MLflow's ``mlflow.client`` module: ``from mlflowx.client import MlflowClient``."""

from mlflowx.tracking.client import MlflowxClient

#: MLflow's name for the client.
MlflowClient = MlflowxClient

__all__ = ["MlflowClient", "MlflowxClient"]
