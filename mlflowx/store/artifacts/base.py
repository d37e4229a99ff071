"""The artifact repository contract and the path rules every backend enforces."""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mlflowx.exceptions import InvalidParameter
from mlflowx.store.artifacts.multipart import (
    MultipartUpload,
    PresignedDownload,
    UploadedPart,
    unsupported,
    unsupported_download,
)
from mlflowx.store.locations import decode_until_stable

__all__ = ["ArtifactRepository", "FileInfo", "safe_artifact_path"]


@dataclass(slots=True, frozen=True)
class FileInfo:
    """An entry of an artifact listing (MLflow's ``FileInfo``)."""

    path: str
    is_dir: bool
    file_size: int | None = None


def safe_artifact_path(path: str | None) -> str:
    """Normalise a relative artifact path, refusing anything that could leave the root.

    Refused: absolute paths, ``..`` segments (also percent-encoded, once or several times),
    backslashes, NUL bytes, and drive letters. ``None``/``""``/``"."`` mean the root (``""``).
    """
    if path is None:
        return ""
    if not isinstance(path, str):
        raise InvalidParameter(f"Artifact path must be a string, got {type(path).__name__}")
    decoded = decode_until_stable(path, "artifact path")  # %252e%252e -> %2e%2e -> ..
    for candidate in (path, decoded):
        if "\x00" in candidate:
            raise InvalidParameter(f"Invalid artifact path {path!r}: it contains a NUL byte")
        if "\\" in candidate:
            raise InvalidParameter(f"Invalid artifact path {path!r}: backslashes are not allowed")
        if candidate.startswith("/") or (len(candidate) > 1 and candidate[1] == ":"):
            raise InvalidParameter(f"Invalid artifact path {path!r}: it must be relative")
        if ".." in candidate.split("/"):
            raise InvalidParameter(f"Invalid artifact path {path!r}: '..' is not allowed")
    normalized = posixpath.normpath(path)
    return "" if normalized == "." else normalized


class ArtifactRepository(ABC):
    """Files of one run (or model) under one root URI. Paths are relative, '/'-separated."""

    def __init__(self, artifact_uri: str) -> None:
        self.artifact_uri = artifact_uri.rstrip("/") if artifact_uri != "/" else artifact_uri

    @abstractmethod
    def log_artifact(self, local_file: str | Path, artifact_path: str | None = None) -> None:
        """Copy one local file into ``artifact_path`` (a directory), keeping its name."""

    @abstractmethod
    def log_artifacts(self, local_dir: str | Path, artifact_path: str | None = None) -> None:
        """Copy a local directory's contents into ``artifact_path``."""

    @abstractmethod
    def write_bytes(self, artifact_file: str, data: bytes) -> None:
        """Write ``data`` as the file ``artifact_file`` (used by log_text, log_dict, uploads)."""

    @abstractmethod
    def read_bytes(self, artifact_file: str) -> bytes: ...

    @abstractmethod
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """Direct children of ``path``, sorted by path; paths are relative to the root."""

    @abstractmethod
    def download_artifacts(self, artifact_path: str, dst_path: str | Path | None = None) -> str:
        """Download a file or directory; returns the local path of the copy."""

    @abstractmethod
    def delete_artifacts(self, artifact_path: str | None = None) -> None: ...

    # -- streaming (the server's artifact proxy) ----------------------------------------------
    # Backends that can read or write in place override these; the defaults go through a
    # temporary local copy, which is removed as soon as it is no longer needed.

    def local_file(self, artifact_file: str) -> Path | None:
        """The artifact as a file of this machine that can be read in place, if it is one.

        Raises:
            NotFound: there is no such artifact.
            InvalidParameter: the path is a directory, or not a valid artifact path.
        """
        return None

    def open_artifact(self, artifact_file: str) -> BinaryIO:
        """One artifact as a readable, seekable binary file, read from the store as it is
        consumed; the caller closes it.

        Raises:
            NotFound: there is no such artifact.
            InvalidParameter: the path is a directory, or not a valid artifact path.
        """
        rel = safe_artifact_path(artifact_file)
        if not rel:
            raise InvalidParameter("An artifact path is required to read a file")
        tmp = tempfile.mkdtemp(prefix="mlflowx-read-")
        try:
            local = self.download_artifacts(rel, tmp)
            if os.path.isdir(local):
                raise InvalidParameter(f"Cannot read {rel!r}: it is a directory")
            # Once open, the file outlives its name: nothing is left to clean up later.
            return open(local, "rb")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def open_versioned(self, artifact_file: str) -> tuple[BinaryIO, str | None]:
        """:meth:`open_artifact`, with an HTTP entity tag (quoted) of the content it reads, or
        ``None`` when the store cannot tell one (then ranges cannot be resumed safely)."""
        return self.open_artifact(artifact_file), None

    @contextmanager
    def artifact_writer(
        self, artifact_file: str, size_hint: int | None = None
    ) -> Iterator[BinaryIO]:
        """Write the file ``artifact_file`` through a binary file object.

        The artifact appears (or is replaced) only when the ``with`` block ends without an
        error; an error leaves nothing behind, and an existing file as it was where the
        backend allows it. ``size_hint``: the size announced for the file, if known (an object
        store sizes its upload's parts by it).
        """
        del size_hint  # the local copy just grows
        rel = safe_artifact_path(artifact_file)
        if not rel:
            raise InvalidParameter("An artifact file path must not be empty")
        tmp = Path(tempfile.mkdtemp(prefix="mlflowx-write-"))
        try:
            local = tmp / posixpath.basename(rel)
            with open(local, "wb") as out:
                yield out
            self.log_artifact(local, posixpath.dirname(rel) or None)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # -- transfers straight to and from the store (see multipart.py) --------------------------
    # Only stores that presign URLs override these.

    #: This store presigns URLs: clients may send and fetch files to and from it directly.
    presigns: bool = False

    def presigned_download(self, artifact_file: str, expires_s: int = 300) -> PresignedDownload:
        """A URL the client GETs ``artifact_file`` from (ranges allowed), valid ``expires_s``
        seconds, with the file's size.

        Raises:
            NotImplementedByBackend: this store cannot (MLflow's message, for its fallback).
            NotFound: there is no such file.
        """
        raise unsupported_download(type(self).__name__)

    def create_multipart_upload(
        self, artifact_file: str, num_parts: int, expires_s: int = 3600
    ) -> MultipartUpload:
        """Start an upload of ``artifact_file`` in ``num_parts`` parts, each with a URL the
        client PUTs it to (valid ``expires_s`` seconds).

        Raises:
            NotImplementedByBackend: this store cannot (MLflow's message, for its fallback).
        """
        raise unsupported(type(self).__name__)

    def complete_multipart_upload(
        self, artifact_file: str, upload_id: str, parts: list[UploadedPart]
    ) -> None:
        """Publish the uploaded ``parts`` as the file ``artifact_file``."""
        raise unsupported(type(self).__name__)

    def abort_multipart_upload(self, artifact_file: str, upload_id: str) -> None:
        """Throw away an upload and the parts it received."""
        raise unsupported(type(self).__name__)
