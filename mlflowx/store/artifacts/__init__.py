"""Artifact repositories, chosen by the scheme of the artifact URI.

Backends register lazily: ``import mlflowx.store.artifacts`` imports neither fsspec nor any of
its filesystems; a backend's module is imported the first time a URI of its scheme is resolved.
Third-party repositories plug in through the ``mlflowx.artifact_repositories`` entry points.
"""

from __future__ import annotations

from mlflowx.store.artifacts.base import ArtifactRepository, FileInfo, safe_artifact_path
from mlflowx.store.schemes import SchemeRegistry

__all__ = [
    "FSSPEC_SCHEMES",
    "ArtifactRepository",
    "FileInfo",
    "artifact_repositories",
    "get_artifact_repository",
    "safe_artifact_path",
]

#: Schemes served by :class:`~mlflowx.store.artifacts.fsspec_repo.FsspecArtifactRepository`.
FSSPEC_SCHEMES = ("s3", "gs", "gcs", "az", "abfs", "abfss", "hdfs", "memory", "ftp", "sftp")

artifact_repositories = SchemeRegistry[ArtifactRepository](
    "artifact repository", "mlflowx.artifact_repositories"
)


@artifact_repositories.register("file")
def _local(uri: str) -> ArtifactRepository:
    from mlflowx.store.artifacts.local import LocalArtifactRepository

    return LocalArtifactRepository(uri)


@artifact_repositories.register(*FSSPEC_SCHEMES)
def _fsspec(uri: str) -> ArtifactRepository:
    from mlflowx.store.artifacts.fsspec_repo import FsspecArtifactRepository  # lazy: fsspec

    return FsspecArtifactRepository(uri)


@artifact_repositories.register("http", "https")
def _http(uri: str) -> ArtifactRepository:
    from mlflowx.store.artifacts.http import HttpArtifactRepository  # lazy: httpx

    return HttpArtifactRepository(uri)


def get_artifact_repository(uri: str) -> ArtifactRepository:
    """The artifact repository for ``uri`` (a plain path, ``file://``, ``s3://`` ...).

    Raises:
        InvalidParameter: no repository is registered for the URI's scheme; the message lists
            the known schemes.
    """
    return artifact_repositories.resolve(uri)
