"""Entry point parameters: required check, typing, path download, and the command they fill."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mlflowx.exceptions import InvalidParameter
from mlflowx.projects.command import Command, render_command
from mlflowx.projects.spec import EntryPointSpec, ParameterSpec

__all__ = ["build_command", "convert", "is_uri", "resolve_parameters"]

_EXTRA_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def is_uri(value: str) -> bool:
    """MLflow's test: a scheme of more than one letter (``C:`` is a drive, not a scheme)."""
    return len(urlsplit(value).scheme) > 1


def convert(name: str, spec: ParameterSpec, value: Any, where: str) -> Any:
    """Check and convert one value to the parameter's declared type."""
    kind = spec.type
    if isinstance(value, bool):  # bool is an int in Python; never a number parameter here
        value = str(value).lower()
    try:
        if kind == "float":
            result = float(value)
            if not math.isfinite(result):
                raise ValueError(value)
            return result
        if kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(value) if not isinstance(value, str) else int(value.strip(), 10)
    except (TypeError, ValueError):
        raise InvalidParameter(
            f"Parameter {name!r} of {where} must be {'a float' if kind == 'float' else 'an int'}, "
            f"got {value!r}"
        ) from None
    text = str(value)
    if kind == "uri" and not is_uri(text):
        raise InvalidParameter(
            f"Parameter {name!r} of {where} must be a URI (scheme://...), got {text!r}"
        )
    return text


def _local_path(name: str, value: str, bases: list[Path], where: str) -> str:
    path = Path(value[len("file://") :] if value.startswith("file://") else value).expanduser()
    candidates = [path] if path.is_absolute() else [base / path for base in bases]
    for candidate in candidates:
        if candidate.exists():
            return str(candidate.resolve())
    raise InvalidParameter(
        f"Parameter {name!r} of {where} is {value!r}, but no such file or directory exists"
    )


def _download(name: str, uri: str, dst: Path) -> str:
    """Fetch a ``path`` parameter given as a URI with mlflowx's artifact repositories."""
    from mlflowx.tracking.client import MlflowxClient
    from mlflowx.utils.uri import parse_runs_uri

    dst.mkdir(parents=True, exist_ok=True)
    client = MlflowxClient()
    if uri.startswith("runs:/"):
        run_id, rel = parse_runs_uri(uri)
        return client.download_artifacts(run_id, rel or "", dst)
    parent, _, base = uri.rstrip("/").rpartition("/")
    if not base or "://" not in parent + "/":
        raise InvalidParameter(f"Parameter {name!r}: cannot download {uri!r}")
    repo = client._repo_for(parent)
    return repo.download_artifacts(base, dst)


def resolve_parameters(
    entry: EntryPointSpec,
    given: Mapping[str, Any],
    where: str,
    project_dir: Path,
    storage_dir: Path | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """(declared parameters, typed; undeclared ones as text).

    ``path`` values become absolute local paths: relative ones are looked up in the working
    directory, then the project; URIs are downloaded under ``storage_dir`` (when given).
    """
    missing = [n for n, p in entry.parameters.items() if p.required and given.get(n) is None]
    if missing:
        raise InvalidParameter(
            f"No value given for the required parameter(s) {', '.join(map(repr, missing))} "
            f"of {where}"
        )
    declared: dict[str, Any] = {}
    for index, (name, spec) in enumerate(entry.parameters.items()):
        from_user = given.get(name) is not None
        value = convert(name, spec, given[name] if from_user else spec.default, where)
        if spec.type == "path" and storage_dir is not None:
            if is_uri(value) and not value.startswith("file://"):
                value = _download(name, value, storage_dir / f"param_{index}")
            else:
                bases = [Path.cwd(), project_dir] if from_user else [project_dir, Path.cwd()]
                value = _local_path(name, value, bases, where)
        declared[name] = value
    extra: dict[str, str] = {}
    for name, value in given.items():
        if name in entry.parameters or value is None:
            continue
        if not _EXTRA_KEY.match(name):
            raise InvalidParameter(f"Invalid parameter name {name!r} for {where}")
        extra[name] = str(value)
    return declared, extra


def build_command(
    entry: EntryPointSpec, declared: Mapping[str, Any], extra: Mapping[str, str], where: str = ""
) -> Command:
    """The shell command, its values passed by environment (never as shell text: see
    :mod:`mlflowx.projects.command`); undeclared parameters are appended as ``--key value``."""
    values = {name: _text(value) for name, value in declared.items()}
    return render_command(entry.command, values, extra, where or "the entry point")


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)  # 1.0 stays "1.0": scripts parsing floats expect a float
    return str(value)
