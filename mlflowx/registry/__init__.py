"""The model registry: its client, ``register_model`` and ``models:/`` URI resolution."""

from mlflowx.registry._uri import get_registry_uri, set_registry_uri
from mlflowx.registry.client import RegistryClient, RegistryClientMixin
from mlflowx.registry.fluent import register_model
from mlflowx.registry.uri import ParsedModelUri, parse_model_uri, parse_runs_uri, resolve_model_uri

__all__ = [
    "ParsedModelUri",
    "RegistryClient",
    "RegistryClientMixin",
    "get_registry_uri",
    "parse_model_uri",
    "parse_runs_uri",
    "register_model",
    "resolve_model_uri",
    "set_registry_uri",
]
