"""The artifact repository contract and the path rules every backend enforces."""

from __future__ import annotations

import posixpath
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from mlflowx.exceptions import InvalidParameter

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
    decoded = path
    for _ in range(5):  # %252e%252e -> %2e%2e -> ..
        nxt = unquote(decoded)
        if nxt == decoded:
            break
        decoded = nxt
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
