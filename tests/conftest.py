import pytest

pytest_plugins = [
    "tests.fixtures.env",
    "tests.fixtures.stores",
    "tests.fixtures.server",
    "tests.fixtures.docker",
    "tests.fixtures.prefect",
    "tests.fixtures.browser",
]

_UNGROUPED = pytest.StashKey[bool]()


@pytest.hookimpl(trylast=True)  # after pytest-xdist has tagged the grouped tests
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Find the tests ``--dist loadgroup`` would spread over workers despite ``xdist_group``.

    pytest-xdist marks a grouped test by appending ``@<group>`` to its node id; pytest 9 no longer
    takes that change (pytest-dev/pytest-xdist#1386), so the groups that serialise shared
    resources (the browser, the demo, Prefect's Docker pool) would silently do nothing.
    """
    if not getattr(config.option, "loadgroup", False):
        return  # not an xdist worker running --dist loadgroup
    for item in items:
        if item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
            item.stash[_UNGROUPED] = True


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.stash.get(_UNGROUPED, False):
        pytest.fail(
            f"marked xdist_group, but this pytest ({pytest.__version__}) drops the group under "
            "pytest-xdist (pytest-dev/pytest-xdist#1386): install the test extra's pinned pytest "
            "(pip install -e '.[test]')",
            pytrace=False,
        )
