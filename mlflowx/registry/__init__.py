"""The model registry: its client and ``models:/`` URI resolution (``register_model``, which
reads runs too, is in :mod:`mlflowx.tracking.registration`)."""

from mlflowx.registry.client import RegistryClient, RegistryClientMixin
from mlflowx.registry.uri import ParsedModelUri, parse_model_uri, parse_runs_uri, resolve_model_uri
from mlflowx.store.uris import get_registry_uri, set_registry_uri

__all__ = [
    "ParsedModelUri",
    "RegistryClient",
    "RegistryClientMixin",
    "get_registry_uri",
    "parse_model_uri",
    "parse_runs_uri",
    "resolve_model_uri",
    "set_registry_uri",
]
