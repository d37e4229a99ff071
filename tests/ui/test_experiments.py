"""The experiments page: list, search, create, rename, delete and restore."""

from __future__ import annotations

import uuid

from playwright.sync_api import Locator, Page, expect

from tests.fixtures.browser import Console, UiServer, browser_test

pytestmark = browser_test


def _row(page: Page, experiment_id: str) -> Locator:
    return page.locator(f'tr[data-experiment-id="{experiment_id}"]')


def test_list_and_search(ui_server: UiServer, page: Page, console: Console) -> None:
    client = ui_server.client()
    tag = uuid.uuid4().hex[:6]
    ids = [client.create_experiment(f"search-{tag}-{n}") for n in ("alpha", "beta")]
    ui_server.open(page, "#/experiments")
    for eid in ids:
        expect(_row(page, eid)).to_be_visible()
    page.get_by_test_id("experiment-search").fill(f"{tag}-alp")
    expect(page.locator("tr[data-experiment-id]")).to_have_count(1)
    expect(_row(page, ids[0])).to_contain_text(f"search-{tag}-alpha")
    # The filter language works too, and its errors are shown.
    page.get_by_test_id("experiment-search").fill(f"name = 'search-{tag}-beta'")
    expect(page.locator("tr[data-experiment-id]")).to_have_count(1)
    expect(_row(page, ids[1])).to_be_visible()
    console.allow("status of 400")
    page.get_by_test_id("experiment-search").fill("name >< 'x'")
    expect(page.get_by_test_id("experiments-error")).not_to_be_empty()
    # The link opens the experiment's runs.
    page.get_by_test_id("experiment-search").fill(f"{tag}-beta")
    _row(page, ids[1]).locator("a.experiment-link").click()
    page.wait_for_selector('main[data-page="runs"][aria-busy="false"]')
    assert page.url.endswith(f"#/experiments/{ids[1]}")


def test_create_rename_delete_restore(ui_server: UiServer, page: Page, console: Console) -> None:
    client = ui_server.client()
    name = f"made-in-ui-{uuid.uuid4().hex[:6]}"
    ui_server.open(page, "#/experiments")
    page.get_by_test_id("create-experiment").click()
    page.fill('dialog input[name="name"]', name)
    page.click('dialog button[type="submit"]')
    page.wait_for_selector('main[data-page="runs"][aria-busy="false"]')
    experiment = client.get_experiment_by_name(name)
    assert experiment is not None
    eid = experiment.experiment_id
    expect(page.get_by_test_id("experiment-name")).to_have_text(name)

    ui_server.open(page, "#/experiments")
    _row(page, eid).locator('[data-action="rename"]').click()
    page.fill('dialog input[name="name"]', name + "-renamed")
    page.click('dialog button[type="submit"]')
    expect(_row(page, eid)).to_contain_text(name + "-renamed")
    assert client.get_experiment(eid).name == name + "-renamed"

    # A name that exists is refused with the server's message; nothing changes.
    console.allow("status of 400")
    _row(page, eid).locator('[data-action="rename"]').click()
    page.fill('dialog input[name="name"]', "ui-seed")
    page.click('dialog button[type="submit"]')
    expect(page.locator(".toast-error")).to_contain_text("ui-seed")
    assert client.get_experiment(eid).name == name + "-renamed"

    _row(page, eid).locator('[data-action="delete"]').click()
    page.click('dialog button[type="submit"]')
    expect(_row(page, eid)).to_have_count(0)
    assert client.get_experiment(eid).lifecycle_stage == "deleted"

    page.get_by_test_id("show-deleted").click()
    _row(page, eid).locator('[data-action="restore"]').click()
    expect(_row(page, eid)).to_have_count(0)
    assert client.get_experiment(eid).lifecycle_stage == "active"
