"""Resolving a parsed ``models:/`` URI to a registered model version, in any registry (a
store or a client): the one resolver for loading, serving and the registry itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mlflowx.entities import ModelVersion
from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.utils.uri import ParsedModelUri

__all__ = ["VersionLookup", "resolve_parsed"]


class VersionLookup(Protocol):
    """What resolving needs of a registry: a store and a client both have it."""

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion: ...

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]: ...


def resolve_parsed(
    parsed: ParsedModelUri,
    model_uri: str,
    registry: VersionLookup,
) -> tuple[str, str]:
    """The (name, version) an already parsed registry URI names (see
    :func:`mlflowx.registry.uri.resolve_model_uri`), looked up in ``registry``."""
    if parsed.name is None:
        raise InvalidParameter(
            f"The URI {model_uri!r} names a logged model ({parsed.model_id}), not a version of "
            "a registered model"
        )
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
