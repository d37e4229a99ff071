"""Artifacts in a local directory (a plain path or a ``file://`` URI).

Every artifact path goes through :func:`safe_artifact_path`, and the real path it resolves to
(symlinks followed) must stay inside the real root: a symlink planted in the root that points
elsewhere is refused, never followed out.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit
from urllib.request import url2pathname

from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.store.artifacts.base import ArtifactRepository, FileInfo, safe_artifact_path

__all__ = ["LocalArtifactRepository", "local_path_from_uri", "walk_local_dir"]

_COPY_CHUNK = 1 << 20


def local_path_from_uri(uri: str) -> Path:
    """``file:///a/b%20c`` -> ``/a/b c``; a plain path is returned as is (made absolute)."""
    if uri.lower().startswith("file:"):
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost"):
            raise InvalidParameter(f"Unsupported file URI {uri!r}: remote hosts are not supported")
        return Path(url2pathname(parts.path)).absolute()
    return Path(uri).absolute()


def walk_local_dir(local_dir: str | Path) -> Iterator[tuple[Path, str]]:
    """Files under ``local_dir`` as ``(local path, '/'-separated path relative to it)``, sorted.

    Symlinks in the source are followed (the caller chose to upload them); directory cycles are
    skipped.
    """
    root = Path(local_dir)
    if not root.is_dir():
        raise NotFound(f"Local directory {str(local_dir)!r} does not exist")

    def walk(directory: Path, prefix: str, active: frozenset[str]) -> Iterator[tuple[Path, str]]:
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            rel = f"{prefix}{entry.name}"
            if entry.is_dir():
                real = os.path.realpath(entry.path)
                if real not in active:
                    yield from walk(Path(entry.path), f"{rel}/", active | {real})
            elif entry.is_file():
                yield Path(entry.path), rel

    yield from walk(root, "", frozenset({os.path.realpath(root)}))


def _is_within(real_root: str, real: str) -> bool:
    return real == real_root or os.path.commonpath([real_root, real]) == real_root


class LocalArtifactRepository(ArtifactRepository):
    """Artifacts under a directory of the local filesystem."""

    def __init__(self, artifact_uri: str) -> None:
        super().__init__(artifact_uri)
        self.root = local_path_from_uri(artifact_uri)

    # -- path resolution ----------------------------------------------------------------------

    def _real_root(self) -> str:
        return os.path.realpath(self.root)

    def _resolve(self, artifact_path: str | None) -> tuple[str, Path]:
        """``(normalised relative path, local path)``; refuses anything resolving outside."""
        rel = safe_artifact_path(artifact_path)
        target = self.root / rel if rel else self.root
        if rel and not _is_within(self._real_root(), os.path.realpath(target)):
            raise InvalidParameter(
                f"Invalid artifact path {artifact_path!r}: it resolves outside the artifact root"
            )
        return rel, target

    def _check_entry(self, path: str, rel: str, real_root: str) -> str:
        real = os.path.realpath(path)
        if not _is_within(real_root, real):
            raise InvalidParameter(
                f"Invalid artifact path {rel!r}: it resolves outside the artifact root"
            )
        return real

    # -- writing ------------------------------------------------------------------------------

    @contextmanager
    def artifact_writer(
        self, artifact_file: str, size_hint: int | None = None
    ) -> Iterator[BinaryIO]:
        del size_hint  # a local file just grows
        rel, target = self._resolve(artifact_file)
        if not rel:
            raise InvalidParameter("An artifact file path must not be empty")
        if target.is_dir():
            raise InvalidParameter(f"Cannot write {rel!r}: it is a directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        # The temp file lives next to the target so that os.replace is an atomic rename; O_EXCL
        # refuses a pre-planted symlink and 0o666 lets the umask decide the final mode.
        tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with open(fd, "wb") as out:
                yield out
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def _write(self, artifact_file: str, source: Path | bytes) -> None:
        with self.artifact_writer(artifact_file) as out:
            if isinstance(source, bytes):
                out.write(source)
            else:
                with open(source, "rb") as src:
                    shutil.copyfileobj(src, out, _COPY_CHUNK)

    def log_artifact(self, local_file: str | Path, artifact_path: str | None = None) -> None:
        local = Path(local_file)
        if not local.is_file():
            raise NotFound(f"Local file {str(local_file)!r} does not exist")
        directory = safe_artifact_path(artifact_path)
        self._write(f"{directory}/{local.name}" if directory else local.name, local)

    def log_artifacts(self, local_dir: str | Path, artifact_path: str | None = None) -> None:
        directory, target = self._resolve(artifact_path)
        files = list(walk_local_dir(local_dir))
        target.mkdir(parents=True, exist_ok=True)
        for local, rel in files:
            self._write(f"{directory}/{rel}" if directory else rel, local)

    def write_bytes(self, artifact_file: str, data: bytes) -> None:
        self._write(artifact_file, bytes(data))

    # -- reading ------------------------------------------------------------------------------

    def read_bytes(self, artifact_file: str) -> bytes:
        rel, target = self._resolve(artifact_file)
        if target.is_dir():
            raise InvalidParameter(f"Cannot read {rel!r}: it is a directory")
        try:
            return target.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"Artifact {rel!r} does not exist") from None

    def local_file(self, artifact_file: str) -> Path:
        """The artifact's real path (symlinks inside the root resolved)."""
        rel, target = self._resolve(artifact_file)
        if not rel or target.is_dir():
            raise InvalidParameter(f"Cannot read {rel or '/'!r}: it is a directory")
        real = Path(os.path.realpath(target))
        if not real.is_file():
            raise NotFound(f"Artifact {rel!r} does not exist")
        return real

    def open_artifact(self, artifact_file: str) -> BinaryIO:
        return open(self.local_file(artifact_file), "rb")

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        rel, target = self._resolve(path)
        if not target.is_dir():
            return []
        real_root = self._real_root()
        prefix = f"{rel}/" if rel else ""
        infos: list[FileInfo] = []
        for entry in os.scandir(target):
            child = f"{prefix}{entry.name}"
            try:
                if entry.is_symlink() and not _is_within(real_root, os.path.realpath(entry.path)):
                    continue  # never report (or stat) what an escaping symlink points at
                st = entry.stat()
            except OSError:  # dangling symlink, or removed while listing
                continue
            is_dir = stat.S_ISDIR(st.st_mode)
            infos.append(FileInfo(child, is_dir, None if is_dir else st.st_size))
        return sorted(infos, key=lambda info: info.path)

    def _walk_repo(
        self, directory: str, rel: str, real_root: str, active: frozenset[str]
    ) -> Iterator[tuple[str, str | None]]:
        """``(relative path, real file path or None for a directory)`` below ``directory``.

        Raises InvalidParameter if any entry resolves outside the root, before anything is
        yielded for it; internal symlinks are followed, cycles skipped.
        """
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            child = f"{rel}/{entry.name}" if rel else entry.name
            real = self._check_entry(entry.path, child, real_root)
            if os.path.isdir(real):
                if real in active:
                    continue
                yield child, None
                yield from self._walk_repo(real, child, real_root, active | {real})
            elif os.path.isfile(real):
                yield child, real

    def download_artifacts(self, artifact_path: str, dst_path: str | Path | None = None) -> str:
        rel, target = self._resolve(artifact_path)
        if not target.exists():
            raise NotFound(f"Artifact {rel or '/'!r} does not exist")
        real_root = self._real_root()
        if target.is_dir():
            real_dir = os.path.realpath(target)
            # Validate the whole tree before copying anything.
            entries = list(self._walk_repo(real_dir, "", real_root, frozenset({real_dir})))
        else:
            entries = [("", os.path.realpath(target))]
        dst_root = Path(dst_path) if dst_path is not None else Path(tempfile.mkdtemp())
        local = dst_root / rel if rel else dst_root
        if target.is_dir():
            local.mkdir(parents=True, exist_ok=True)
        for sub, real_file in entries:
            out = local / sub if sub else local
            if real_file is None:
                out.mkdir(parents=True, exist_ok=True)
            else:
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(real_file, out)
        return str(local)

    # -- deleting -----------------------------------------------------------------------------

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        rel, target = self._resolve(artifact_path)
        if not rel and target.is_symlink():
            # The configured root is a link: empty what it points at, keep the link.
            for entry in os.scandir(target):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
        elif target.is_symlink():
            target.unlink()  # an internal link: remove the link, not what it points at
        elif target.is_dir():
            # rmtree unlinks symlinks found inside rather than following them.
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
