"""Resolving a ``models:/`` URI to the registered model version it names (parsing is
:mod:`mlflowx.utils.uri`'s)."""

from __future__ import annotations

from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.registry.client import RegistryClient, RegistryClientMixin
from mlflowx.store.model_registry.base import RegistryStore
from mlflowx.utils.uri import ParsedModelUri, parse_model_uri, parse_runs_uri

__all__ = [
    "ParsedModelUri",
    "parse_model_uri",
    "parse_runs_uri",
    "resolve_model_uri",
    "resolve_parsed",
]


def resolve_model_uri(
    model_uri: str, registry: RegistryStore | RegistryClientMixin | None = None
) -> tuple[str, str]:
    """The (name, version) a registry URI names.

    ``models:/name/3`` is version 3 as written; ``models:/name@alias`` follows the alias
    (``@latest`` is the newest version); ``models:/name/Production`` is the newest version in
    that stage (any case) and ``models:/name/latest`` the newest of all. A logged-model URI
    (``models:/<model_id>``) names no registered version and is refused.

    Args:
        model_uri: the ``models:/`` URI.
        registry: a registry store or client; by default the one at the tracking URI.
    """
    return resolve_parsed(parse_model_uri(model_uri, allow_path=False), model_uri, registry)


def resolve_parsed(
    parsed: ParsedModelUri,
    model_uri: str,
    registry: RegistryStore | RegistryClientMixin | None = None,
) -> tuple[str, str]:
    """:func:`resolve_model_uri` of an already parsed URI."""
    if parsed.name is None:
        raise InvalidParameter(
            f"The URI {model_uri!r} names a logged model ({parsed.model_id}), not a version of "
            "a registered model"
        )
    registry = registry if registry is not None else RegistryClient()
    if parsed.version is not None:
        return parsed.name, parsed.version
    if parsed.alias is not None:
        return parsed.name, registry.get_model_version_by_alias(parsed.name, parsed.alias).version
    stages = None if parsed.stage is None else [parsed.stage]
    latest = registry.get_latest_versions(parsed.name, stages)
    if not latest:
        where = "" if parsed.stage is None else f" and stage '{parsed.stage}'"
        raise NotFound(f"No versions of model with name '{parsed.name}'{where} found")
    return parsed.name, str(max(int(mv.version) for mv in latest))
