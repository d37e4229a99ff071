"""Tracking: the client and the fluent API above the stores."""

from mlflowx.tracking._uri import get_tracking_uri, is_tracking_uri_set, set_tracking_uri
from mlflowx.tracking.client import MlflowxClient

__all__ = ["MlflowxClient", "get_tracking_uri", "is_tracking_uri_set", "set_tracking_uri"]
