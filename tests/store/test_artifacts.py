"""Artifact repositories: one contract suite over local, fsspec ``memory://`` and S3 (moto)."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.store.artifacts import (
    FSSPEC_SCHEMES,
    ArtifactRepository,
    FileInfo,
    artifact_repositories,
    fsspec_repo,
    get_artifact_repository,
)
from mlflowx.store.artifacts.fsspec_repo import FsspecArtifactRepository, default_storage_options
from mlflowx.store.artifacts.local import LocalArtifactRepository

BUCKET = "mlflowx-artifacts"
MiB = 1 << 20

RepoFactory = Callable[[str], ArtifactRepository]


# -- fixtures ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real S3 API (moto's server) on a free local port, with one bucket."""
    import boto3
    import moto.server as moto_server

    server = moto_server.ThreadedMotoServer(
        ip_address="127.0.0.1", port=_free_port(), verbose=False
    )
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture
def s3_base(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Fake credentials and the endpoint in the environment; a fresh prefix per test."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "MLFLOWX_S3_ENDPOINT_URL": moto_endpoint,
        "NO_PROXY": "127.0.0.1,localhost",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "MLFLOW_S3_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    return f"s3://{BUCKET}/{uuid.uuid4().hex}"


@pytest.fixture(params=["local", "memory", pytest.param("s3", marks=pytest.mark.s3)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_repo(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[RepoFactory]:
    """Repositories of one backend, at ``<base>/<name>``; ``""`` gives the common parent."""
    if backend == "local":
        base = str(tmp_path / "artifacts")
    elif backend == "memory":
        base = f"memory://mlflowx-test-{uuid.uuid4().hex}"
    else:
        base = request.getfixturevalue("s3_base")
    made: list[ArtifactRepository] = []

    def make(name: str) -> ArtifactRepository:
        repo = get_artifact_repository(f"{base}/{name}" if name else base)
        made.append(repo)
        return repo

    yield make
    if backend == "memory":  # the in-memory filesystem is process-global
        for repo in made:
            repo.delete_artifacts()


@pytest.fixture
def repo(make_repo: RepoFactory) -> ArtifactRepository:
    return make_repo("run")


def tree(repo: ArtifactRepository, path: str = "") -> dict[str, bytes]:
    """Every file under ``path``, read back through the repository's own API."""
    out: dict[str, bytes] = {}
    for info in repo.list_artifacts(path):
        if info.is_dir:
            out.update(tree(repo, info.path))
        else:
            out[info.path] = repo.read_bytes(info.path)
    return out


def local_tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


# -- contract: writing and reading -------------------------------------------------------------


def test_write_bytes_read_bytes_round_trip(repo: ArtifactRepository) -> None:
    repo.write_bytes("a.txt", b"hello")
    repo.write_bytes("x/y/z.bin", bytes(range(256)))

    assert repo.read_bytes("a.txt") == b"hello"
    assert repo.read_bytes("x/y/z.bin") == bytes(range(256))
    assert repo.read_bytes("./x//y/z.bin") == bytes(range(256))

    repo.write_bytes("a.txt", b"overwritten")
    assert repo.read_bytes("a.txt") == b"overwritten"


def test_log_artifact_keeps_the_file_name(repo: ArtifactRepository, tmp_path: Path) -> None:
    local = tmp_path / "src" / "model.pkl"
    write_tree(tmp_path / "src", {"model.pkl": b"weights"})

    repo.log_artifact(local)
    repo.log_artifact(str(local), "nested/dir")

    assert tree(repo) == {"model.pkl": b"weights", "nested/dir/model.pkl": b"weights"}


def test_log_artifacts_copies_a_directory_recursively(
    repo: ArtifactRepository, tmp_path: Path
) -> None:
    files = {"a.txt": b"a", "nested/b.txt": b"b", "nested/deeper/c.txt": b"c"}
    src = write_tree(tmp_path / "src", files)

    repo.log_artifacts(src)
    repo.log_artifacts(str(src), "copy/here")

    expected = files | {f"copy/here/{rel}": data for rel, data in files.items()}
    assert tree(repo) == expected


def test_missing_local_sources_are_not_found(repo: ArtifactRepository, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        repo.log_artifact(tmp_path / "nope.txt")
    with pytest.raises(NotFound, match="does not exist"):
        repo.log_artifacts(tmp_path / "nope")


def test_read_missing_file_is_not_found(repo: ArtifactRepository) -> None:
    with pytest.raises(NotFound, match=r"missing\.txt"):
        repo.read_bytes("missing.txt")


def test_read_directory_is_refused(repo: ArtifactRepository) -> None:
    repo.write_bytes("d/f.txt", b"x")

    with pytest.raises(InvalidParameter, match="directory"):
        repo.read_bytes("d")
    with pytest.raises(InvalidParameter, match="directory"):
        repo.read_bytes("")


def test_empty_file_path_is_refused(repo: ArtifactRepository) -> None:
    with pytest.raises(InvalidParameter, match="must not be empty"):
        repo.write_bytes("", b"x")


# -- contract: listing ------------------------------------------------------------------------


def test_list_artifacts_returns_sorted_direct_children(repo: ArtifactRepository) -> None:
    repo.write_bytes("b.txt", b"12345")
    repo.write_bytes("a/one.txt", b"1")
    repo.write_bytes("a/sub/two.txt", b"22")
    repo.write_bytes("c/three.txt", b"333")

    assert repo.list_artifacts() == [
        FileInfo("a", is_dir=True, file_size=None),
        FileInfo("b.txt", is_dir=False, file_size=5),
        FileInfo("c", is_dir=True, file_size=None),
    ]
    assert repo.list_artifacts(None) == repo.list_artifacts("") == repo.list_artifacts(".")
    assert repo.list_artifacts("a") == [
        FileInfo("a/one.txt", is_dir=False, file_size=1),
        FileInfo("a/sub", is_dir=True, file_size=None),
    ]
    assert repo.list_artifacts("a/sub/") == [FileInfo("a/sub/two.txt", False, 2)]


def test_listing_a_file_or_a_missing_path_is_empty(repo: ArtifactRepository) -> None:
    assert repo.list_artifacts() == []
    repo.write_bytes("a/file.txt", b"x")

    assert repo.list_artifacts("a/file.txt") == []
    assert repo.list_artifacts("missing") == []
    assert repo.list_artifacts("a/missing/deeper") == []


def test_sibling_prefix_is_not_part_of_the_repository(make_repo: RepoFactory) -> None:
    run1, run10 = make_repo("run1"), make_repo("run10")
    run1.write_bytes("f.txt", b"1")
    run10.write_bytes("f.txt", b"10")

    assert tree(run1) == {"f.txt": b"1"}
    run1.delete_artifacts()

    assert tree(run1) == {}
    assert tree(run10) == {"f.txt": b"10"}


# -- contract: downloading --------------------------------------------------------------------


def test_download_a_file(repo: ArtifactRepository, tmp_path: Path) -> None:
    repo.write_bytes("sub/f.txt", b"payload")

    local = repo.download_artifacts("sub/f.txt", tmp_path / "dst")

    assert Path(local) == tmp_path / "dst" / "sub" / "f.txt"
    assert Path(local).read_bytes() == b"payload"


def test_download_to_a_new_temporary_directory(repo: ArtifactRepository, tmp_path: Path) -> None:
    repo.write_bytes("f.txt", b"payload")

    local = Path(repo.download_artifacts("f.txt"))

    assert local.name == "f.txt"
    assert local.read_bytes() == b"payload"
    assert tmp_path not in local.parents
    local.unlink()
    local.parent.rmdir()


def test_download_a_directory(repo: ArtifactRepository, tmp_path: Path) -> None:
    files = {"model/MLmodel": b"flavors: {}", "model/data/w.bin": b"\x00\x01", "top.txt": b"t"}
    for rel, data in files.items():
        repo.write_bytes(rel, data)

    model = Path(repo.download_artifacts("model", tmp_path / "one"))
    everything = Path(repo.download_artifacts("", tmp_path / "all"))

    assert model == tmp_path / "one" / "model"
    assert local_tree(model) == {"MLmodel": b"flavors: {}", "data/w.bin": b"\x00\x01"}
    assert everything == tmp_path / "all"
    assert local_tree(everything) == files


def test_download_missing_is_not_found(repo: ArtifactRepository, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="missing"):
        repo.download_artifacts("missing", tmp_path)


# -- contract: deleting -----------------------------------------------------------------------


def test_delete_file_directory_and_root(repo: ArtifactRepository) -> None:
    for rel in ("keep.txt", "gone.txt", "dir/a.txt", "dir/sub/b.txt", "other/c.txt"):
        repo.write_bytes(rel, rel.encode())

    repo.delete_artifacts("gone.txt")
    repo.delete_artifacts("dir")
    repo.delete_artifacts("never-existed")

    assert tree(repo) == {"keep.txt": b"keep.txt", "other/c.txt": b"other/c.txt"}
    with pytest.raises(NotFound, match=r"gone\.txt"):
        repo.read_bytes("gone.txt")

    repo.delete_artifacts()
    assert repo.list_artifacts() == []


def test_glob_characters_are_literal(repo: ArtifactRepository) -> None:
    for rel in ("a[1].txt", "a1.txt", "star*.txt", "starry.txt", "d[1]/x", "d1/x", "q?/y", "qq/y"):
        repo.write_bytes(rel, b"x")

    repo.delete_artifacts("a[1].txt")
    repo.delete_artifacts("star*.txt")
    repo.delete_artifacts("d[1]")
    repo.delete_artifacts("q?")

    assert sorted(tree(repo)) == ["a1.txt", "d1/x", "qq/y", "starry.txt"]


# -- contract: names and sizes ----------------------------------------------------------------


def test_unicode_and_spaces_in_names(repo: ArtifactRepository, tmp_path: Path) -> None:
    names = ["dír ü/naïve file 名前.txt", "with space.txt", "emoji 🚀/a b.json", "100%.txt"]
    for name in names:
        repo.write_bytes(name, name.encode())
    local = tmp_path / "src" / "été 2024.csv"
    write_tree(tmp_path / "src", {"été 2024.csv": b"a,b"})
    repo.log_artifact(local, "données brutes")

    expected = {name: name.encode() for name in names} | {"données brutes/été 2024.csv": b"a,b"}
    assert tree(repo) == expected
    assert [info.path for info in repo.list_artifacts("dír ü")] == ["dír ü/naïve file 名前.txt"]
    downloaded = Path(repo.download_artifacts("", tmp_path / "dst"))
    assert local_tree(downloaded) == expected

    repo.delete_artifacts("dír ü")
    assert "dír ü/naïve file 名前.txt" not in tree(repo)


def test_empty_files(repo: ArtifactRepository, tmp_path: Path) -> None:
    write_tree(tmp_path / "src", {"empty.txt": b""})
    repo.log_artifact(tmp_path / "src" / "empty.txt")
    repo.write_bytes("dir/also-empty", b"")

    assert repo.list_artifacts() == [FileInfo("dir", True, None), FileInfo("empty.txt", False, 0)]
    assert repo.read_bytes("dir/also-empty") == b""
    downloaded = Path(repo.download_artifacts("", tmp_path / "dst"))
    assert local_tree(downloaded) == {"empty.txt": b"", "dir/also-empty": b""}


def _forbid_whole_file_io(repo: ArtifactRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    """On fsspec, uploads and downloads must stream: whole-object calls are made to fail."""
    if not isinstance(repo, FsspecArtifactRepository):
        return

    def whole_file(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a file was read or written whole instead of streamed")

    for name in ("cat_file", "cat", "pipe_file", "pipe"):
        monkeypatch.setattr(repo.fs, name, whole_file)


def test_large_file_is_streamed(
    repo: ArtifactRepository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with big.open("wb") as f:
        for _ in range(20):
            chunk = os.urandom(MiB)
            digest.update(chunk)
            f.write(chunk)

    with monkeypatch.context() as m:
        _forbid_whole_file_io(repo, m)
        repo.log_artifact(big, "data")
        local = Path(repo.download_artifacts("data/big.bin", tmp_path / "dst"))
        whole_dir = Path(repo.download_artifacts("data", tmp_path / "dst2"))

    assert repo.list_artifacts("data") == [FileInfo("data/big.bin", False, 20 * MiB)]
    for copy in (local, whole_dir / "big.bin"):
        assert copy.stat().st_size == 20 * MiB
        with copy.open("rb") as f:
            assert hashlib.file_digest(f, "sha256").hexdigest() == digest.hexdigest()


# -- contract: path escapes -------------------------------------------------------------------

ESCAPES = [
    "../x",
    "..",
    "a/../../x",
    "a/..",
    "/etc/passwd",
    "//etc/passwd",
    "%2e%2e/x",
    "%2E%2E/x",
    "%252e%252e/x",
    "..%2fx",
    "%2fetc%2fpasswd",
    "..\\x",
    "a\\..\\..\\x",
    "C:\\x",
    "C:/x",
    "x\x00y",
    "x%00y",
]


@pytest.mark.parametrize("bad", ESCAPES)
def test_path_escapes_are_refused(make_repo: RepoFactory, tmp_path: Path, bad: str) -> None:
    repo, parent = make_repo("run"), make_repo("")
    repo.write_bytes("keep.txt", b"keep")
    src = write_tree(tmp_path / "src", {"x": b"evil", "d/x": b"evil"})
    dst = tmp_path / "dst"

    refuse = pytest.raises(InvalidParameter, match="Invalid artifact path")
    with refuse:
        repo.write_bytes(bad, b"evil")
    with refuse:
        repo.write_bytes(f"{bad}/x", b"evil")
    with refuse:
        repo.read_bytes(bad)
    with refuse:
        repo.list_artifacts(bad)
    with refuse:
        repo.download_artifacts(bad, dst)
    with refuse:
        repo.delete_artifacts(bad)
    with refuse:
        repo.log_artifact(src / "x", bad)
    with refuse:
        repo.log_artifacts(src, bad)

    assert tree(parent) == {"run/keep.txt": b"keep"}
    assert not dst.exists()
    assert local_tree(src) == {"x": b"evil", "d/x": b"evil"}


@pytest.mark.parametrize("backend", ["memory", pytest.param("s3", marks=pytest.mark.s3)])
def test_planted_remote_keys_cannot_escape_a_download(
    backend: str, repo: ArtifactRepository, tmp_path: Path
) -> None:
    """Object keys are literal: one holding ``..`` (written by someone else) must not escape."""
    assert isinstance(repo, FsspecArtifactRepository)
    repo.write_bytes("ok.txt", b"ok")
    planted = f"{repo._root}/sub/../../escaped.txt"
    if backend == "s3":
        # Written with boto3 since HTTP clients may normalise dot segments away in a URL path.
        import boto3

        bucket, _, prefix = repo._root.partition("/")
        client = boto3.client("s3", endpoint_url=os.environ["MLFLOWX_S3_ENDPOINT_URL"])
        client.put_object(Bucket=bucket, Key=f"{prefix}/sub/../../escaped.txt", Body=b"evil")
        keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]]
        # moto keeps keys literally; if a server normalised them, nothing would be planted.
        assert f"{prefix}/sub/../../escaped.txt" in keys
    else:
        repo.fs.pipe_file(planted, b"evil")

    with pytest.raises(InvalidParameter, match="Invalid artifact path"):
        repo.download_artifacts("", tmp_path / "dst")

    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "dst").exists()
    assert repo.list_artifacts("sub") == []  # ".." is never listed as a child
    repo.delete_artifacts()
    assert repo.list_artifacts() == []


# -- local only: symlinks, file URIs, atomic writes --------------------------------------------


@pytest.fixture
def local_repo(tmp_path: Path) -> LocalArtifactRepository:
    (tmp_path / "root").mkdir()
    return LocalArtifactRepository(str(tmp_path / "root"))


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "outside", {"secret.txt": b"secret", "sub/deep.txt": b"deep"})


def test_file_symlink_escape_is_refused(
    local_repo: LocalArtifactRepository, outside: Path, tmp_path: Path
) -> None:
    (local_repo.root / "link.txt").symlink_to(outside / "secret.txt")
    refuse = pytest.raises(InvalidParameter, match="outside the artifact root")

    with refuse:
        local_repo.read_bytes("link.txt")
    with refuse:
        local_repo.list_artifacts("link.txt")
    with refuse:
        local_repo.download_artifacts("link.txt", tmp_path / "dst")
    with refuse:
        local_repo.write_bytes("link.txt", b"overwrite")
    with refuse:
        local_repo.delete_artifacts("link.txt")

    assert (outside / "secret.txt").read_bytes() == b"secret"
    assert (local_repo.root / "link.txt").is_symlink()
    assert not (tmp_path / "dst").exists()


def test_directory_symlink_escape_is_refused(
    local_repo: LocalArtifactRepository, outside: Path, tmp_path: Path
) -> None:
    (local_repo.root / "linkdir").symlink_to(outside, target_is_directory=True)
    (local_repo.root / "inner").mkdir()
    (local_repo.root / "inner" / "up").symlink_to("../../outside", target_is_directory=True)
    src = write_tree(tmp_path / "src", {"new.txt": b"new"})
    refuse = pytest.raises(InvalidParameter, match="outside the artifact root")

    for base in ("linkdir", "inner/up"):
        with refuse:
            local_repo.read_bytes(f"{base}/secret.txt")
        with refuse:
            local_repo.list_artifacts(base)
        with refuse:
            local_repo.list_artifacts(f"{base}/sub")
        with refuse:
            local_repo.download_artifacts(base, tmp_path / "dst")
        with refuse:
            local_repo.download_artifacts(f"{base}/secret.txt", tmp_path / "dst")
        with refuse:
            local_repo.write_bytes(f"{base}/new.txt", b"new")
        with refuse:
            local_repo.write_bytes(f"{base}/brand/new/dir.txt", b"new")
        with refuse:
            local_repo.log_artifact(src / "new.txt", base)
        with refuse:
            local_repo.log_artifacts(src, f"{base}/sub")
        with refuse:
            local_repo.delete_artifacts(base)
        with refuse:
            local_repo.delete_artifacts(f"{base}/secret.txt")

    assert local_tree(outside) == {"secret.txt": b"secret", "sub/deep.txt": b"deep"}
    assert not (tmp_path / "dst").exists()


def test_local_file_symlink_escape_via_log_artifact(
    local_repo: LocalArtifactRepository, outside: Path, tmp_path: Path
) -> None:
    """log_artifact keeps the local name: a planted link of that name must not be written."""
    (local_repo.root / "model.pkl").symlink_to(outside / "secret.txt")
    src = write_tree(tmp_path / "src", {"model.pkl": b"new"})

    with pytest.raises(InvalidParameter, match="outside the artifact root"):
        local_repo.log_artifact(src / "model.pkl")
    with pytest.raises(InvalidParameter, match="outside the artifact root"):
        local_repo.log_artifacts(src)

    assert (outside / "secret.txt").read_bytes() == b"secret"


def test_listing_hides_escaping_symlinks_and_tree_download_is_refused(
    local_repo: LocalArtifactRepository, outside: Path, tmp_path: Path
) -> None:
    local_repo.write_bytes("real.txt", b"real")
    local_repo.write_bytes("d/inner.txt", b"inner")
    (local_repo.root / "linkdir").symlink_to(outside, target_is_directory=True)
    (local_repo.root / "d" / "link.txt").symlink_to(outside / "secret.txt")

    assert [i.path for i in local_repo.list_artifacts()] == ["d", "real.txt"]
    assert [i.path for i in local_repo.list_artifacts("d")] == ["d/inner.txt"]
    with pytest.raises(InvalidParameter, match="outside the artifact root"):
        local_repo.download_artifacts("", tmp_path / "dst")
    with pytest.raises(InvalidParameter, match="outside the artifact root"):
        local_repo.download_artifacts("d", tmp_path / "dst")
    assert not (tmp_path / "dst").exists()


def test_deleting_a_tree_removes_links_not_their_targets(
    local_repo: LocalArtifactRepository, outside: Path
) -> None:
    local_repo.write_bytes("d/inner.txt", b"inner")
    (local_repo.root / "d" / "linkdir").symlink_to(outside, target_is_directory=True)
    (local_repo.root / "d" / "link.txt").symlink_to(outside / "secret.txt")

    local_repo.delete_artifacts("d")
    local_repo.delete_artifacts()

    assert not local_repo.root.exists()
    assert local_tree(outside) == {"secret.txt": b"secret", "sub/deep.txt": b"deep"}


def test_symlinks_inside_the_root_are_followed(
    local_repo: LocalArtifactRepository, tmp_path: Path
) -> None:
    local_repo.write_bytes("real/f.txt", b"f")
    (local_repo.root / "alias.txt").symlink_to(local_repo.root / "real" / "f.txt")
    (local_repo.root / "aliasdir").symlink_to("real", target_is_directory=True)
    (local_repo.root / "real" / "loop").symlink_to("..", target_is_directory=True)

    assert local_repo.read_bytes("alias.txt") == b"f"
    assert local_repo.read_bytes("aliasdir/f.txt") == b"f"
    assert [i.path for i in local_repo.list_artifacts("aliasdir")] == [
        "aliasdir/f.txt",
        "aliasdir/loop",
    ]
    downloaded = Path(local_repo.download_artifacts("real", tmp_path / "dst"))
    assert local_tree(downloaded)["f.txt"] == b"f"  # the cycle is cut, not followed forever

    local_repo.delete_artifacts("aliasdir")
    assert not (local_repo.root / "aliasdir").exists()
    assert local_repo.read_bytes("real/f.txt") == b"f"


def test_root_reached_through_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "real-root").mkdir()
    (tmp_path / "root-link").symlink_to(tmp_path / "real-root", target_is_directory=True)
    repo = LocalArtifactRepository(str(tmp_path / "root-link"))

    repo.write_bytes("a/b.txt", b"b")
    assert repo.read_bytes("a/b.txt") == b"b"
    assert tree(repo) == {"a/b.txt": b"b"}

    repo.delete_artifacts()
    assert (tmp_path / "root-link").is_symlink()
    assert list((tmp_path / "real-root").iterdir()) == []


def test_file_uri_roots(tmp_path: Path) -> None:
    root = tmp_path / "with space" / "ünï"
    for uri in (root.as_uri(), f"file://{root}", f"file://localhost{root.as_uri()[7:]}"):
        repo = get_artifact_repository(uri)
        assert isinstance(repo, LocalArtifactRepository)
        assert repo.root == root
    get_artifact_repository(root.as_uri()).write_bytes("f.txt", b"x")
    assert (root / "f.txt").read_bytes() == b"x"


def test_remote_file_uri_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="remote hosts"):
        LocalArtifactRepository("file://fileserver/share/artifacts")


def test_relative_root_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    repo = LocalArtifactRepository("mlartifacts/run")
    assert repo.root == tmp_path / "mlartifacts" / "run"


def test_local_writes_are_atomic(
    local_repo: LocalArtifactRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_repo.write_bytes("f.txt", b"old")

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        local_repo.write_bytes("f.txt", b"new")

    assert local_repo.read_bytes("f.txt") == b"old"
    assert [p.name for p in local_repo.root.iterdir()] == ["f.txt"]  # no temp file left


def test_writing_over_a_directory_is_refused(local_repo: LocalArtifactRepository) -> None:
    local_repo.write_bytes("d/f.txt", b"x")
    with pytest.raises(InvalidParameter, match="is a directory"):
        local_repo.write_bytes("d", b"x")


# -- registry ---------------------------------------------------------------------------------


@pytest.mark.parametrize("uri", ["/tmp/mlartifacts", "relative/dir", "file:///tmp/a", "C:\\art"])
def test_file_uris_and_bare_paths_are_local(uri: str) -> None:
    assert isinstance(get_artifact_repository(uri), LocalArtifactRepository)


def test_memory_and_s3_are_fsspec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOWX_S3_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("MLFLOW_S3_ENDPOINT_URL", raising=False)
    memory = get_artifact_repository("memory://registry-test/run")
    s3 = get_artifact_repository("s3://some-bucket/some/prefix/")  # no request is made yet

    assert isinstance(memory, FsspecArtifactRepository)
    assert isinstance(s3, FsspecArtifactRepository)
    assert s3._root == "some-bucket/some/prefix"


@pytest.mark.parametrize("scheme", FSSPEC_SCHEMES)
def test_every_remote_scheme_builds_an_fsspec_repository(
    scheme: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fsspec.implementations.memory import MemoryFileSystem

    seen: list[str] = []

    def fake_url_to_fs(url: str, **options: Any) -> tuple[Any, str]:
        seen.append(url)
        return MemoryFileSystem(), "/fake/root"

    monkeypatch.setattr(fsspec_repo, "url_to_fs", fake_url_to_fs)
    repo = get_artifact_repository(f"{scheme}://host/path/run")

    assert type(repo) is FsspecArtifactRepository
    assert seen == [f"{scheme}://host/path/run"]


def test_unknown_scheme_lists_the_known_ones() -> None:
    with pytest.raises(InvalidParameter, match=r"'bogus'.*known schemes: .*file.*memory.*s3"):
        get_artifact_repository("bogus://bucket/path")
    assert set(artifact_repositories.schemes()) >= {"file", *FSSPEC_SCHEMES}


def test_s3_endpoint_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOWX_S3_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("MLFLOW_S3_ENDPOINT_URL", raising=False)
    assert "client_kwargs" not in default_storage_options("s3://b/p")

    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", "http://mlflow-minio:9000")
    assert default_storage_options("s3://b/p")["client_kwargs"] == {
        "endpoint_url": "http://mlflow-minio:9000"
    }

    monkeypatch.setenv("MLFLOWX_S3_ENDPOINT_URL", "http://mlflowx-minio:9000")
    captured: dict[str, Any] = {}

    def fake_url_to_fs(url: str, **options: Any) -> tuple[Any, str]:
        from fsspec.implementations.memory import MemoryFileSystem

        captured.update(options)
        return MemoryFileSystem(), "/b/p"

    monkeypatch.setattr(fsspec_repo, "url_to_fs", fake_url_to_fs)
    get_artifact_repository("s3://b/p")
    assert captured["client_kwargs"] == {"endpoint_url": "http://mlflowx-minio:9000"}
    assert default_storage_options("memory://x") == {}


def test_missing_filesystem_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_s3fs(url: str, **options: Any) -> tuple[Any, str]:
        raise ImportError("Install s3fs to access S3")

    monkeypatch.setattr(fsspec_repo, "url_to_fs", no_s3fs)
    with pytest.raises(InvalidParameter, match=r"pip install 'mlflowx\[s3\]'") as info:
        get_artifact_repository("s3://b/p")
    assert info.value.http_status == 400
    assert isinstance(info.value.__cause__, ImportError)


def test_importing_the_package_does_not_import_fsspec() -> None:
    code = (
        "import sys, mlflowx.store.artifacts as a; "
        "print(sorted(m for m in ('fsspec', 's3fs', 'boto3', 'botocore') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# -- streaming: open_artifact / artifact_writer (the server's proxy) ---------------------------


class _Broken(Exception):
    pass


def _write_then_fail(repo: ArtifactRepository, name: str) -> None:
    with repo.artifact_writer(name) as out:
        for _ in range(12):
            out.write(b"p" * MiB)
        raise _Broken("the client went away")


def test_open_artifact_reads_in_place(repo: ArtifactRepository) -> None:
    data = os.urandom(3 * MiB + 11)
    repo.write_bytes("d/blob.bin", data)
    with repo.open_artifact("d/blob.bin") as handle:
        assert handle.seek(0, 2) == len(data)
        handle.seek(MiB - 3)
        assert handle.read(10) == data[MiB - 3 : MiB + 7]
        handle.seek(0)
        assert handle.read() == data
    with pytest.raises(NotFound, match=r"nope\.bin"):
        repo.open_artifact("d/nope.bin")
    with pytest.raises(InvalidParameter, match="directory"):
        repo.open_artifact("d")
    with pytest.raises(InvalidParameter, match="not allowed"):
        repo.open_artifact("../x")


def test_artifact_writer_publishes_on_success_only(repo: ArtifactRepository) -> None:
    # 12 MiB: more than one part of an S3 multipart upload (s3fs sends 5 MiB parts).
    data = os.urandom(12 * MiB)
    with repo.artifact_writer("w/big.bin") as out:
        for start in range(0, len(data), MiB):
            out.write(data[start : start + MiB])
    assert repo.read_bytes("w/big.bin") == data
    repo.write_bytes("w/keep.txt", b"original")
    for name in ("w/keep.txt", "w/new.bin"):
        with pytest.raises(_Broken, match="went away"):
            _write_then_fail(repo, name)
    assert repo.read_bytes("w/keep.txt") == b"original"
    assert [info.path for info in repo.list_artifacts("w")] == ["w/big.bin", "w/keep.txt"]


def test_artifact_writer_refuses_what_write_bytes_refuses(repo: ArtifactRepository) -> None:
    repo.write_bytes("dir/inner.txt", b"i")
    with pytest.raises(InvalidParameter, match="not allowed"), repo.artifact_writer("../x"):
        pass
    with pytest.raises(InvalidParameter, match="must not be empty"), repo.artifact_writer(""):
        pass
