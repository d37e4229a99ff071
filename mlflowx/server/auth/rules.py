"""Who may call what: one rule for every route of the server, checked before the route runs.

A rule names the resource a request acts on (where its id is found: query string, JSON body or
path) and the capability it needs there (``read``, ``update``, ``delete``, ``manage``), as MLflow's
basic-auth app does. A route with no rule is for admins only, and a test checks that every route
of the app has one, so a new endpoint cannot be left open by accident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Rule", "rule_for"]

Kind = Literal[
    "public",  # no credentials needed (health checks)
    "user",  # any signed-in user (the handler filters what it returns)
    "admin",
    "self",  # the user named by ``key`` themselves, or an admin
    "experiment",  # ``key`` holds an experiment id
    "experiments",  # ``key`` holds a list of experiment ids
    "experiment_name",
    "run",  # ``key`` holds a run id (``run_uuid`` accepted too)
    "runs",  # ``key`` holds a list of run ids
    "logged_model",
    "registered_model",  # ``key`` holds a registered model name
    "artifact_path",  # a proxied artifact path: its first segment is the experiment id
]
Need = Literal["read", "update", "delete", "manage"]


@dataclass(frozen=True)
class Rule:
    kind: Kind
    need: Need = "read"
    #: Where the resource's id is: a query or body field, or a path parameter.
    key: str = ""
    #: After a successful create, the caller gets MANAGE on what was made (response field).
    grant_created: str = ""
    #: A second check: a model version made from a run also needs read access to the run.
    also: Rule | None = None
    #: Request fields only admins may set (an artifact location could point into another
    #: experiment's files and read them through this one).
    admin_fields: tuple[str, ...] = ()
    #: The id is in the query string only: the body is a file, never looked into for ids (a
    #: JSON file could otherwise name a run of its own).
    query_only: bool = False


API = "/api/2.0/mlflow"
_EXP = "experiment_id"
_RUN = "run_id"
_MODEL = "name"


def _exp(need: Need) -> Rule:
    return Rule("experiment", need, "experiment_id")


def _run(need: Need) -> Rule:
    return Rule("run", need, "run_id")


def _lm(need: Need) -> Rule:
    return Rule("logged_model", need, "model_id")


def _rm(need: Need) -> Rule:
    return Rule("registered_model", need, "name")


_TABLE: list[tuple[str, str, Rule]] = [
    # ------------------------------------------------------------------ health and the UI
    ("GET", "/health", Rule("public")),
    ("GET", "/version", Rule("public")),
    # --expose-prometheus: any signed-in user, as MLflow's auth app leaves it.
    ("GET", "/metrics", Rule("user")),
    ("GET", "/static/{path:path}", Rule("public")),  # the UI's code: no data in it
    ("GET", "/", Rule("user")),
    ("GET", "/docs", Rule("user")),
    ("GET", "/openapi.json", Rule("user")),
    ("GET", "/ajax-api/2.0/mlflowx/ui-config", Rule("user")),
    # GraphQL names its resources in the query: each resolver checks read access itself.
    ("GET", "/graphql", Rule("user")),
    ("POST", "/graphql", Rule("user")),
    # ---------------------------------------------------------------------- experiments
    (
        "POST",
        f"{API}/experiments/create",
        Rule("user", grant_created=_EXP, admin_fields=("artifact_location",)),
    ),
    ("POST", f"{API}/experiments/search", Rule("user")),
    ("GET", f"{API}/experiments/search", Rule("user")),
    ("POST", f"{API}/experiments/search-datasets", Rule("experiments", "read", "experiment_ids")),
    ("GET", f"{API}/experiments/get", _exp("read")),
    ("GET", f"{API}/experiments/get-by-name", Rule("experiment_name", "read", "experiment_name")),
    ("POST", f"{API}/experiments/update", _exp("update")),
    ("POST", f"{API}/experiments/delete", _exp("delete")),
    ("POST", f"{API}/experiments/restore", _exp("delete")),
    ("POST", f"{API}/experiments/set-experiment-tag", _exp("update")),
    ("POST", f"{API}/experiments/delete-experiment-tag", _exp("update")),
    # ----------------------------------------------------------------------------- runs
    ("POST", f"{API}/runs/create", _exp("update")),
    ("GET", f"{API}/runs/get", _run("read")),
    ("POST", f"{API}/runs/update", _run("update")),
    ("POST", f"{API}/runs/delete", _run("delete")),
    ("POST", f"{API}/runs/restore", _run("delete")),
    ("POST", f"{API}/runs/search", Rule("experiments", "read", "experiment_ids")),
    ("POST", f"{API}/runs/log-metric", _run("update")),
    ("POST", f"{API}/runs/log-parameter", _run("update")),
    ("POST", f"{API}/runs/set-tag", _run("update")),
    ("POST", f"{API}/runs/delete-tag", _run("update")),
    ("POST", f"{API}/runs/log-batch", _run("update")),
    ("POST", f"{API}/runs/log-inputs", _run("update")),
    ("POST", f"{API}/runs/outputs", _run("update")),
    ("GET", f"{API}/metrics/get-history", _run("read")),
    ("GET", f"{API}/metrics/get-history-bulk", Rule("runs", "read", _RUN)),
    ("GET", f"{API}/metrics/get-history-bulk-interval", Rule("runs", "read", "run_ids")),
    ("GET", f"{API}/artifacts/list", _run("read")),
    ("POST", f"{API}/upload-artifact", Rule("run", "update", "run_uuid", query_only=True)),
    ("GET", "/get-artifact", _run("read")),
    # -------------------------------------------------------------------- logged models
    ("POST", f"{API}/logged-models", _exp("update")),
    ("POST", f"{API}/logged-models/search", Rule("experiments", "read", "experiment_ids")),
    ("GET", f"{API}/logged-models/{{model_id}}", _lm("read")),
    ("PATCH", f"{API}/logged-models/{{model_id}}", _lm("update")),
    ("DELETE", f"{API}/logged-models/{{model_id}}", _lm("delete")),
    ("PATCH", f"{API}/logged-models/{{model_id}}/tags", _lm("update")),
    (
        "DELETE",
        f"{API}/logged-models/{{model_id}}/tags/{{tag_key}}",
        _lm("update"),
    ),
    ("POST", f"{API}/logged-models/{{model_id}}/params", _lm("update")),
    (
        "GET",
        f"{API}/logged-models/{{model_id}}/artifacts/directories",
        _lm("read"),
    ),
    (
        "GET",
        f"{API}/logged-models/{{model_id}}/artifacts/files",
        _lm("read"),
    ),
    # ------------------------------------------------------------------- model registry
    ("POST", f"{API}/registered-models/create", Rule("user", grant_created=_MODEL)),
    ("GET", f"{API}/registered-models/search", Rule("user")),
    ("GET", f"{API}/registered-models/get", _rm("read")),
    ("POST", f"{API}/registered-models/rename", _rm("update")),
    ("PATCH", f"{API}/registered-models/update", _rm("update")),
    ("DELETE", f"{API}/registered-models/delete", _rm("delete")),
    ("POST", f"{API}/registered-models/get-latest-versions", _rm("read")),
    ("GET", f"{API}/registered-models/get-latest-versions", _rm("read")),
    ("POST", f"{API}/registered-models/set-tag", _rm("update")),
    ("DELETE", f"{API}/registered-models/delete-tag", _rm("update")),
    ("POST", f"{API}/registered-models/alias", _rm("update")),
    ("DELETE", f"{API}/registered-models/alias", _rm("delete")),
    ("GET", f"{API}/registered-models/alias", _rm("read")),
    (
        "POST",
        f"{API}/model-versions/create",
        Rule("registered_model", "update", _MODEL, also=_run("read")),
    ),
    ("GET", f"{API}/model-versions/search", Rule("user")),
    ("GET", f"{API}/model-versions/get", _rm("read")),
    ("PATCH", f"{API}/model-versions/update", _rm("update")),
    ("POST", f"{API}/model-versions/transition-stage", _rm("update")),
    ("DELETE", f"{API}/model-versions/delete", _rm("delete")),
    ("GET", f"{API}/model-versions/get-download-uri", _rm("read")),
    ("POST", f"{API}/model-versions/set-tag", _rm("update")),
    ("DELETE", f"{API}/model-versions/delete-tag", _rm("update")),
    # ------------------------------------------------------------------- artifact proxy
    ("GET", "/api/2.0/mlflow-artifacts/artifacts", Rule("artifact_path", "read", "path")),
    (
        "GET",
        "/api/2.0/mlflow-artifacts/artifacts/{artifact_path:path}",
        Rule("artifact_path", "read", "artifact_path"),
    ),
    (
        "PUT",
        "/api/2.0/mlflow-artifacts/artifacts/{artifact_path:path}",
        Rule("artifact_path", "update", "artifact_path"),
    ),
    (
        "DELETE",
        "/api/2.0/mlflow-artifacts/artifacts/{artifact_path:path}",
        Rule("artifact_path", "delete", "artifact_path"),
    ),
    # MLflow's multipart uploads: writing a file of the experiment named by the path.
    *(
        (
            "POST",
            f"/api/2.0/mlflow-artifacts/mpu/{step}/{{artifact_path:path}}",
            Rule("artifact_path", "update", "artifact_path"),
        )
        for step in ("create", "complete", "abort")
    ),
    # Permanent deletion of every deleted run, experiment and logged model (``mlflowx gc``).
    ("POST", "/api/2.0/mlflowx/gc", Rule("admin")),
    # MLflow's presigned downloads: reading a file of the experiment named by the path.
    (
        "GET",
        "/api/2.0/mlflow-artifacts/presigned/{artifact_path:path}",
        Rule("artifact_path", "read", "artifact_path"),
    ),
    # What the server can do (multipart transfers): no login, as MLflow's; nothing secret.
    ("GET", "/api/3.0/mlflow/server-info", Rule("public")),
    ("GET", "/ajax-api/3.0/mlflow/server-info", Rule("public")),
    # ------------------------------------------------------------ users and permissions
    ("POST", f"{API}/users/create", Rule("admin")),
    ("GET", f"{API}/users/get", Rule("self", key="username")),
    ("GET", f"{API}/users/current", Rule("user")),
    ("GET", f"{API}/users/list", Rule("admin")),
    ("PATCH", f"{API}/users/update-password", Rule("self", key="username")),
    ("PATCH", f"{API}/users/update-admin", Rule("admin")),
    ("DELETE", f"{API}/users/delete", Rule("admin")),
    ("POST", f"{API}/experiments/permissions/create", _exp("manage")),
    ("GET", f"{API}/experiments/permissions/get", _exp("manage")),
    ("PATCH", f"{API}/experiments/permissions/update", _exp("manage")),
    ("DELETE", f"{API}/experiments/permissions/delete", _exp("manage")),
    ("POST", f"{API}/registered-models/permissions/create", _rm("manage")),
    ("GET", f"{API}/registered-models/permissions/get", _rm("manage")),
    ("PATCH", f"{API}/registered-models/permissions/update", _rm("manage")),
    ("DELETE", f"{API}/registered-models/permissions/delete", _rm("manage")),
    # MLflow 3's per-user grant API; the resource (type and id) is checked by the route.
    ("POST", "/api/3.0/mlflow/users/permissions/grant", Rule("user")),
    ("POST", "/api/3.0/mlflow/users/permissions/revoke", Rule("user")),
    ("GET", "/api/3.0/mlflow/users/permissions/get", Rule("user")),
]


def _compile(template: str) -> re.Pattern[str]:
    pattern = ""
    for part in re.split(r"(\{[^}]+\})", template):
        if part.startswith("{"):
            name, _, conv = part[1:-1].partition(":")
            pattern += f"(?P<{name}>.+)" if conv == "path" else f"(?P<{name}>[^/]+)"
        else:
            pattern += re.escape(part)
    return re.compile(pattern + r"\Z")


_EXACT: dict[tuple[str, str], Rule] = {}
_PATTERNS: list[tuple[str, re.Pattern[str], Rule]] = []
for _method, _template, _rule in _TABLE:
    if "{" in _template:
        _PATTERNS.append((_method, _compile(_template), _rule))
    else:
        _EXACT[(_method, _template)] = _rule


def rule_for(method: str, path: str) -> tuple[Rule, dict[str, str]] | None:
    """The rule of a request and the path parameters it captured; ``None``: no rule (admins
    only). ``HEAD`` follows ``GET``."""
    method = "GET" if method == "HEAD" else method
    found = _EXACT.get((method, path))
    if found is not None:
        return found, {}
    for rule_method, pattern, rule in _PATTERNS:
        if rule_method == method:
            match = pattern.match(path)
            if match:
                return rule, match.groupdict()
    return None


def templates() -> list[tuple[str, str]]:
    """Every (method, path template) with a rule, for the test that every route has one."""
    return [(m, t) for m, t, _ in _TABLE]
