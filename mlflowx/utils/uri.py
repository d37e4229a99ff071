"""URI helpers shared by stores and clients, and the one parser of ``models:/`` and ``runs:/``
URIs (MLflow's rules; resolving what they name is the registry's and the models' job)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from mlflowx.exceptions import InvalidParameter

__all__ = ["ParsedModelUri", "join_uri", "parse_model_uri", "parse_runs_uri"]

#: A logged model's id, as MLflow and mlflowx make them.
_MODEL_ID = re.compile(r"m-[0-9a-f]{32}")


def join_uri(root: str, *parts: str) -> str:
    """Append path segments to a path or URI with ``/`` (no normalisation of the root)."""
    return "/".join([root.rstrip("/"), *parts])


@dataclass(frozen=True, slots=True)
class ParsedModelUri:
    """What a ``models:/`` URI names: a logged model (``model_id``), or a registered ``name``
    with at most one of ``version``, ``stage`` and ``alias`` (none of them: the newest
    version); ``path`` is a file or folder inside the model (``""``: the whole model)."""

    model_id: str | None = None
    name: str | None = None
    version: str | None = None
    stage: str | None = None
    alias: str | None = None
    path: str = ""

    @property
    def latest(self) -> bool:
        """The newest version of a registered model (``models:/name/latest``, ``models:/name``
        with no selector)."""
        return self.name is not None and self.version is self.stage is self.alias is None


def _improper(uri: str) -> InvalidParameter:
    return InvalidParameter(
        f"Not a proper models:/ URI: {uri}. Models URIs must be of the form 'models:/name/suffix' "
        "or 'models:/name@alias' where suffix is a version, stage, or the string 'latest' and "
        "where alias is a registered model alias. Only one of suffix or alias can be defined at "
        "a time."
    )


def parse_model_uri(uri: str, *, allow_path: bool = True) -> ParsedModelUri:
    """Parse ``models:/name/3``, ``models:/name/Production``, ``models:/name/latest``,
    ``models:/name@alias`` or ``models:/<model_id>`` exactly as MLflow does, each followed (with
    ``allow_path``) by a path inside the model (``models:/name/3/MLmodel``, as MLflow's artifact
    repository splits it; a logged model's id may be followed by any path). Without
    ``allow_path`` a URI with a path is refused, as MLflow refuses it where a version is meant."""
    parsed = urlsplit(uri, allow_fragments=False)
    if parsed.scheme != "models" or not parsed.path.startswith("/") or len(parsed.path) <= 1:
        raise _improper(uri)
    segments = parsed.path.lstrip("/").split("/")
    if not allow_path and len(segments) > 2:
        raise _improper(uri)
    if _MODEL_ID.fullmatch(segments[0]) and (allow_path or len(segments) == 1):
        return ParsedModelUri(model_id=segments[0], path="/".join(segments[1:]).strip("/"))
    cut = 1 if "@" in segments[0] else 2
    head, path = segments[:cut], "/".join(segments[cut:]).strip("/")
    if path and not allow_path:
        raise _improper(uri)
    if not head[0].strip():
        raise _improper(uri)
    if len(head) == 2:
        name, suffix = head
        if not suffix.strip():
            raise _improper(uri)
        if suffix.isdigit():
            return ParsedModelUri(name=name, version=suffix, path=path)
        if suffix.lower() == "latest":
            return ParsedModelUri(name=name, path=path)
        return ParsedModelUri(name=name, stage=suffix, path=path)
    if "@" in head[0]:
        name, _, alias = head[0].rpartition("@")
        if not name.strip() or not alias.strip():
            raise _improper(uri)
        return ParsedModelUri(name=name, alias=alias, path=path)
    return ParsedModelUri(model_id=head[0])


def parse_runs_uri(uri: str) -> tuple[str, str | None]:
    """``runs:/<run_id>/<path>`` -> (run_id, path or ``None``), as MLflow parses it."""
    parts = urlsplit(uri)
    if parts.scheme != "runs" or not parts.path.startswith("/") or len(parts.path) <= 1:
        raise InvalidParameter(
            f"Not a proper runs:/ URI: {uri}. Runs URIs must be of the form "
            "'runs:/<run_id>/run-relative/path/to/artifact'"
        )
    run_id, _, path = parts.path[1:].partition("/")
    if not run_id:
        raise InvalidParameter(f"Not a proper runs:/ URI: {uri}: the run id is missing")
    return run_id, path or None
