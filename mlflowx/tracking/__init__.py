"""Tracking: the client and the fluent API above the stores."""

from mlflowx.store.uris import (
    get_registry_uri,
    get_tracking_uri,
    is_tracking_uri_set,
    set_registry_uri,
    set_tracking_uri,
)
from mlflowx.tracking.client import MlflowxClient

#: MLflow's name for the client (``from mlflow.tracking import MlflowClient``).
MlflowClient = MlflowxClient

__all__ = [
    "MlflowClient",
    "MlflowxClient",
    "get_registry_uri",
    "get_tracking_uri",
    "is_tracking_uri_set",
    "set_registry_uri",
    "set_tracking_uri",
]
