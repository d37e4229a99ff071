"""Entity tags of stored files (the proxy's ``ETag``/``If-Range``), from fsspec ``info``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mlflowx.store.artifacts.validators import entity_tag

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("info", "tag"),
    [
        (
            {"ETag": '"9b2cf535f27731c974343645a3985328"', "size": 3},
            '"9b2cf535f27731c974343645a3985328"',
        ),
        ({"etag": "CJ2u9Zbm+YMDEAE=", "size": 3}, '"CJ2u9Zbm+YMDEAE="'),  # GCS: unquoted
        ({"etag": '"0x8DC1"', "last_modified": WHEN}, '"0x8DC1"'),  # the tag wins over a time
    ],
)
def test_the_stores_own_tag_is_used_quoted(info: dict[str, object], tag: str) -> None:
    assert entity_tag(info) == tag


def test_a_weak_or_malformed_tag_is_not_a_validator() -> None:
    assert entity_tag({"ETag": 'W/"abc"', "size": 1}) is None
    assert entity_tag({"ETag": '"a"b"', "size": 1}) is None


def test_without_a_tag_the_modification_time_and_size_make_one() -> None:
    first = entity_tag({"created": WHEN, "size": 10})
    assert first is not None
    assert first.startswith('"')
    assert first.endswith('"')
    assert entity_tag({"created": WHEN, "size": 10}) == first  # stable
    assert entity_tag({"created": WHEN, "size": 11}) != first
    assert entity_tag({"mtime": 1.5, "size": 10}) != entity_tag({"mtime": 1.25, "size": 10})


def test_nothing_that_changes_with_the_content_means_no_tag() -> None:
    assert entity_tag({"size": 10, "type": "file"}) is None
