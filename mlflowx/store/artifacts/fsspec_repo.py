"""Artifacts on any fsspec filesystem: S3, GCS, Azure, HDFS, (S)FTP, in-memory.

Paths go through :func:`safe_artifact_path`; names read back from the store (listings, directory
downloads) are checked again, so an object key such as ``run/../../x`` planted by someone else
cannot make a download write outside its destination. Files are streamed with
``put_file``/``get_file`` or ``open``, never read whole, except by :meth:`read_bytes`.

Only single-path fsspec calls are used on artifact paths (no ``rm(path, recursive=True)``,
``put``/``get`` of trees): those expand glob patterns, so a name with ``*``, ``?`` or ``[`` could
match, and delete, other runs' files.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO, cast

from fsspec.core import url_to_fs

from mlflowx import settings
from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.store.artifacts.base import ArtifactRepository, FileInfo, safe_artifact_path
from mlflowx.store.artifacts.local import walk_local_dir
from mlflowx.store.artifacts.multipart import (
    MAX_PARTS,
    MultipartUpload,
    PartUrl,
    PresignedDownload,
    UploadedPart,
    unsupported,
    unsupported_download,
)
from mlflowx.store.artifacts.s3_stream import S3ObjectReader, S3ObjectWriter
from mlflowx.store.artifacts.validators import entity_tag
from mlflowx.store.schemes import scheme_of

__all__ = ["FsspecArtifactRepository", "default_storage_options"]

# Stores where directories are implicit (key prefixes): no mkdir/rmdir, requests are remote.
_OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oss"})
#: What to install for a scheme whose fsspec filesystem package is missing.
_INSTALL = {
    "s3": "'mlflowx[s3]'",
    "s3a": "'mlflowx[s3]'",
    "gs": "gcsfs",
    "gcs": "gcsfs",
    "az": "adlfs",
    "abfs": "adlfs",
    "abfss": "adlfs",
    "hdfs": "pyarrow",
    "sftp": "paramiko",
}
_GLOB_CHARS = frozenset("*?[")
_TRANSFER_THREADS = 8
#: The buffer of a file object written to (or read from) an object store: the part size of
#: its multipart upload, the read-ahead of a download. Other object stores' files (fsspec's)
#: hold about 2.5 parts at the server's proxy (measured with s3fs's: 16 MiB parts add ~57 MiB,
#: 8 MiB ~38 MiB); an S3 upload holds about 2 per part on its way plus the one filling.
#: fsspec's default for S3 is 50 MiB. Of unknown size, 16 MiB parts allow 160 GB files (S3
#: takes 10,000 parts); of a known size, parts are as small as that allows, 8 MiB at least
#: (boto3's default part size).
_WRITE_BLOCK = 16 * 2**20
_MIN_PART = 8 * 2**20
_MAX_PARTS_USED = 9_000  # below S3's 10,000: a size hint that is a little short still fits
_READ_BLOCK = 8 * 2**20
#: Bytes of parts an S3 upload sends at once while the next part fills (two 8 MiB parts, one of
#: 16 MiB): the proxy keeps reading the client meanwhile. Measured on moto, 256 MiB of 8 MiB
#: parts: one part at a time (s3fs) 23 MiB added, 2 on their way 40 MiB, 4 on their way 68 MiB.
_S3_BYTES_IN_FLIGHT = 16 * 2**20
#: Seconds botocore waits for an answer to start. s3fs's 15 s is shorter than an S3-protocol
#: server may take to assemble a large multipart upload (moto: 11 s for 2 GiB on an idle
#: machine, far longer under load); botocore then sends CompleteMultipartUpload again while
#: the first is still running, and the two race (moto answers 500). AWS keeps the connection
#: alive while it completes; servers that do not need the time.
_S3_READ_TIMEOUT = 300


def default_storage_options(uri: str) -> dict[str, Any]:
    """Options for ``url_to_fs`` taken from the environment.

    S3: the endpoint comes from ``MLFLOWX_S3_ENDPOINT_URL``, falling back to MLflow's
    ``MLFLOW_S3_ENDPOINT_URL``; credentials are botocore's usual ones (``AWS_*`` variables,
    profiles, instance roles). Listing caches are off, since other processes write too; the
    read timeout is long enough for a large multipart upload's completion.
    """
    if scheme_of(uri) not in ("s3", "s3a"):
        return {}
    options: dict[str, Any] = {
        "use_listings_cache": False,
        "config_kwargs": {"read_timeout": _S3_READ_TIMEOUT},
    }
    endpoint = settings.env("MLFLOWX_S3_ENDPOINT_URL")
    if endpoint:
        options["client_kwargs"] = {"endpoint_url": endpoint}
    return options


class FsspecArtifactRepository(ArtifactRepository):
    """Artifacts under a prefix of an fsspec filesystem."""

    def __init__(self, artifact_uri: str, storage_options: Mapping[str, Any] | None = None) -> None:
        super().__init__(artifact_uri)
        options = (
            dict(storage_options)
            if storage_options is not None
            else default_storage_options(artifact_uri)
        )
        scheme = scheme_of(artifact_uri)
        try:
            fs, root = url_to_fs(self.artifact_uri, **options)
        except ImportError as exc:
            # A 400 naming the fix, not a server error: the location is fine, this install
            # lacks the package that reads it.
            package = _INSTALL.get(scheme)
            hint = f"; install it with: pip install {package}" if package else ""
            raise InvalidParameter(
                f"Artifact URIs {scheme}:// need a package this installation lacks{hint} ({exc})"
            ) from exc
        self.fs: Any = fs
        self._root = self._norm(root)
        protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
        self._object_store = bool(_OBJECT_STORES.intersection(protocols))
        self._s3 = bool({"s3", "s3a"}.intersection(protocols))
        self.presigns = self._s3

    # -- paths --------------------------------------------------------------------------------

    def _norm(self, path: str) -> str:
        return str(self.fs._strip_protocol(path)).rstrip("/")

    def _full(self, artifact_path: str | None) -> tuple[str, str]:
        rel = safe_artifact_path(artifact_path)
        if not rel:
            return rel, self._root
        return rel, f"{self._root}/{rel}" if self._root else rel

    def _below(self, base: str, name: str) -> str | None:
        """``name`` relative to ``base`` if it is strictly below it, else None."""
        name = str(name).rstrip("/")
        prefix = f"{base}/" if base else ""
        if not name.startswith(prefix) or name == base:
            return None
        return name[len(prefix) :]

    def _run(self, func: Callable[[str, str], object], pairs: list[tuple[str, str]]) -> None:
        """Transfers, concurrently on object stores (fsspec's sync API is thread-safe)."""
        if not self._object_store or len(pairs) < 2:
            for a, b in pairs:
                func(a, b)
            return
        with ThreadPoolExecutor(min(_TRANSFER_THREADS, len(pairs))) as pool:
            for future in [pool.submit(func, a, b) for a, b in pairs]:
                future.result()

    # -- writing ------------------------------------------------------------------------------

    def _target(self, artifact_file: str) -> str:
        rel, full = self._full(artifact_file)
        if not rel:
            raise InvalidParameter("An artifact file path must not be empty")
        if not self._object_store:
            if self.fs.isdir(full):
                raise InvalidParameter(f"Cannot write {rel!r}: it is a directory")
            self.fs.makedirs(self.fs._parent(full), exist_ok=True)
        return full

    def _put(self, files: Iterable[tuple[Path, str]]) -> None:
        pairs = [(str(local), self._target(rel)) for local, rel in files]
        self._run(self.fs.put_file, pairs)

    def log_artifact(self, local_file: str | Path, artifact_path: str | None = None) -> None:
        local = Path(local_file)
        if not local.is_file():
            raise NotFound(f"Local file {str(local_file)!r} does not exist")
        directory = safe_artifact_path(artifact_path)
        self._put([(local, f"{directory}/{local.name}" if directory else local.name)])

    def log_artifacts(self, local_dir: str | Path, artifact_path: str | None = None) -> None:
        directory = safe_artifact_path(artifact_path)
        self._put(
            (local, f"{directory}/{rel}" if directory else rel)
            for local, rel in walk_local_dir(local_dir)
        )

    def write_bytes(self, artifact_file: str, data: bytes) -> None:
        self.fs.pipe_file(self._target(artifact_file), bytes(data))

    @contextmanager
    def artifact_writer(
        self, artifact_file: str, size_hint: int | None = None
    ) -> Iterator[BinaryIO]:
        full = self._target(artifact_file)
        if self._object_store:
            # Object stores publish a key only when its upload completes (a one-shot PUT, or
            # the multipart upload's completion at close): discarding the file aborts it.
            part = _part_size(size_hint)
            out: Any = (
                S3ObjectWriter(self.fs, full, part, max(1, _S3_BYTES_IN_FLIGHT // part))
                if self._s3
                else self.fs.open(full, "wb", block_size=part)
            )
            try:
                yield out
            except BaseException:
                _abandon(out)
                raise
            out.close()
            return
        # Elsewhere bytes land as they are written: write beside the target, then rename.
        parent, _, name = full.rpartition("/")
        tmp = f"{parent}/.{name}.{uuid.uuid4().hex}.tmp"
        try:
            with self.fs.open(tmp, "wb") as out:
                yield out
            self.fs.mv(tmp, full)
        except BaseException:
            with suppress(OSError):
                self.fs.rm_file(tmp)
            raise

    # -- reading ------------------------------------------------------------------------------

    def read_bytes(self, artifact_file: str) -> bytes:
        rel, full = self._full(artifact_file)
        if not rel:
            raise InvalidParameter("Cannot read '': it is a directory")
        try:
            data: bytes = self.fs.cat_file(full)
        except (FileNotFoundError, IsADirectoryError):
            if self.fs.isdir(full):
                raise InvalidParameter(f"Cannot read {rel!r}: it is a directory") from None
            raise NotFound(f"Artifact {rel!r} does not exist") from None
        return data

    def _file_info(self, artifact_file: str, verb: str) -> tuple[str, str, dict[str, Any]]:
        """The relative and full path of a stored file and fsspec's info on it; a missing path
        or a directory is refused, naming the path and what could not be done to it."""
        rel, full = self._full(artifact_file)
        try:
            info = self.fs.info(full) if rel else {"type": "directory"}
        except FileNotFoundError:
            raise NotFound(f"Artifact {rel!r} does not exist") from None
        if info.get("type") == "directory":
            raise InvalidParameter(f"Cannot {verb} {rel or '/'!r}: it is a directory")
        return rel, full, info

    def open_artifact(self, artifact_file: str) -> BinaryIO:
        return self.open_versioned(artifact_file)[0]

    def open_versioned(self, artifact_file: str) -> tuple[BinaryIO, str | None]:
        _, full, info = self._file_info(artifact_file, "read")
        if self._s3:
            # One streaming GET instead of one ranged GET per block; If-Match on the tag.
            etag = entity_tag(info)
            raw = info.get("ETag") if etag else None
            reader = S3ObjectReader(self.fs, full, int(info.get("size") or 0), raw)
            return cast(BinaryIO, reader), etag
        handle: BinaryIO = self.fs.open(full, "rb", block_size=_READ_BLOCK)
        # An object store's file describes the version it reads (s3fs reads it with
        # If-Match: a replacement mid-stream fails the read instead of mixing two files).
        details = getattr(handle, "details", None)
        return handle, entity_tag(details if isinstance(details, dict) else info)

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        rel, full = self._full(path)
        try:
            entries = self.fs.ls(full, detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return []
        prefix = f"{rel}/" if rel else ""
        infos: dict[str, FileInfo] = {}
        for entry in entries:
            name = str(entry["name"]).rstrip("/")
            is_dir = entry.get("type") == "directory"
            if name == full:
                if not is_dir:
                    return []  # ``path`` is a file: MLflow lists nothing
                continue
            child = self._below(full, name)
            if child is None or "/" in child:
                continue
            try:
                if safe_artifact_path(prefix + child) != prefix + child:
                    continue
            except InvalidParameter:
                continue  # a key nobody could address through this API (``..``, ``\\`` ...)
            size = None if is_dir else int(entry.get("size") or 0)
            infos.setdefault(prefix + child, FileInfo(prefix + child, is_dir, size))
        return sorted(infos.values(), key=lambda info: info.path)

    def download_artifacts(self, artifact_path: str, dst_path: str | Path | None = None) -> str:
        rel, full = self._full(artifact_path)
        try:
            info = self.fs.info(full)
        except FileNotFoundError:
            raise NotFound(f"Artifact {rel or '/'!r} does not exist") from None
        dst_root = Path(dst_path) if dst_path is not None else Path(tempfile.mkdtemp())
        local = dst_root / rel if rel else dst_root
        if info.get("type") != "directory":
            local.parent.mkdir(parents=True, exist_ok=True)
            self.fs.get_file(full, str(local))
            return str(local)
        pairs: list[tuple[str, str]] = []
        for name in sorted(self.fs.find(full)):
            if str(name).endswith("/"):
                continue  # a "directory marker" object
            sub = self._below(full, name)
            if sub is None:
                continue
            # Validate every remote name before writing anything locally.
            if safe_artifact_path(sub) != sub:
                raise InvalidParameter(f"Invalid artifact path {sub!r} in {rel or '/'!r}")
            pairs.append((str(name), str(local / sub)))
        local.mkdir(parents=True, exist_ok=True)
        for _, out in pairs:
            Path(out).parent.mkdir(parents=True, exist_ok=True)
        self._run(self.fs.get_file, pairs)
        return str(local)

    # -- multipart uploads straight to S3 -----------------------------------------------------

    def _s3_key(self, artifact_file: str) -> tuple[str, str, str]:
        if not self._s3:
            raise unsupported(f"{scheme_of(self.artifact_uri)}:// artifact stores")
        full = self._target(artifact_file)
        bucket, key, _ = self.fs.split_path(full)
        return full, bucket, key

    def create_multipart_upload(
        self, artifact_file: str, num_parts: int, expires_s: int = 3600
    ) -> MultipartUpload:
        if not 1 <= num_parts <= MAX_PARTS:
            raise InvalidParameter(
                f"num_parts must be between 1 and {MAX_PARTS} (S3's limit), got {num_parts}"
            )
        full, bucket, key = self._s3_key(artifact_file)
        upload_id = str(
            self.fs.call_s3("create_multipart_upload", Bucket=bucket, Key=key)["UploadId"]
        )
        urls = [
            PartUrl(
                n, self.fs.url(full, expires_s, "upload_part", PartNumber=n, UploadId=upload_id)
            )
            for n in range(1, num_parts + 1)
        ]
        return MultipartUpload(upload_id, urls)

    def complete_multipart_upload(
        self, artifact_file: str, upload_id: str, parts: list[UploadedPart]
    ) -> None:
        full, bucket, key = self._s3_key(artifact_file)
        ordered = sorted(parts, key=lambda p: p.part_number)
        listed = [{"PartNumber": p.part_number, "ETag": p.etag} for p in ordered]
        try:
            self.fs.call_s3(
                "complete_multipart_upload",
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": listed},
            )
        except FileNotFoundError:
            raise NotFound(f"No multipart upload {upload_id!r} of {artifact_file!r}") from None
        except (OSError, ValueError) as exc:
            raise InvalidParameter(
                f"Could not complete the multipart upload of {artifact_file!r}: {exc}"
            ) from exc
        self.fs.invalidate_cache(full)

    def presigned_download(self, artifact_file: str, expires_s: int = 300) -> PresignedDownload:
        if not self._s3:
            raise unsupported_download(f"{scheme_of(self.artifact_uri)}:// artifact stores")
        rel, full, info = self._file_info(artifact_file, "download")
        # Saved under its own name, never shown inline by a browser (as MLflow signs it).
        name = rel.rsplit("/", 1)[-1].replace('"', "")
        url = self.fs.url(
            full, expires_s, ResponseContentDisposition=f'attachment; filename="{name}"'
        )
        return PresignedDownload(str(url), int(info.get("size") or 0))

    def abort_multipart_upload(self, artifact_file: str, upload_id: str) -> None:
        _, bucket, key = self._s3_key(artifact_file)
        try:
            self.fs.call_s3("abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id)
        except FileNotFoundError:
            raise NotFound(f"No multipart upload {upload_id!r} of {artifact_file!r}") from None

    # -- deleting -----------------------------------------------------------------------------

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        _, full = self._full(artifact_path)
        try:
            info = self.fs.info(full)
        except FileNotFoundError:
            return
        if info.get("type") != "directory":
            self.fs.rm_file(full)
            return
        found: dict[str, dict[str, Any]] = self.fs.find(full, withdirs=True, detail=True)
        files = [name for name, i in found.items() if i.get("type") != "directory"]
        if self._object_store and files and not any(_GLOB_CHARS & set(f) for f in files):
            self.fs.rm(files)  # batched DeleteObjects; no glob chars, so no expansion
        else:
            for name in files:
                self.fs.rm_file(name)
        if self._object_store:
            return
        dirs = {name for name, i in found.items() if i.get("type") == "directory"} | {full}
        for name in sorted(dirs, key=len, reverse=True):
            try:
                self.fs.rmdir(name)
            except OSError:  # implicit directory, already gone with its files
                pass


def _part_size(size_hint: int | None) -> int:
    """The part size of a multipart upload of ``size_hint`` bytes (whole MiB)."""
    if size_hint is None:
        return _WRITE_BLOCK
    needed = -(-size_hint // _MAX_PARTS_USED)
    return max(_MIN_PART, -(-needed // 2**20) * 2**20)


def _abandon(handle: Any) -> None:
    """Throw away a half-written object-store file without publishing it."""
    try:
        discard = getattr(handle, "discard", None)
        if callable(discard):
            discard()  # aborts a multipart upload; a small file was never sent
    finally:
        # Mark it closed, or closing it (now or when collected) would upload what was written.
        with suppress(AttributeError):
            handle.closed = True
