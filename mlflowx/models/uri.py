"""Model URIs, as MLflow accepts them, resolved to a local model directory.

- a local path or ``file://`` URI;
- ``runs:/<run_id>/<path>``: the run's artifacts at ``path``, else the run's logged model named
  ``path`` (MLflow 3 stores models apart from run artifacts);
- ``models:/m-<id>``: a logged model;
- ``models:/<name>/<version>``, ``models:/<name>@<alias>``, ``models:/<name>/<stage>``,
  ``models:/<name>/latest``: a registered model version (its source is resolved in turn);
- any artifact-store URI (``s3://``, ``mlflow-artifacts:/``, ``http(s)://`` proxy).
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from mlflowx.exceptions import NotFound
from mlflowx.registry.uri import resolve_parsed
from mlflowx.tracking.client import MlflowxClient
from mlflowx.utils.uri import ParsedModelUri, parse_model_uri, parse_runs_uri

__all__ = ["FetchedModel", "download_model", "fetch_model"]


def _registered_source(client: MlflowxClient, ref: ParsedModelUri, uri: str) -> str:
    name, version = resolve_parsed(ref, uri, client)
    return str(client.get_model_version(name, version).source)


def _download(client: MlflowxClient, uri: str, sub: str, dst: Path) -> Path:
    repo = client._repo_for(uri)
    if sub:
        return Path(repo.download_artifacts(sub, dst))
    dst.mkdir(parents=True, exist_ok=True)
    for info in repo.list_artifacts():
        repo.download_artifacts(info.path, dst)
    if not any(dst.iterdir()):
        raise NotFound(f"No model files at {uri}")
    return dst


def _is_remote(model_uri: str) -> bool:
    scheme = urlsplit(model_uri).scheme
    return len(scheme) > 1 and scheme != "file"  # one letter: a Windows drive, not a scheme


def download_model(
    model_uri: str, dst_path: str | Path | None = None, client: MlflowxClient | None = None
) -> Path:
    """A local directory holding the model ``model_uri`` names (local paths are used as is).

    Without ``dst_path`` a remote model goes to a new temporary directory that the caller
    owns (it is removed again if the download fails); :func:`fetch_model` removes it too.
    """
    client = client or MlflowxClient()
    if dst_path is not None or not _is_remote(model_uri):
        return _download_model(model_uri, dst_path, client)
    dst = Path(tempfile.mkdtemp(prefix="mlflowx-m-"))
    try:
        return _download_model(model_uri, dst, client)
    except BaseException:
        shutil.rmtree(dst, ignore_errors=True)
        raise


def _download_model(model_uri: str, dst_path: str | Path | None, client: MlflowxClient) -> Path:
    scheme = urlsplit(model_uri).scheme
    if len(scheme) <= 1:  # a plain path
        path = Path(model_uri).expanduser()
        if not path.exists():
            raise NotFound(f"No model at {model_uri}")
        return path
    if scheme == "file":
        return _download_model(urlsplit(model_uri).path, dst_path, client)
    assert dst_path is not None  # download_model makes one for remote models
    dst = Path(dst_path)
    if scheme == "models":
        ref = parse_model_uri(model_uri)
        sub = ref.path
        if ref.model_id is not None:
            model = client.get_logged_model(ref.model_id)
            return _download(client, model.artifact_location, sub, dst)
        return _download_model(_registered_source(client, ref, model_uri).rstrip("/") + (
            f"/{sub}" if sub else ""), dst, client)  # fmt: skip
    if scheme == "runs":
        run_id, rel = parse_runs_uri(model_uri)
        run = client.get_run(run_id)
        if rel:
            repo = client._repo_for(run.info.artifact_uri or "")
            if repo.list_artifacts(rel):
                return Path(repo.download_artifacts(rel, dst))
            name, _, rest = rel.partition("/")
            found = client.search_logged_models(
                [run.info.experiment_id], filter_string=f"name = '{name}'"
            )
            for model in found:
                if model.source_run_id == run_id:
                    return _download(client, model.artifact_location, rest, dst)
        raise NotFound(f"No model at {model_uri}: run {run_id} has no artifacts or model there")
    return _download(client, model_uri, "", dst)


class FetchedModel:
    """A model directory fetched for one load (``with fetch_model(uri) as fetched: ...``).

    A temporary directory made for the download is removed when the ``with`` block ends,
    unless :meth:`keep_alive_with` handed it to the loaded object: then it goes when that
    object is garbage-collected (or the interpreter exits). A local model, or one downloaded
    to a ``dst_path`` the caller chose, is never removed.
    """

    def __init__(self, path: Path, temporary: Path | None) -> None:
        self.path = path
        self._temporary = temporary

    def keep_alive_with(self, owner: object) -> None:
        """Keep the files for as long as ``owner`` lives (a model that reads them lazily)."""
        if self._temporary is not None:
            weakref.finalize(owner, shutil.rmtree, self._temporary, ignore_errors=True)
            self._temporary = None

    def close(self) -> None:
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)
            self._temporary = None

    def __enter__(self) -> FetchedModel:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def fetch_model(
    model_uri: str, dst_path: str | Path | None = None, client: MlflowxClient | None = None
) -> FetchedModel:
    """:func:`download_model` for loading: the temporary directory is tracked for removal."""
    client = client or MlflowxClient()
    if dst_path is not None or not _is_remote(model_uri):
        return FetchedModel(_download_model(model_uri, dst_path, client), None)
    temporary = Path(tempfile.mkdtemp(prefix="mlflowx-m-"))
    fetched = FetchedModel(temporary, temporary)
    try:
        fetched.path = _download_model(model_uri, temporary, client)
    except BaseException:
        fetched.close()
        raise
    return fetched
