"""Configuration read from the environment, at the edges only.

pydantic-settings would be the natural tool, but importing it costs about 0.35 s here and
``import mlflowx`` has a 0.25 s budget, so this reads the few variables it needs directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_BASE_IMAGE",
    "VARIABLES",
    "Var",
    "allowed_artifact_hosts",
    "allowed_artifact_roots",
    "allowed_artifact_schemes",
    "base_image",
    "default_artifact_root",
    "default_tracking_uri",
    "env",
    "env_flag",
    "home",
    "markdown_table",
    "prefect_ui_url",
    "tracking_uri_from_env",
    "ui_url",
]


def home() -> Path:
    """Where the embedded store lives: ``$MLFLOWX_HOME`` or the working directory."""
    return Path(env("MLFLOWX_HOME") or os.getcwd()).resolve()


def default_tracking_uri() -> str:
    """The embedded default: one SQLite file under :func:`home`."""
    return f"sqlite:///{home() / 'mlflowx.db'}"


def default_artifact_root() -> str:
    """Where artifacts go when neither the store nor the experiment says otherwise."""
    return str(home() / "mlartifacts")


#: Storage locations that operators may widen (see ``mlflowx.store.locations``).
ALLOWED_ARTIFACT_SCHEMES_ENV = "MLFLOWX_ALLOWED_ARTIFACT_SCHEMES"
ALLOWED_ARTIFACT_HOSTS_ENV = "MLFLOWX_ALLOWED_ARTIFACT_HOSTS"
ALLOWED_ARTIFACT_ROOTS_ENV = "MLFLOWX_ALLOWED_ARTIFACT_ROOTS"


def _csv(name: str) -> frozenset[str]:
    return frozenset(x.strip().lower() for x in (env(name) or "").split(",") if x.strip())


def allowed_artifact_schemes() -> frozenset[str]:
    """``$MLFLOWX_ALLOWED_ARTIFACT_SCHEMES``: storage schemes allowed besides the defaults,
    comma-separated (``http,https,ftp``)."""
    return _csv(ALLOWED_ARTIFACT_SCHEMES_ENV)


def allowed_artifact_hosts() -> frozenset[str]:
    """``$MLFLOWX_ALLOWED_ARTIFACT_HOSTS``: hosts (``name`` or ``name:port``, ``*`` for any)
    that storage locations may name, comma-separated."""
    return _csv(ALLOWED_ARTIFACT_HOSTS_ENV)


def allowed_artifact_roots() -> tuple[str, ...]:
    """``$MLFLOWX_ALLOWED_ARTIFACT_ROOTS``: local directories, separated by ``os.pathsep``,
    where a tracking server's clients may place experiments besides the server's own roots."""
    raw = env(ALLOWED_ARTIFACT_ROOTS_ENV) or ""
    return tuple(x.strip() for x in raw.split(os.pathsep) if x.strip())


def tracking_uri_from_env() -> str | None:
    """``MLFLOWX_TRACKING_URI``, falling back to MLflow's ``MLFLOW_TRACKING_URI``."""
    return env("MLFLOWX_TRACKING_URI")


def ui_url(tracking_uri: str | None = None) -> str | None:
    """Where people open the web UI, for links into it: ``$MLFLOWX_UI_URL``, else a tracking
    server's own address (an ``http(s)://`` tracking URI), else none."""
    explicit = (env("MLFLOWX_UI_URL") or "").strip()
    if explicit:
        return explicit.rstrip("/")
    if tracking_uri and tracking_uri.startswith(("http://", "https://")):
        return tracking_uri.rstrip("/")
    return None


#: The image model, project and flow images build on when none is named.
DEFAULT_BASE_IMAGE = "python:3.11-slim"


def base_image() -> str:
    """``$MLFLOWX_BASE_IMAGE``, else :data:`DEFAULT_BASE_IMAGE` (a local base image is built by
    ``infra/base-image.sh`` where images cannot be pulled)."""
    return env("MLFLOWX_BASE_IMAGE") or DEFAULT_BASE_IMAGE


def prefect_ui_url() -> str | None:
    """Prefect's UI (``$PREFECT_UI_URL``), for links from runs and versions to flow runs."""
    return os.environ.get("PREFECT_UI_URL", "").strip().rstrip("/") or None


def env_flag(name: str) -> bool:
    """Whether the declared variable ``name`` (or MLflow's alias) is set to a true value."""
    return (env(name) or "").strip().lower() in {"1", "true", "yes", "on"}


# ------------------------------------------------------------------------------ the variables
@dataclass(frozen=True, slots=True)
class Var:
    """One environment variable mlflowx reads (or sets for a process it starts): its name,
    MLflow's name for the same setting (read when ours is unset), its type and default (as
    text; ``None``: unset) and what it does. The README's table is generated from these."""

    name: str
    group: str
    doc: str
    default: str | None = None
    type: str = "text"
    alias: str | None = None


_T, _S, _A, _M, _V, _I, _P, _X = (
    "Tracking and registry",
    "Tracking server",
    "Server auth",
    "Models",
    "Scoring server",
    "Images and Docker",
    "Projects and pipelines",
    "Set by mlflowx for processes it starts",
)

VARIABLES: tuple[Var, ...] = (
    Var(
        "MLFLOWX_HOME",
        _T,
        "Folder of the embedded store (mlflowx.db, mlartifacts/, caches).",
        "the working directory",
        "path",
    ),
    Var(
        "MLFLOWX_TRACKING_URI",
        _T,
        "Where runs are tracked: sqlite:///..., postgresql://..., http(s)://server.",
        "sqlite:///$MLFLOWX_HOME/mlflowx.db",
        "uri",
        "MLFLOW_TRACKING_URI",
    ),
    Var(
        "MLFLOWX_REGISTRY_URI",
        _T,
        "Where the model registry is, when not at the tracking URI.",
        "the tracking URI",
        "uri",
        "MLFLOW_REGISTRY_URI",
    ),
    Var(
        "MLFLOWX_EXPERIMENT_NAME",
        _T,
        "Experiment of runs started without one (created if missing).",
        None,
        "text",
        "MLFLOW_EXPERIMENT_NAME",
    ),
    Var(
        "MLFLOWX_EXPERIMENT_ID",
        _T,
        "Experiment id of runs started without one.",
        None,
        "text",
        "MLFLOW_EXPERIMENT_ID",
    ),
    Var(
        "MLFLOWX_RUN_ID",
        _T,
        "A run that start_run() resumes (set for a project's command).",
        None,
        "text",
        "MLFLOW_RUN_ID",
    ),
    Var(
        "MLFLOWX_ENABLE_ASYNC_LOGGING",
        _T,
        "Log metrics, params and tags in the background (flushed at run end).",
        "false",
        "bool",
        "MLFLOW_ENABLE_ASYNC_LOGGING",
    ),
    Var(
        "MLFLOWX_DEFAULT_ARTIFACT_ROOT",
        _T,
        "Artifact root of new experiments on the embedded store.",
        "$MLFLOWX_HOME/mlartifacts",
        "uri",
    ),
    Var(
        "MLFLOWX_TRACKING_USERNAME",
        _T,
        "HTTP Basic user for a tracking server.",
        None,
        "text",
        "MLFLOW_TRACKING_USERNAME",
    ),
    Var(
        "MLFLOWX_TRACKING_PASSWORD",
        _T,
        "HTTP Basic password (or an mlx_ token) for a tracking server.",
        None,
        "secret",
        "MLFLOW_TRACKING_PASSWORD",
    ),
    Var(
        "MLFLOWX_TRACKING_TOKEN",
        _T,
        "Bearer token for a tracking server.",
        None,
        "secret",
        "MLFLOW_TRACKING_TOKEN",
    ),
    Var(
        "MLFLOWX_TRACKING_INSECURE_TLS",
        _T,
        "Skip TLS verification of the tracking server.",
        "false",
        "bool",
        "MLFLOW_TRACKING_INSECURE_TLS",
    ),
    Var(
        "MLFLOWX_TRACKING_SERVER_CERT_PATH",
        _T,
        "CA bundle that verifies the tracking server.",
        None,
        "path",
        "MLFLOW_TRACKING_SERVER_CERT_PATH",
    ),
    Var(
        "MLFLOWX_HTTP_REQUEST_TIMEOUT",
        _T,
        "Seconds before a request to a server times out.",
        "120",
        "float",
        "MLFLOW_HTTP_REQUEST_TIMEOUT",
    ),
    Var(
        "MLFLOWX_HTTP_REQUEST_MAX_RETRIES",
        _T,
        "Retries of a failed idempotent request.",
        "5",
        "int",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
    ),
    Var(
        "MLFLOWX_HTTP_REQUEST_BACKOFF_FACTOR",
        _T,
        "Exponential backoff factor between retries (jittered).",
        "0.5",
        "float",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR",
    ),
    Var(
        "MLFLOWX_S3_ENDPOINT_URL",
        _T,
        "Endpoint of S3-compatible storage (MinIO, moto...).",
        None,
        "uri",
        "MLFLOW_S3_ENDPOINT_URL",
    ),
    Var(
        "MLFLOWX_SQL_POOL_SIZE",
        _T,
        "Connections per process to PostgreSQL (and other SQLAlchemy databases).",
        "10",
        "int",
    ),
    Var(
        "MLFLOWX_UI_URL",
        _T,
        "Address of the web UI, for links from runs, flow runs and logs.",
        "a tracking server's own address",
        "uri",
    ),
    Var(
        "MLFLOWX_DEBUG",
        _T,
        "Raise when a model fails to predict its input example while its signature is "
        "inferred (instead of keeping the input schema only).",
        "false",
        "bool",
    ),
    Var(
        "MLFLOWX_BACKEND_STORE_URI",
        _S,
        "`mlflowx server --backend-store-uri` (and `mlflowx auth`'s database).",
        "the embedded store",
        "uri",
    ),
    Var(
        "MLFLOWX_REGISTRY_STORE_URI",
        _S,
        "`mlflowx server --registry-store-uri`.",
        "the backend store",
        "uri",
    ),
    Var(
        "MLFLOWX_ARTIFACTS_DESTINATION",
        _S,
        "`--artifacts-destination`: where proxied artifacts are stored.",
        "$MLFLOWX_HOME/mlartifacts",
        "uri",
    ),
    Var(
        "MLFLOWX_STATIC_PREFIX",
        _S,
        "`--static-prefix`: the path prefix the server is mounted under.",
        None,
        "text",
    ),
    Var(
        "MLFLOWX_MAX_ARTIFACT_SIZE",
        _S,
        "`--max-artifact-size`: largest artifact upload (e.g. 5G).",
        "unlimited",
        "size",
    ),
    Var(
        "MLFLOWX_EXPOSE_PROMETHEUS",
        _S,
        "`--expose-prometheus DIR`: serve request metrics at /metrics.",
        None,
        "path",
    ),
    Var(
        "MLFLOWX_ALLOWED_HOSTS",
        _S,
        "`--allowed-hosts`: Host headers the server answers (DNS-rebinding guard).",
        "localhost and the bound names",
        "list",
    ),
    Var(
        "MLFLOWX_CORS_ALLOWED_ORIGINS",
        _S,
        "`--cors-allowed-origins`: origins allowed cross-origin requests.",
        "none",
        "list",
    ),
    Var(
        "MLFLOWX_ALLOWED_ARTIFACT_SCHEMES",
        _S,
        "Storage schemes allowed besides the defaults (comma-separated).",
        None,
        "list",
    ),
    Var(
        "MLFLOWX_ALLOWED_ARTIFACT_HOSTS",
        _S,
        "Hosts storage locations may name (comma-separated; * for any).",
        None,
        "list",
    ),
    Var(
        "MLFLOWX_ALLOWED_ARTIFACT_ROOTS",
        _S,
        "Local folders clients may place experiments in (os.pathsep-separated).",
        None,
        "list",
    ),
    Var(
        "MLFLOWX_AUTH",
        _A,
        "`mlflowx server --auth`: require users and permissions.",
        "false",
        "bool",
    ),
    Var(
        "MLFLOWX_AUTH_CONFIG",
        _A,
        "`--auth-config`: MLflow's basic_auth.ini.",
        None,
        "path",
        "MLFLOW_AUTH_CONFIG_PATH",
    ),
    Var(
        "MLFLOWX_AUTH_ADMIN_USERNAME",
        _A,
        "The first admin's name, created on a server with no users.",
        "admin",
        "text",
    ),
    Var(
        "MLFLOWX_AUTH_ADMIN_PASSWORD",
        _A,
        "The first admin's password (there is no default password).",
        None,
        "secret",
        "MLFLOW_AUTH_ADMIN_PASSWORD",
    ),
    Var(
        "MLFLOWX_AUTH_DEFAULT_PERMISSION",
        _A,
        "Permission on resources nobody granted: READ, EDIT, MANAGE, NO_PERMISSIONS.",
        "READ",
        "text",
    ),
    Var(
        "MLFLOWX_AUTH_CACHE_SECONDS",
        _A,
        "How long a worker remembers a checked credential.",
        "30",
        "float",
    ),
    Var(
        "MLFLOWX_AUTH_PASSWORD",
        _A,
        "`mlflowx auth create-user|set-password`: the password, instead of a prompt.",
        None,
        "secret",
    ),
    Var(
        "MLFLOWX_ALLOW_PICKLE_DESERIALIZATION",
        _M,
        "Allow loading pickled model files (unsafe for untrusted models).",
        "false",
        "bool",
        "MLFLOW_ALLOW_PICKLE_DESERIALIZATION",
    ),
    Var(
        "MLFLOWX_ALLOW_MODEL_CODE",
        _M,
        "Allow running a model's own code (models from code, code_paths).",
        "false",
        "bool",
    ),
    Var(
        "MLFLOWX_SKOPS_TRUSTED_TYPES",
        _M,
        "Extra types skops may load (comma-separated import paths).",
        None,
        "list",
    ),
    Var("MLFLOWX_SERVING_MODEL_URI", _V, "The model a scoring server serves.", None, "uri"),
    Var(
        "MLFLOWX_SCORING_SERVER_REQUEST_TIMEOUT",
        _V,
        "Seconds a prediction may take.",
        "60",
        "float",
        "MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT",
    ),
    Var("MLFLOWX_SCORING_MAX_BODY_MB", _V, "Largest request body.", "100", "float"),
    Var(
        "MLFLOWX_SCORING_INLINE_MAX_KB",
        _V,
        "Requests up to this size are predicted on the event loop.",
        "256",
        "float",
    ),
    Var(
        "MLFLOWX_SCORING_FAST_PATH",
        _V,
        "Use the flavor's direct prediction path when the input allows it.",
        "true",
        "bool",
    ),
    Var(
        "MLFLOWX_SCORING_ALLOWED_HOSTS",
        _V,
        "Host headers the scoring server answers.",
        "localhost and the bound names",
        "list",
    ),
    Var(
        "MLFLOWX_SCORING_CORS_ALLOWED_ORIGINS",
        _V,
        "Origins allowed cross-origin predictions.",
        "none",
        "list",
    ),
    Var("MLFLOWX_LOG_LEVEL", _V, "Log level of the scoring server.", "INFO", "text"),
    Var(
        "MLFLOWX_BASE_IMAGE",
        _I,
        "Base image of model, project and flow images (build it with infra/base-image.sh).",
        "mlflowx-base:py311",
        "text",
    ),
    Var(
        "MLFLOWX_DOCKER_CACHE",
        _I,
        "Wheel cache of model, project and flow image builds.",
        "$MLFLOWX_HOME/docker-cache",
        "path",
    ),
    Var(
        "MLFLOWX_ENVS_DIR",
        _P,
        "Where project environments (virtualenvs) are kept.",
        "$MLFLOWX_HOME/envs if set, else ~/.mlflowx/envs",
        "path",
    ),
    Var(
        "MLFLOWX_CONDA_HOME",
        _P,
        "Conda installation for conda project environments.",
        "conda on PATH",
        "path",
        "MLFLOW_CONDA_HOME",
    ),
    Var(
        "MLFLOWX_ALLOWED_ESTIMATORS",
        _P,
        "Import paths the train task may build besides sklearn (comma-separated; * for any).",
        None,
        "list",
    ),
    Var(
        "MLFLOWX_PROJECT_RUN_ID",
        _X,
        "The tracking run made for a project's flow run, handed to its worker.",
        None,
        "text",
    ),
    Var("MLFLOWX_ARTIFACT_DIR", _X, "A project command's local artifact folder.", None, "path"),
    Var("MLFLOWX_WORKERS", _X, "Workers of the scoring server in a model container.", None, "int"),
    Var("MLFLOWX_PORT", _X, "Port of the scoring server in a model container.", None, "int"),
    Var(
        "MLFLOWX_UPSTREAM_CONF",
        _X,
        "nginx upstream block of a deployment's proxy container.",
        None,
        "text",
    ),
    Var(
        "MLFLOWX_SERVER_BACKEND_STORE_URI",
        _X,
        "`mlflowx server`'s options, handed to its workers.",
        None,
        "uri",
    ),
    Var("MLFLOWX_SERVER_REGISTRY_STORE_URI", _X, "(as above)", None, "uri"),
    Var("MLFLOWX_SERVER_ARTIFACTS_DESTINATION", _X, "(as above)", None, "uri"),
    Var("MLFLOWX_SERVER_DEFAULT_ARTIFACT_ROOT", _X, "(as above)", None, "uri"),
    Var("MLFLOWX_SERVER_STATIC_PREFIX", _X, "(as above)", None, "text"),
    Var("MLFLOWX_SERVER_MAX_ARTIFACT_BYTES", _X, "(as above)", None, "int"),
    Var("MLFLOWX_SERVER_METRICS_DIR", _X, "(as above)", None, "path"),
    Var("MLFLOWX_SERVER_ALLOWED_HOSTS", _X, "(as above)", None, "list"),
    Var("MLFLOWX_SERVER_CORS_ORIGINS", _X, "(as above)", None, "list"),
    Var("MLFLOWX_SERVER_AUTH", _X, "(as above)", None, "bool"),
    Var("MLFLOWX_SERVER_AUTH_CONFIG", _X, "(as above)", None, "path"),
)
_BY_NAME = {v.name: v for v in VARIABLES}


def env(name: str) -> str | None:
    """The value of the declared variable ``name``: ours, else MLflow's alias, else ``None``
    (the default text is documentation; callers apply the typed default). An undeclared name
    is a programming error."""
    var = _BY_NAME[name]
    value = os.environ.get(var.name)
    if not value and var.alias:
        value = os.environ.get(var.alias)
    return value or None


def markdown_table() -> str:
    """The README's table of environment variables, generated from :data:`VARIABLES`."""
    lines = []
    for group in dict.fromkeys(v.group for v in VARIABLES):
        lines += [f"**{group}**", "", "| variable | MLflow's name | default | what it does |"]
        lines.append("| --- | --- | --- | --- |")
        for v in (v for v in VARIABLES if v.group == group):
            alias = f"`{v.alias}`" if v.alias else ""
            lines.append(f"| `{v.name}` | {alias} | {v.default or ''} | {v.doc} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
