"""What a model load may deserialize: one policy, checked in one place.

skops is safe by default: only skops' trusted types load, plus types the *caller* trusts (the
types a model lists in its own MLmodel are shown in the error, never trusted automatically,
because a crafted file could list anything). pickle and cloudpickle run arbitrary code while
loading, so they are refused unless the caller allows them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from mlflowx.exceptions import InvalidParameter

__all__ = ["LoadPolicy"]


def _env_flag(*names: str) -> bool:
    return any(os.environ.get(n, "").strip().lower() in ("1", "true", "yes") for n in names)


@dataclass(frozen=True)
class LoadPolicy:
    allow_pickle: bool = False
    trusted_types: tuple[str, ...] = ()

    @classmethod
    def from_args(
        cls, allow_pickle: bool | None = None, trusted_types: Iterable[str] | None = None
    ) -> LoadPolicy:
        """Explicit arguments win; otherwise ``MLFLOWX_ALLOW_PICKLE_DESERIALIZATION`` (or
        MLflow's ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION``) and ``MLFLOWX_SKOPS_TRUSTED_TYPES``
        (comma-separated) decide."""
        if allow_pickle is None:
            allow_pickle = _env_flag(
                "MLFLOWX_ALLOW_PICKLE_DESERIALIZATION", "MLFLOW_ALLOW_PICKLE_DESERIALIZATION"
            )
        env_types = os.environ.get("MLFLOWX_SKOPS_TRUSTED_TYPES", "")
        trusted = [*(trusted_types or ()), *(t.strip() for t in env_types.split(",") if t.strip())]
        return cls(bool(allow_pickle), tuple(dict.fromkeys(trusted)))

    def require_pickle(self, what: str) -> None:
        if not self.allow_pickle:
            raise InvalidParameter(
                f"Refusing to load {what}: it is stored with pickle, and unpickling runs "
                "arbitrary code. Load it only if you trust its source, with allow_pickle=True "
                "(or MLFLOWX_ALLOW_PICKLE_DESERIALIZATION=true). Re-saving it with "
                "serialization_format='skops' makes later loads safe."
            )
