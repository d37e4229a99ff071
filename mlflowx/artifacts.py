"""MLflow's ``mlflow.artifacts``: download, list and read artifacts by URI or run.

URIs are ``runs:/<run_id>/<path>``, ``models:/...`` (a logged model or a registered version),
artifact-store URIs (``s3://``, ``mlflow-artifacts:/``...) and local paths.
"""

from __future__ import annotations

import json
import posixpath
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mlflowx.exceptions import InvalidParameter
from mlflowx.store.artifacts.base import FileInfo
from mlflowx.tracking.client import MlflowxClient, _download_all
from mlflowx.utils.uri import parse_model_uri, parse_runs_uri

__all__ = ["download_artifacts", "list_artifacts", "load_dict", "load_image", "load_text"]


def _one_of(artifact_uri: str | None, run_id: str | None, artifact_path: str | None) -> None:
    if (artifact_uri is None) == (run_id is None):
        raise InvalidParameter("Exactly one of `run_id` or `artifact_uri` must be specified")
    if artifact_uri is not None and artifact_path is not None:
        raise InvalidParameter("`artifact_path` cannot be specified if `artifact_uri` is specified")


def download_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    dst_path: str | Path | None = None,
    tracking_uri: str | None = None,
    registry_uri: str | None = None,
) -> str:
    """Download an artifact file or directory; returns its local path.

    Args:
        artifact_uri: what to download (``runs:/``, ``models:/``, a store URI or a path);
            exactly one of ``artifact_uri`` and ``run_id``.
        run_id: a run whose artifacts (at ``artifact_path``, default all) to download.
        artifact_path: with ``run_id``, the path inside the run's artifacts.
        dst_path: a local directory (created if missing); default a new temporary one.
        tracking_uri: the tracking server or store; default :func:`mlflowx.get_tracking_uri`.
        registry_uri: the model registry for ``models:/<name>/...`` URIs.
    """
    _one_of(artifact_uri, run_id, artifact_path)
    dst = Path(dst_path) if dst_path is not None else Path(tempfile.mkdtemp(prefix="mlflowx-a-"))
    dst.mkdir(parents=True, exist_ok=True)
    client = MlflowxClient(tracking_uri, registry_uri)
    if run_id is not None:
        if artifact_path:
            return _download_uri(client, f"runs:/{run_id}/{artifact_path}", dst)
        return _download_all(client._artifact_repo(run_id), dst)
    assert artifact_uri is not None
    return _download_uri(client, artifact_uri, dst)


def _download_uri(client: MlflowxClient, uri: str, dst: Path) -> str:
    scheme = urlsplit(uri).scheme
    if scheme == "runs":
        run_id, path = parse_runs_uri(uri)
        if not path:
            return _download_all(client._artifact_repo(run_id), dst)
        if client.list_artifacts(run_id, path) or _is_file(client, run_id, path):
            return client.download_artifacts(run_id, path, dst)
        # Not a run artifact: MLflow 3 keeps a model logged by the run apart, as a logged model.
    if scheme in ("runs", "models"):
        from mlflowx.models.uri import download_model

        return str(download_model(uri, dst, client))
    root, name = posixpath.split(uri.rstrip("/"))
    if not name:  # the root of a store: download all of it
        return _download_all(client._repo_for(uri), dst)
    return client._repo_for(root).download_artifacts(name, dst)


def _is_file(client: MlflowxClient, run_id: str, path: str) -> bool:
    folder = posixpath.dirname(path) or None
    return any(f.path == path and not f.is_dir for f in client.list_artifacts(run_id, folder))


def list_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    tracking_uri: str | None = None,
) -> list[FileInfo]:
    """The artifacts directly under ``artifact_uri`` (paths relative to it), or under
    ``artifact_path`` of the run ``run_id`` (paths relative to the run's root)."""
    _one_of(artifact_uri, run_id, artifact_path)
    client = MlflowxClient(tracking_uri)
    if run_id is not None:
        return client.list_artifacts(run_id, artifact_path)
    assert artifact_uri is not None
    scheme = urlsplit(artifact_uri).scheme
    if scheme == "runs":
        run_id, path = parse_runs_uri(artifact_uri)
        root = client.get_artifact_uri(run_id, path or None)
        return client._repo_for(root).list_artifacts()
    if scheme == "models":
        ref = parse_model_uri(artifact_uri)
        if ref.model_id is not None:
            return client.list_logged_model_artifacts(ref.model_id, ref.path or None)
        from mlflowx.models.uri import download_model

        with tempfile.TemporaryDirectory() as tmp:
            local = download_model(artifact_uri, tmp, client)
            return client._repo_for(str(local)).list_artifacts()
    return client._repo_for(artifact_uri).list_artifacts()


def _read(artifact_uri: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(download_artifacts(artifact_uri=artifact_uri, dst_path=tmp))
        if local.is_dir():
            raise InvalidParameter(f"{artifact_uri!r} is a directory, not a file")
        return local.read_bytes()


def load_text(artifact_uri: str) -> str:
    """The text of an artifact file (UTF-8)."""
    data = _read(artifact_uri)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidParameter(
            f"Failed to load text from {artifact_uri!r}: the file is not UTF-8 text"
        ) from exc


def load_dict(artifact_uri: str) -> dict[str, Any]:
    """A JSON (or YAML, by extension) artifact file as a dict."""
    text = load_text(artifact_uri)
    try:
        if artifact_uri.endswith((".yaml", ".yml")):
            import yaml

            loaded = yaml.safe_load(text)
        else:
            loaded = json.loads(text)
    except ValueError as exc:
        raise InvalidParameter(f"Failed to load a dict from {artifact_uri!r}: {exc}") from exc
    if not isinstance(loaded, dict):
        raise InvalidParameter(f"{artifact_uri!r} holds a {type(loaded).__name__}, not a dict")
    return loaded


def load_image(artifact_uri: str) -> Any:
    """An image artifact file as a ``PIL.Image.Image`` (pixels loaded)."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(_read(artifact_uri)))
    image.load()
    return image
