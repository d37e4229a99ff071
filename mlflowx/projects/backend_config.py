"""``backend_config``: the options of the ``prefect`` backend, as a mapping, a JSON string or
a ``.json`` file (MLflow's ``--backend-config`` takes the same three forms)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlflowx.exceptions import InvalidParameter

__all__ = ["PrefectBackendConfig", "parse_backend_config"]


@dataclass(frozen=True)
class PrefectBackendConfig:
    """Where and how a project run is submitted on Prefect."""

    work_pool: str | None = None
    image: str | None = None  # the image a docker/kubernetes/ecs pool runs (default: built)
    registry: str | None = None  # push the image there, so workers on other hosts pull it
    job_variables: Mapping[str, Any] = field(default_factory=dict)


_FIELDS = {"work_pool": str, "image": str, "registry": str, "job_variables": Mapping}


def _load(config: Mapping[str, Any] | str) -> Mapping[str, Any]:
    if isinstance(config, Mapping):
        return config
    if config.strip().endswith(".json"):
        path = Path(config.strip())
        if not path.is_file():
            raise InvalidParameter(f"backend_config: no JSON file at {path}")
        text, where = path.read_text(), str(path)
    else:
        text, where = config, "the backend_config string"
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidParameter(f"backend_config: {where} is not valid JSON: {exc}") from None
    if not isinstance(loaded, dict):
        raise InvalidParameter(f"backend_config: {where} must hold a JSON object")
    return loaded


def parse_backend_config(config: Mapping[str, Any] | str | None) -> PrefectBackendConfig:
    """Read and check ``config``; unknown keys and values of the wrong type are refused."""
    if config is None:
        return PrefectBackendConfig()
    loaded = _load(config)
    unknown = sorted(set(loaded) - set(_FIELDS))
    if unknown:
        raise InvalidParameter(
            f"backend_config: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"the prefect backend takes {', '.join(sorted(_FIELDS))}"
        )
    for key, kind in _FIELDS.items():
        if key in loaded and loaded[key] is not None and not isinstance(loaded[key], kind):
            expected = "an object" if kind is Mapping else "a string"
            raise InvalidParameter(f"backend_config: {key!r} must be {expected}")
    return PrefectBackendConfig(**{k: v for k, v in loaded.items() if v is not None})
