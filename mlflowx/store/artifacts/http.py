"""Artifacts through a tracking server's proxy (``/api/2.0/mlflow-artifacts/artifacts``)."""

from __future__ import annotations

import os
import posixpath
import tempfile
from pathlib import Path

from mlflowx.exceptions import InvalidParameter
from mlflowx.store.artifacts.base import ArtifactRepository, FileInfo, safe_artifact_path
from mlflowx.store.http import HttpSession, session_for

__all__ = ["PROXY_PATH", "HttpArtifactRepository", "proxy_uri"]

PROXY_PATH = "/api/2.0/mlflow-artifacts/artifacts"


def proxy_uri(tracking_uri: str, artifact_uri: str) -> str:
    """``mlflow-artifacts:/x`` (or ``mlflow-artifacts://host:port/x``) as an HTTP URL.

    A URI naming a host other than the tracking server's must be allowed by the settings
    (``MLFLOWX_ALLOWED_ARTIFACT_HOSTS``): files, and the tracking token with them, would go
    to that host.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(artifact_uri)
    tracking = urlsplit(tracking_uri)
    base = tracking_uri.rstrip("/")
    if parts.netloc and parts.netloc.lower() != tracking.netloc.lower():
        from mlflowx.store.locations import check_location

        check_location(artifact_uri, what="proxied artifact URI")
        base = f"{tracking.scheme or 'http'}://{parts.netloc}"
    return f"{base}{PROXY_PATH}/{parts.path.lstrip('/')}".rstrip("/")


class HttpArtifactRepository(ArtifactRepository):
    def __init__(self, artifact_uri: str, session: HttpSession | None = None) -> None:
        super().__init__(artifact_uri)
        if PROXY_PATH not in self.artifact_uri:
            raise InvalidParameter(
                f"Not an artifact proxy URI (expected .../{PROXY_PATH.lstrip('/')}/...): "
                f"{artifact_uri!r}"
            )
        server, _, prefix = self.artifact_uri.partition(PROXY_PATH)
        self.session = session or session_for(server)
        self.prefix = safe_artifact_path(prefix.strip("/"))

    def _path(self, artifact_path: str | None) -> str:
        rel = safe_artifact_path(artifact_path)
        return posixpath.join(self.prefix, rel) if rel else self.prefix

    def _url(self, artifact_path: str | None) -> str:
        return f"{PROXY_PATH}/{self._path(artifact_path)}"

    def log_artifact(self, local_file: str | Path, artifact_path: str | None = None) -> None:
        name = Path(local_file).name
        target = posixpath.join(safe_artifact_path(artifact_path), name)
        with open(local_file, "rb") as fh:
            self.session.request("PUT", self._url(target), content=fh, idempotent=True)

    def log_artifacts(self, local_dir: str | Path, artifact_path: str | None = None) -> None:
        root = Path(local_dir)
        base = safe_artifact_path(artifact_path)
        for dirpath, _, filenames in os.walk(root):
            rel = Path(dirpath).relative_to(root).as_posix()
            for filename in sorted(filenames):
                sub = posixpath.join(base, rel) if rel != "." else base
                self.log_artifact(Path(dirpath) / filename, sub or None)

    def write_bytes(self, artifact_file: str, data: bytes) -> None:
        if not safe_artifact_path(artifact_file):
            raise InvalidParameter("An artifact file name is required")
        self.session.request("PUT", self._url(artifact_file), content=data, idempotent=True)

    def read_bytes(self, artifact_file: str) -> bytes:
        return self.session.request("GET", self._url(artifact_file), idempotent=True).content

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        rel = safe_artifact_path(path)
        response = self.session.request(
            "GET", PROXY_PATH, params={"path": self._path(rel)}, idempotent=True
        )
        files = response.json().get("files", [])
        infos = [
            FileInfo(
                posixpath.join(rel, f["path"]) if rel else f["path"],
                bool(f.get("is_dir", False)),
                None if f.get("is_dir") else int(f.get("file_size", 0)),
            )
            for f in files
        ]
        return sorted(infos, key=lambda f: f.path)

    def _download_file(self, artifact_path: str, local: Path) -> None:
        from mlflowx.store.artifacts.resume import download_resumable

        local.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(local, "wb") as out:
                download_resumable(self.session, self._url(artifact_path), out)
        except BaseException:
            local.unlink(missing_ok=True)  # no half file left to pass for the artifact
            raise

    def download_artifacts(self, artifact_path: str, dst_path: str | Path | None = None) -> str:
        rel = safe_artifact_path(artifact_path)
        dst = Path(dst_path) if dst_path is not None else Path(tempfile.mkdtemp())
        children = self.list_artifacts(rel) if rel else self.list_artifacts()
        if not children and rel:
            local = dst / posixpath.basename(rel)
            self._download_file(rel, local)
            return str(local)
        local_root = dst / posixpath.basename(rel) if rel else dst
        stack = children
        local_root.mkdir(parents=True, exist_ok=True)
        while stack:
            info = stack.pop()
            target = local_root / (posixpath.relpath(info.path, rel) if rel else info.path)
            if info.is_dir:
                target.mkdir(parents=True, exist_ok=True)
                stack.extend(self.list_artifacts(info.path))
            else:
                self._download_file(info.path, target)
        return str(local_root)

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        rel = safe_artifact_path(artifact_path)
        if not rel and not self.prefix:
            raise InvalidParameter("Refusing to delete the whole artifact store")
        self.session.request("DELETE", self._url(rel), idempotent=True)
