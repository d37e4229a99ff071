pytest_plugins = ["tests.fixtures.env", "tests.fixtures.stores", "tests.fixtures.server"]
