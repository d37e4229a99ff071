"""MLflow's basic-auth REST API: users, and grants on experiments and registered models.

Paths, bodies and answers are MLflow's, so ``mlflow.server.get_app_client("basic-auth")`` and
scripts written for MLflow's auth app work against ``mlflowx server --auth``. Who may call each
route is decided by the rules (``rules.py``) before the route runs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from mlflowx.entities.auth import Permission, User, permission_named
from mlflowx.exceptions import InvalidParameter, PermissionDenied
from mlflowx.server.auth.guard import Guard
from mlflowx.server.auth.rules import Rule

__all__ = ["router"]

router = APIRouter(tags=["auth"])
API = "/api/2.0/mlflow"
V3 = "/api/3.0/mlflow"

Name = Annotated[str, Field(min_length=1, max_length=256)]


class Credentials(BaseModel):
    username: Name
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class PasswordChange(Credentials):
    current_password: str | None = Field(default=None, max_length=1024)


class AdminChange(BaseModel):
    username: Name
    is_admin: bool


class Username(BaseModel):
    username: Name


class ExperimentGrant(BaseModel):
    experiment_id: Annotated[str, Field(min_length=1, max_length=32)]
    username: Name
    permission: Annotated[str, Field(max_length=32)] = ""


class ModelGrant(BaseModel):
    name: Name
    username: Name
    permission: Annotated[str, Field(max_length=32)] = ""


class UserGrant(BaseModel):
    username: Name
    resource_type: Literal["experiment", "registered_model"]
    resource_id: Annotated[str, Field(min_length=1, max_length=256)]
    permission: Annotated[str, Field(max_length=32)] = ""


def _guard(request: Request) -> Guard:
    guard: Guard = request.app.state.auth_guard
    return guard


def _caller(request: Request) -> User:
    user: User = request.state.user
    return user


def _user_json(guard: Guard, user: User) -> dict[str, Any]:
    store = guard.store
    experiments = store.grants_of("experiment", user.id)
    models = store.grants_of("registered_model", user.id)
    return {
        **user.to_dict(),
        "experiment_permissions": [
            {"experiment_id": k, "user_id": user.id, "permission": v}
            for k, v in experiments.items()
        ],
        "registered_model_permissions": [
            {"name": k, "user_id": user.id, "permission": v} for k, v in models.items()
        ],
    }


def _level(permission: str) -> Permission:
    if not permission:
        raise InvalidParameter("Missing value for required parameter 'permission'.")
    return permission_named(permission)


# ----------------------------------------------------------------------------------- users
@router.post(f"{API}/users/create")
def create_user(body: Credentials, request: Request) -> dict[str, Any]:
    guard = _guard(request)
    user = guard.store.create_user(body.username, body.password)
    return {"user": _user_json(guard, user)}


@router.get(f"{API}/users/get")
def get_user(request: Request, username: Annotated[str, Query(max_length=256)]) -> dict[str, Any]:
    guard = _guard(request)
    return {"user": _user_json(guard, guard.store.get_user(username))}


@router.get(f"{API}/users/current")
def current_user(request: Request) -> dict[str, Any]:
    guard = _guard(request)
    return {"user": _user_json(guard, guard.store.get_user(_caller(request).username))}


@router.get(f"{API}/users/list")
def list_users(request: Request) -> dict[str, Any]:
    return {"users": [u.to_dict() for u in _guard(request).store.list_users()]}


@router.patch(f"{API}/users/update-password")
def update_password(body: PasswordChange, request: Request) -> dict[str, Any]:
    guard, caller = _guard(request), _caller(request)
    if not caller.is_admin:  # a user changing their own password proves they know it
        if not body.current_password:
            raise InvalidParameter("Changing your own password needs 'current_password'")
        if guard.store.authenticate(caller.username, body.current_password) is None:
            raise PermissionDenied("The current password is not correct")
    guard.store.update_password(body.username, body.password)
    guard.forget()
    return {}


@router.patch(f"{API}/users/update-admin")
def update_admin(body: AdminChange, request: Request) -> dict[str, Any]:
    guard = _guard(request)
    guard.store.set_admin(body.username, body.is_admin)
    guard.forget()
    return {}


@router.delete(f"{API}/users/delete")
def delete_user(body: Username, request: Request) -> dict[str, Any]:
    guard = _guard(request)
    if body.username == _caller(request).username:
        raise InvalidParameter("You cannot delete your own user")
    guard.store.delete_user(body.username)
    guard.forget()
    return {}


# --------------------------------------------------------------------- experiment grants
@router.post(f"{API}/experiments/permissions/create")
def create_experiment_permission(body: ExperimentGrant, request: Request) -> dict[str, Any]:
    made = _guard(request).store.create_experiment_permission(
        body.experiment_id, body.username, _level(body.permission).name
    )
    return {"experiment_permission": made.to_dict()}


@router.get(f"{API}/experiments/permissions/get")
def get_experiment_permission(
    request: Request,
    experiment_id: Annotated[str, Query(max_length=32)],
    username: Annotated[str, Query(max_length=256)],
) -> dict[str, Any]:
    found = _guard(request).store.get_experiment_permission(experiment_id, username)
    return {"experiment_permission": found.to_dict()}


@router.patch(f"{API}/experiments/permissions/update")
def update_experiment_permission(body: ExperimentGrant, request: Request) -> dict[str, Any]:
    _guard(request).store.update_experiment_permission(
        body.experiment_id, body.username, _level(body.permission).name
    )
    return {}


@router.delete(f"{API}/experiments/permissions/delete")
def delete_experiment_permission(body: ExperimentGrant, request: Request) -> dict[str, Any]:
    _guard(request).store.delete_experiment_permission(body.experiment_id, body.username)
    return {}


# ---------------------------------------------------------------- registered-model grants
@router.post(f"{API}/registered-models/permissions/create")
def create_model_permission(body: ModelGrant, request: Request) -> dict[str, Any]:
    made = _guard(request).store.create_registered_model_permission(
        body.name, body.username, _level(body.permission).name
    )
    return {"registered_model_permission": made.to_dict()}


@router.get(f"{API}/registered-models/permissions/get")
def get_model_permission(
    request: Request,
    name: Annotated[str, Query(max_length=256)],
    username: Annotated[str, Query(max_length=256)],
) -> dict[str, Any]:
    found = _guard(request).store.get_registered_model_permission(name, username)
    return {"registered_model_permission": found.to_dict()}


@router.patch(f"{API}/registered-models/permissions/update")
def update_model_permission(body: ModelGrant, request: Request) -> dict[str, Any]:
    _guard(request).store.update_registered_model_permission(
        body.name, body.username, _level(body.permission).name
    )
    return {}


@router.delete(f"{API}/registered-models/permissions/delete")
def delete_model_permission(body: ModelGrant, request: Request) -> dict[str, Any]:
    _guard(request).store.delete_registered_model_permission(body.name, body.username)
    return {}


# ------------------------------------------------------------- MLflow 3's per-user grants
def _check_manage(request: Request, resource_type: str, resource_id: str) -> Guard:
    guard = _guard(request)
    key = "experiment_id" if resource_type == "experiment" else "name"
    rule = Rule(resource_type, "manage", key)  # type: ignore[arg-type]
    guard.check(_caller(request), rule, lambda _: resource_id)
    return guard


@router.post(f"{V3}/users/permissions/grant")
def grant_user_permission(body: UserGrant, request: Request) -> dict[str, Any]:
    guard = _check_manage(request, body.resource_type, body.resource_id)
    level = _level(body.permission)
    guard.store.grant(body.resource_type, body.resource_id, body.username, level.name)
    return {}


@router.post(f"{V3}/users/permissions/revoke")
def revoke_user_permission(body: UserGrant, request: Request) -> dict[str, Any]:
    guard = _check_manage(request, body.resource_type, body.resource_id)
    if body.resource_type == "experiment":
        guard.store.delete_experiment_permission(body.resource_id, body.username)
    else:
        guard.store.delete_registered_model_permission(body.resource_id, body.username)
    return {}


@router.get(f"{V3}/users/permissions/get")
def get_user_permission(
    request: Request,
    username: Annotated[str, Query(max_length=256)],
    resource_type: Annotated[Literal["experiment", "registered_model"], Query()],
    resource_id: Annotated[str, Query(max_length=256)],
) -> dict[str, Any]:
    guard = _guard(request)
    caller = _caller(request)
    if username != caller.username:
        guard = _check_manage(request, resource_type, resource_id)
    user = guard.store.get_user(username)
    level = guard.permission(user, resource_type, resource_id)
    return {"allowed": level.can_read, "permission": level.name}
