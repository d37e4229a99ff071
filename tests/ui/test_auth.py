"""The web UI on an auth server: the browser signs in with HTTP Basic, each user sees only
what they may read, and a write they may not make is refused with the server's reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fixtures.browser import browser_test
from tests.fixtures.server import LiveServer, start_mlflowx_server

pytestmark = browser_test
ADMIN = ("admin", "admin-password-1")
BOB = ("bob", "bob-password")


@pytest.fixture(scope="module")
def auth_ui(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    home: Path = tmp_path_factory.mktemp("auth-ui")
    server = start_mlflowx_server(
        home, env={"MLFLOWX_AUTH_ADMIN_PASSWORD": ADMIN[1]}, args=["--auth"]
    )
    api = f"{server.url}/api/2.0/mlflow"
    try:
        with httpx.Client(auth=ADMIN) as http:
            http.post(f"{api}/users/create", json={"username": BOB[0], "password": BOB[1]})
            ids = {
                name: http.post(f"{api}/experiments/create", json={"name": name}).json()[
                    "experiment_id"
                ]
                for name in ("open-to-bob", "hidden-from-bob")
            }
            grant = {"experiment_id": ids["hidden-from-bob"], "username": "bob",
                     "permission": "NO_PERMISSIONS"}  # fmt: skip
            assert http.post(f"{api}/experiments/permissions/create", json=grant).is_success
        yield server, ids
    finally:
        server.stop()


@pytest.fixture
def bob_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(http_credentials={"username": BOB[0], "password": BOB[1]})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, errors


def test_a_user_sees_what_they_may_read_and_is_told_what_they_may_not_do(
    auth_ui: tuple[LiveServer, dict[str, str]], bob_page: Page
) -> None:
    server, ids = auth_ui
    bob_page.goto(f"{server.url}/#/experiments")
    bob_page.wait_for_selector('main[aria-busy="false"]')
    expect(bob_page.locator(f'tr[data-experiment-id="{ids["open-to-bob"]}"]')).to_have_count(1)
    expect(bob_page.locator(f'tr[data-experiment-id="{ids["hidden-from-bob"]}"]')).to_have_count(0)
    # READ only: renaming is refused, and the page says why.
    row = bob_page.locator(f'tr[data-experiment-id="{ids["open-to-bob"]}"]')
    row.locator('[data-action="rename"]').click()
    bob_page.fill('dialog input[name="name"]', "bob-was-here")
    bob_page.click('dialog button[type="submit"]')
    expect(bob_page.locator(".toast-error")).to_contain_text("needs UPDATE access")
    # A page of an experiment bob may not read shows the refusal, not its runs.
    bob_page.goto(f"{server.url}/#/experiments/{ids['hidden-from-bob']}")
    expect(bob_page.get_by_text("Permission denied", exact=False).first).to_be_visible()


def test_without_credentials_the_browser_gets_the_sign_in_challenge(
    auth_ui: tuple[LiveServer, dict[str, str]], browser: Browser
) -> None:
    server, _ = auth_ui
    from playwright.sync_api import Error

    context = browser.new_context()
    response = context.request.get(f"{server.url}/")
    assert response.status == 401
    assert response.headers["www-authenticate"] == 'Basic realm="mlflowx"'
    # Headless Chromium has nobody to ask for a password: the navigation fails on the challenge.
    with pytest.raises(Error, match="ERR_INVALID_AUTH_CREDENTIALS"):
        context.new_page().goto(f"{server.url}/")
    context.close()
