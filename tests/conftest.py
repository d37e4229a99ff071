pytest_plugins = ["tests.fixtures.env", "tests.fixtures.stores"]
