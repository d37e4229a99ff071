"""A saved model's files read and changed in place, with MLflow's semantics:
:func:`get_model_info`, :func:`set_signature` and :func:`update_model_requirements`.

A model is named by a local path, ``runs:/<run>/<path>`` (a run's artifacts, or the run's
logged model of that name), ``models:/<model_id>`` (a logged model) or an artifact URI.
Registered versions (``models:/<name>/<version>``) are read-only, as in MLflow: the writes
refuse them.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.models.env import CONDA_ENV_FILE, REQUIREMENTS_FILE
from mlflowx.models.mlmodel import Model
from mlflowx.utils.uri import parse_model_uri, parse_runs_uri

if TYPE_CHECKING:
    from mlflowx.models.logging import ModelInfo
    from mlflowx.models.signature import ModelSignature
    from mlflowx.tracking import MlflowxClient

__all__ = ["get_model_info", "set_signature", "update_model_requirements"]

log = logging.getLogger(__name__)
MLMODEL = "MLmodel"


def _client() -> MlflowxClient:
    from mlflowx.tracking import MlflowxClient

    return MlflowxClient()


def _location(model_uri: str, client: MlflowxClient, *, writing: str | None = None) -> str:
    """The artifact URI (or local path) of the model's directory. ``writing`` names the
    operation when the model will be changed: registry URIs are then refused."""
    scheme = urlsplit(model_uri).scheme
    if len(scheme) <= 1:  # a plain path (one letter: a Windows drive)
        return str(Path(model_uri).expanduser())
    if scheme == "file":
        return urlsplit(model_uri).path
    if scheme == "models":
        ref = parse_model_uri(model_uri)
        sub = ref.path
        if ref.model_id is None:
            if writing is not None:
                raise InvalidParameter(
                    f"Failed to {writing} on {model_uri!r}. Model URIs with the "
                    "`models:/<name>/<version>` scheme are not supported: registered versions "
                    "are read-only; change the source model, then register it again."
                )
            from mlflowx.models.uri import _registered_source

            return _location(
                _registered_source(client, ref, model_uri).rstrip("/") + _sub(sub), client
            )
        return client.get_logged_model(ref.model_id).artifact_location.rstrip("/") + _sub(sub)
    if scheme == "runs":
        run_id, rel_path = parse_runs_uri(model_uri)
        rel = rel_path or ""
        run = client.get_run(run_id)
        root = run.info.artifact_uri or ""
        if rel and client._repo_for(root).list_artifacts(rel):
            return root.rstrip("/") + _sub(rel)
        name, _, rest = rel.partition("/")
        found = client.search_logged_models(
            [run.info.experiment_id], filter_string=f"name = '{name}'"
        )
        for model in found:
            if model.source_run_id == run_id:
                return model.artifact_location.rstrip("/") + _sub(rest)
        raise NotFound(f"No model at {model_uri}: run {run_id} has no artifacts or model there")
    return model_uri


def _sub(path: str) -> str:
    return f"/{path.strip('/')}" if path.strip("/") else ""


def _is_local(location: str) -> bool:
    return len(urlsplit(location).scheme) <= 1


def _fetch(location: str, name: str, dst: Path, client: MlflowxClient) -> Path:
    """The model's file ``name``: the file itself when local, else a copy under ``dst``."""
    if _is_local(location):
        path = Path(location) / name
        if not path.is_file():
            raise NotFound(f"No {name} file in the model at {location}")
        return path
    try:
        return Path(client._repo_for(location).download_artifacts(name, dst))
    except (NotFound, OSError) as exc:
        raise NotFound(f"Failed to download an {name!r} file from {location!r}: {exc}") from exc


def _put_back(local_file: Path, location: str, client: MlflowxClient) -> None:
    if not _is_local(location):
        client._repo_for(location).log_artifact(local_file)


def get_model_info(model_uri: str) -> ModelInfo:
    """The metadata of the model at ``model_uri`` (flavors, signature, ids), as MLflow's
    ``mlflow.models.get_model_info``."""
    from mlflowx.models.logging import ModelInfo

    client = _client()
    location = _location(model_uri, client)
    with tempfile.TemporaryDirectory(prefix="mlflowx-info-") as tmp:
        model = Model.load(_fetch(location, MLMODEL, Path(tmp), client))
    return ModelInfo.of(model, model_uri)


def set_signature(model_uri: str, signature: ModelSignature) -> None:
    """Replace the signature in the model's MLmodel file, where the model is stored."""
    from mlflowx.models.signature import ModelSignature

    if not isinstance(signature, ModelSignature):
        raise InvalidParameter("The signature argument must be a ModelSignature object")
    client = _client()
    location = _location(model_uri, client, writing="set signature")
    with tempfile.TemporaryDirectory(prefix="mlflowx-sig-") as tmp:
        path = _fetch(location, MLMODEL, Path(tmp), client)
        model = Model.load(path)
        model.signature = signature.to_dict()
        model.save(path)
        _put_back(path, location, client)


def update_model_requirements(
    model_uri: str, operation: Literal["add", "remove"], requirement_list: list[str]
) -> None:
    """Add requirements to (a new version of a package replaces the old one) or remove them
    from (by package name, whatever the version) the model's requirements.txt and conda.yaml,
    where the model is stored."""
    from packaging.requirements import InvalidRequirement, Requirement

    if operation not in ("add", "remove"):
        raise InvalidParameter(
            f"Invalid value {operation!r} for parameter 'operation': use 'add' or 'remove'"
        )
    wanted: list[Requirement] = []
    invalid: dict[str, str] = {}
    for text in requirement_list:
        try:
            wanted.append(Requirement(text.strip().lower()))
        except InvalidRequirement as exc:
            invalid[text] = str(exc)
    if invalid:
        raise InvalidParameter(f"Found invalid requirements: {invalid}")
    client = _client()
    location = _location(model_uri, client, writing="set requirements")
    with tempfile.TemporaryDirectory(prefix="mlflowx-req-") as tmp:
        for name in (CONDA_ENV_FILE, REQUIREMENTS_FILE):
            path = _fetch(location, name, Path(tmp) / name.replace(".", "_"), client)
            old = _read_requirements(path)
            new = _added(wanted, old) if operation == "add" else _removed(wanted, old)
            _write_requirements(path, new)
            _put_back(path, location, client)
    log.info("Updated the requirements of %s: %s", model_uri, new)


def _read_requirements(path: Path) -> list[str]:
    import yaml

    if path.name == CONDA_ENV_FILE:
        env = yaml.safe_load(path.read_text()) or {}
        return [str(r) for r in _pip_section(env)]
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def _pip_section(env: dict[str, Any]) -> list[Any]:
    for dep in env.get("dependencies") or []:
        if isinstance(dep, dict) and "pip" in dep:
            pip: list[Any] = dep["pip"]
            return pip
    return []


def _write_requirements(path: Path, requirements: list[str]) -> None:
    import yaml

    if path.name != CONDA_ENV_FILE:
        path.write_text("\n".join(requirements))
        return
    env = yaml.safe_load(path.read_text()) or {}
    deps = [d for d in env.get("dependencies") or [] if not (isinstance(d, dict) and "pip" in d)]
    env["dependencies"] = [*deps, {"pip": requirements}]
    path.write_text(yaml.safe_dump(env, default_flow_style=False, sort_keys=False))


def _name(text: str) -> str:
    """A requirement line's package name (lines pip takes but PEP 508 does not: themselves)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        return str(canonicalize_name(Requirement(text).name))
    except InvalidRequirement:
        return text


def _added(wanted: list[Any], old: list[str]) -> list[str]:
    merged = {_name(r): r for r in old}
    merged.update({_name(str(r)): str(r) for r in wanted})
    return list(merged.values())


def _removed(unwanted: list[Any], old: list[str]) -> list[str]:
    kept = {_name(r): r for r in old}
    for r in unwanted:
        if kept.pop(_name(r.name), None) is None:
            log.warning('"%s" not found in requirements, ignoring', r.name)
    return list(kept.values())
