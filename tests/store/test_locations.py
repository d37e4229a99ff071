"""Storage locations: which artifact locations, server roots and model-version sources pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlflowx.exceptions import InvalidParameter
from mlflowx.store.artifacts.http import proxy_uri
from mlflowx.store.locations import (
    LocationPolicy,
    check_location,
    check_source,
    decode_until_stable,
)

DEFAULT = LocationPolicy()


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("file:///etc#", "fragment"),
        ("http:///#/../../../../etc/", "fragment"),  # CVE-2024-1483's proof of concept
        ("/tmp/x#y", "fragment"),
        ("/tmp/x%2523y", "fragment"),  # '#' encoded twice
        ("s3://bucket/x?a=1", "query"),
        ("s3://bucket/x?", "query"),
        ("s3://bucket/x;p", "parameters"),
        ("http://host/;..%2F..%2Fetc", "fragment|parameters"),
        ("/tmp/../etc", r"'\.\.'"),
        ("/tmp/%2e%2e/etc", r"'\.\.'"),
        ("/tmp/%252e%252e/etc", r"'\.\.'"),
        ("s3://bucket/a/%25252e%25252e/b", r"'\.\.'"),
        ("C:\\art\\..\\..\\Windows", r"'\.\.'"),
        ("http://host/x", "scheme 'http' is not allowed"),
        ("https://host/x", "scheme 'https' is not allowed"),
        ("ftp://host/x", "scheme 'ftp' is not allowed"),
        ("sftp://host/x", "scheme 'sftp' is not allowed"),
        ("hdfs://namenode:8020/x", "scheme 'hdfs' is not allowed"),
        ("memory://x", "scheme 'memory' is not allowed"),
        ("runs:/0123/artifacts", "scheme 'runs' is not allowed"),
        ("mlflow-artifacts://otherhost/", "host 'otherhost' is not allowed"),
        ("mlflow-artifacts://otherhost:5000/x", "host 'otherhost:5000' is not allowed"),
        ("mlflow-artifacts://user@otherhost/x", "credentials"),
        ("file://otherhost/share", "cannot name a host"),
        ("//otherhost/share", "cannot name a host"),
        ("s3://bucket/x\\..\\y", r"'\.\.'"),
        ("gs://bucket/x\\y", "backslashes"),
        ("/tmp/\x00x", "control characters"),
        ("/tmp/%00x", "control characters"),
        ("/tmp/%0ax", "control characters"),
        (" /tmp/x", "surrounding spaces"),
        ("fi\tle:///etc", "control characters"),
        ("/tmp/%" + "25" * 12 + "2e", "encoded too many times"),
        ("", "non-empty"),
    ],
)
def test_unsafe_locations_are_refused(uri: str, reason: str) -> None:
    with pytest.raises(InvalidParameter, match=reason):
        check_location(uri, DEFAULT)


@pytest.mark.parametrize(
    "uri",
    [
        "/tmp/x",
        "relative/dir",
        "file:///tmp/x",
        "file://localhost/tmp/x",
        "C:\\art\\x",
        "s3://bucket/x",
        "gs://bucket/x",
        "gcs://bucket/x",
        "abfss://container@account.dfs.core.windows.net/x",
        "az://container/x",
        "mlflow-artifacts:/x",
        "mlflow-artifacts:///x",
        "s3://bucket/a%20b/c",
        "/tmp/x..y/..z",
    ],
)
def test_ordinary_locations_pass(uri: str) -> None:
    assert check_location(uri, DEFAULT) == uri


def test_the_settings_widen_schemes_and_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOWX_ALLOWED_ARTIFACT_SCHEMES", "HTTP, https")
    monkeypatch.setenv("MLFLOWX_ALLOWED_ARTIFACT_HOSTS", "artifacts.example,proxy.example:5000")
    policy = LocationPolicy.from_settings()

    assert check_location("http://artifacts.example/x", policy)
    assert check_location("https://artifacts.example:8443/x", policy)
    assert check_location("mlflow-artifacts://proxy.example:5000/x", policy)
    with pytest.raises(InvalidParameter, match=r"host 'proxy\.example:5001' is not allowed"):
        check_location("mlflow-artifacts://proxy.example:5001/x", policy)
    with pytest.raises(InvalidParameter, match=r"host 'elsewhere\.example' is not allowed"):
        check_location("http://elsewhere.example/x", policy)
    with pytest.raises(InvalidParameter, match="scheme 'ftp' is not allowed"):
        check_location("ftp://artifacts.example/x", policy)
    # The default policy reads the same settings.
    assert check_location("http://artifacts.example/x") == "http://artifacts.example/x"


def test_a_star_allows_any_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOWX_ALLOWED_ARTIFACT_SCHEMES", "ftp")
    monkeypatch.setenv("MLFLOWX_ALLOWED_ARTIFACT_HOSTS", "*")
    assert check_location("ftp://any.example/x", LocationPolicy.from_settings())


def test_confined_local_locations_stay_in_the_roots(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "inside").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "escape").symlink_to(outside)
    policy = DEFAULT.confined_to([str(root), "mlflow-artifacts:/", "s3://bucket/x", None])

    assert policy.local_roots == (str(root),)
    assert check_location(str(root / "inside" / "exp"), policy)
    assert check_location(f"file://{root}/inside", policy)
    assert check_location("s3://bucket/elsewhere", policy)  # only local locations are confined
    for uri in ("/etc", f"file://{outside}", str(root / "escape" / "x"), f"{root}-sibling"):
        with pytest.raises(InvalidParameter, match="inside this server's artifact root"):
            check_location(uri, policy)


def test_no_roots_confine_everything_local() -> None:
    policy = DEFAULT.confined_to(["s3://bucket/x"])
    with pytest.raises(InvalidParameter, match="inside this server's artifact root"):
        check_location("/tmp/x", policy)


def test_decoding_runs_until_stable() -> None:
    assert decode_until_stable("%25252e%25252e") == ".."
    assert decode_until_stable("plain") == "plain"


@pytest.mark.parametrize(
    "source",
    [
        "runs:/0123/model",
        "models:/name/1",
        "models:/m-0123",
        "s3://bucket/model",
        "mlflow-artifacts:/0/run/artifacts/model",
        "/tmp/artifacts/model",
        "dbfs:/x?version=2",
    ],
)
def test_ordinary_sources_pass(source: str) -> None:
    assert check_source(source) == source


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("s3://bucket/model#x", "fragment"),
        ("file:///art/run/artifacts#/../../etc", "fragment"),
        ("runs:/0123/model%2523x", "fragment"),
        ("s3://bucket/%2e%2e/x", r"'\.\.'"),
        ("s3://bucket/%252e%252e/x", r"'\.\.'"),
        ("http://host/;..%2F..%2Fetc", r"'\.\.'"),
        ("http://host/x?p=..%252f", r"'\.\.'"),
        ("/tmp/\x00", "control characters"),
    ],
)
def test_unsafe_sources_are_refused(source: str, reason: str) -> None:
    with pytest.raises(InvalidParameter, match=reason):
        check_source(source)


def test_a_client_sends_proxied_files_only_to_its_own_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MLFLOWX_ALLOWED_ARTIFACT_HOSTS", raising=False)
    tracking = "http://tracking.example:5000"
    own = proxy_uri(tracking, "mlflow-artifacts://tracking.example:5000/0/r/artifacts")
    assert own == f"{tracking}/api/2.0/mlflow-artifacts/artifacts/0/r/artifacts"
    assert proxy_uri(tracking, "mlflow-artifacts:/0/r") == (
        f"{tracking}/api/2.0/mlflow-artifacts/artifacts/0/r"
    )
    with pytest.raises(InvalidParameter, match=r"host 'other\.example' is not allowed"):
        proxy_uri(tracking, "mlflow-artifacts://other.example/0/r/artifacts")

    monkeypatch.setenv("MLFLOWX_ALLOWED_ARTIFACT_HOSTS", "other.example")
    assert proxy_uri(tracking, "mlflow-artifacts://other.example/0/r").startswith(
        "http://other.example/api/2.0/mlflow-artifacts/artifacts/0/r"
    )
