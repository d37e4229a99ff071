"""Resolving a ``models:/`` URI to the registered model version it names (parsing is
:mod:`mlflowx.utils.uri`'s)."""

from __future__ import annotations

from mlflowx.registry._resolve import VersionLookup, resolve_parsed
from mlflowx.registry.client import RegistryClient
from mlflowx.utils.uri import ParsedModelUri, parse_model_uri, parse_runs_uri

__all__ = [
    "ParsedModelUri",
    "VersionLookup",
    "parse_model_uri",
    "parse_runs_uri",
    "resolve_model_uri",
    "resolve_parsed",
]


def resolve_model_uri(model_uri: str, registry: VersionLookup | None = None) -> tuple[str, str]:
    """The (name, version) a registry URI names.

    ``models:/name/3`` is version 3 as written; ``models:/name@alias`` follows the alias
    (``@latest`` is the newest version); ``models:/name/Production`` is the newest version in
    that stage (any case) and ``models:/name/latest`` the newest of all. A logged-model URI
    (``models:/<model_id>``) names no registered version and is refused.

    Args:
        model_uri: the ``models:/`` URI.
        registry: a registry store or client; by default the one at the tracking URI.
    """
    parsed = parse_model_uri(model_uri, allow_path=False)
    return resolve_parsed(parsed, model_uri, registry if registry is not None else RegistryClient())
