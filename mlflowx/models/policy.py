"""What a model load may run: one policy, checked in one place.

skops is safe by default: only skops' trusted types load, plus types the *caller* trusts (the
types a model lists in its own MLmodel are shown in the error, never trusted automatically,
because a crafted file could list anything). Everything else a model can bring runs code as it
loads, so it needs the caller's opt-in:

- ``allow_pickle``: pickle and cloudpickle files (a scikit-learn model saved with pickle, a
  custom ``PythonModel`` instance). Unpickling runs whatever the file says.
- ``allow_code``: Python source the model ships: a models-from-code file
  (``model_code_path``), which loading runs, and a code directory (MLflow's ``code_paths``,
  the ``code`` key), which loading puts on ``sys.path`` so the model's modules are imported
  from it.

The two are independent, and each kind of file needs its own: a cloudpickled ``PythonModel``
needs ``allow_pickle`` only (its class travels inside the pickle; requiring ``allow_code`` too
would add no protection, since ``allow_pickle`` already lets any pickle run anything), and a
models-from-code file needs ``allow_code`` only. A model with both (a pickle plus a code
directory) needs both.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mlflowx.exceptions import UntrustedModel
from mlflowx.settings import env_flag

__all__ = ["ENV_ALLOW_CODE", "ENV_ALLOW_PICKLE", "LoadPolicy", "Need"]

ENV_ALLOW_PICKLE = "MLFLOWX_ALLOW_PICKLE_DESERIALIZATION"
ENV_ALLOW_CODE = "MLFLOWX_ALLOW_MODEL_CODE"
ENV_TRUSTED_TYPES = "MLFLOWX_SKOPS_TRUSTED_TYPES"

Permission = Literal["pickle", "code"]

# How to give each permission, in every place a model loads.
_COMMANDS = (
    "mlflowx models serve|predict|build-docker|generate-dockerfile, deployments create|update"
)
_OPT_IN: dict[Permission, str] = {
    "pickle": (
        f"allow_pickle=True (Python), --allow-pickle ({_COMMANDS}) or {ENV_ALLOW_PICKLE}=true"
    ),
    "code": f"allow_code=True (Python), --allow-code ({_COMMANDS}) or {ENV_ALLOW_CODE}=true",
}


@dataclass(frozen=True)
class Need:
    """A file of the model whose loading runs code, and so needs ``permission``."""

    permission: Permission
    file: Path
    why: str
    #: How to save such a model so that loading it needs no opt-in, when there is a way.
    safer: str = ""

    @classmethod
    def pickle(cls, file: Path, stored_as: str, safer: str = "") -> Need:
        why = f"is {stored_as}, and unpickling runs whatever the file says"
        return cls("pickle", file, why, safer)

    @classmethod
    def code_file(cls, file: Path) -> Need:
        return cls("code", file, "is Python code the model runs when it loads (model_code_path)")

    @classmethod
    def code_dir(cls, directory: Path) -> Need:
        return cls(
            "code",
            directory,
            "holds Python modules (MLflow's code_paths) that loading puts on sys.path, so the "
            "model imports them",
        )


@dataclass(frozen=True)
class LoadPolicy:
    allow_pickle: bool = False
    trusted_types: tuple[str, ...] = ()
    allow_code: bool = False

    @classmethod
    def from_args(
        cls,
        allow_pickle: bool | None = None,
        trusted_types: Iterable[str] | None = None,
        allow_code: bool | None = None,
    ) -> LoadPolicy:
        """Explicit arguments win; otherwise ``MLFLOWX_ALLOW_PICKLE_DESERIALIZATION`` (or
        MLflow's ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION``), ``MLFLOWX_ALLOW_MODEL_CODE`` and
        ``MLFLOWX_SKOPS_TRUSTED_TYPES`` (comma-separated) decide."""
        if allow_pickle is None:
            allow_pickle = env_flag(ENV_ALLOW_PICKLE)
        if allow_code is None:
            allow_code = env_flag(ENV_ALLOW_CODE)
        env_types = os.environ.get(ENV_TRUSTED_TYPES, "")
        trusted = [*(trusted_types or ()), *(t.strip() for t in env_types.split(",") if t.strip())]
        return cls(bool(allow_pickle), tuple(dict.fromkeys(trusted)), bool(allow_code))

    def allows(self, permission: Permission) -> bool:
        return self.allow_pickle if permission == "pickle" else self.allow_code

    def check(self, needs: Iterable[Need], what: str) -> None:
        """Raise :class:`UntrustedModel` naming every need this policy does not allow."""
        refused = [n for n in needs if not self.allows(n.permission)]
        if not refused:
            return
        files = "; ".join(f"{n.file} {n.why}" for n in refused)
        permissions = list(dict.fromkeys(n.permission for n in refused))
        how = "; and ".join(_OPT_IN[p] for p in permissions)
        resave = "".join(f" {s}" for s in dict.fromkeys(n.safer for n in refused if n.safer))
        raise UntrustedModel(
            f"Refusing to load {what}: {files}. Load it only if you trust where the model came "
            f"from, with {how}.{resave}"
        )

    def require(self, need: Need) -> None:
        """The check right before a file is unpickled, run or put on sys.path."""
        self.check([need], str(need.file))
