"""Users and their permissions, with the names and levels of MLflow's basic-auth app."""

from __future__ import annotations

from dataclasses import dataclass

from mlflowx.exceptions import InvalidParameter

__all__ = [
    "EDIT",
    "MANAGE",
    "NO_PERMISSIONS",
    "PERMISSIONS",
    "READ",
    "ApiToken",
    "ExperimentPermission",
    "Permission",
    "RegisteredModelPermission",
    "User",
    "permission_named",
]


@dataclass(frozen=True)
class Permission:
    """What a level allows on one experiment or registered model (MLflow's levels)."""

    name: str
    can_read: bool
    can_update: bool
    can_delete: bool
    can_manage: bool


READ = Permission("READ", can_read=True, can_update=False, can_delete=False, can_manage=False)
EDIT = Permission("EDIT", can_read=True, can_update=True, can_delete=False, can_manage=False)
MANAGE = Permission("MANAGE", can_read=True, can_update=True, can_delete=True, can_manage=True)
NO_PERMISSIONS = Permission(
    "NO_PERMISSIONS", can_read=False, can_update=False, can_delete=False, can_manage=False
)
PERMISSIONS: dict[str, Permission] = {p.name: p for p in (READ, EDIT, MANAGE, NO_PERMISSIONS)}


def permission_named(name: str, where: str = "permission") -> Permission:
    """The level called ``name`` (case-insensitive); a clear error naming the valid ones."""
    found = PERMISSIONS.get(str(name).strip().upper())
    if found is None:
        valid = ", ".join(PERMISSIONS)
        raise InvalidParameter(f"Invalid {where} {name!r}: expected one of {valid}")
    return found


@dataclass(frozen=True)
class User:
    id: int
    username: str
    is_admin: bool

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "username": self.username, "is_admin": self.is_admin}


@dataclass(frozen=True)
class ExperimentPermission:
    experiment_id: str
    user_id: int
    permission: str

    def to_dict(self) -> dict[str, object]:
        return {
            "experiment_id": self.experiment_id,
            "user_id": self.user_id,
            "permission": self.permission,
        }


@dataclass(frozen=True)
class RegisteredModelPermission:
    name: str
    user_id: int
    permission: str

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "user_id": self.user_id, "permission": self.permission}


@dataclass(frozen=True)
class ApiToken:
    """A token's record; the secret itself is shown once, when it is made, and stored hashed."""

    id: int
    user_id: int
    name: str
    created_time: int
    expiry_time: int | None
