pytest_plugins = [
    "tests.fixtures.env",
    "tests.fixtures.stores",
    "tests.fixtures.server",
    "tests.fixtures.docker",
    "tests.fixtures.prefect",
    "tests.fixtures.browser",
]
