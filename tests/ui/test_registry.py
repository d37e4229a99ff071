"""The registry pages: models, a model (description, tags, aliases, versions) and a version
(stage, lineage to its run, logged model, Prefect flow run and deployment)."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.fixtures.browser import PREFECT_UI_URL, UiServer, browser_test

pytestmark = browser_test


def test_models_list_search_and_create(ui_server: UiServer, page: Page) -> None:
    client = ui_server.client()
    ui_server.open(page, "#/models")
    row = page.locator(f'tr[data-model="{ui_server.seed.model}"]')
    expect(row).to_contain_text("Version 2")
    expect(row.locator('[data-alias="champion"]')).to_have_text("@champion: v1")
    name = f"created-{uuid.uuid4().hex[:6]}"
    page.get_by_test_id("create-model").click()
    page.fill('dialog input[name="name"]', name)
    page.fill('dialog input[name="description"]', "made in the browser")
    page.click('dialog button[type="submit"]')
    page.wait_for_selector('main[data-page="model"][aria-busy="false"]')
    expect(page.get_by_test_id("model-name")).to_have_text(name)
    assert client.get_registered_model(name).description == "made in the browser"
    ui_server.open(page, "#/models")
    page.get_by_test_id("model-search").fill(name[-6:])
    expect(page.locator("tr[data-model]")).to_have_count(1)
    expect(page.locator(f'tr[data-model="{name}"]')).to_be_visible()


def test_model_page_edits(ui_server: UiServer, page: Page) -> None:
    client = ui_server.client()
    name = ui_server.seed.model
    ui_server.open(page, f"#/models/{name}")
    versions = page.locator('[data-testid="versions-table"] tr[data-version]')
    expect(versions).to_have_count(2)
    expect(page.locator('tr[data-version="1"] [data-alias="champion"]')).to_be_visible()
    expect(page.locator('tr[data-version="2"] a.version-link')).to_have_attribute(
        "href", f"#/models/{name}/versions/2"
    )
    # Description.
    page.get_by_test_id("description-edit").click()
    page.fill('dialog input[name="description"]', "iris classifier")
    page.click('dialog button[type="submit"]')
    expect(page.get_by_test_id("description")).to_have_text("iris classifier")
    assert client.get_registered_model(name).description == "iris classifier"
    # Tags.
    page.get_by_test_id("model-tags-add").click()
    page.fill('dialog input[name="key"]', "task")
    page.fill('dialog input[name="value"]', "classification")
    page.click('dialog button[type="submit"]')
    expect(page.locator('[data-testid="model-tags"] tr[data-key="task"]')).to_be_visible()
    assert client.get_registered_model(name).tags["task"] == "classification"
    page.locator('[data-testid="model-tags"] tr[data-key="task"] >> text=Delete').click()
    page.click('dialog button[type="submit"]')
    expect(page.locator('[data-testid="model-tags"] tr[data-key="task"]')).to_have_count(0)
    assert "task" not in client.get_registered_model(name).tags
    # Move @champion from version 1 to version 2.
    page.get_by_test_id("add-alias").click()
    page.fill('dialog input[name="alias"]', "champion")
    page.fill('dialog input[name="version"]', "2")
    page.click('dialog button[type="submit"]')
    expect(page.locator('[data-testid="aliases"] tr[data-alias="champion"]')).to_contain_text(
        "Version 2"
    )
    expect(page.locator('tr[data-version="2"] [data-alias="champion"]')).to_be_visible()
    expect(page.locator('tr[data-version="1"] [data-alias="champion"]')).to_have_count(0)
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    # And back, for the other tests.
    client.set_registered_model_alias(name, "champion", "1")


def test_version_page_stage_and_lineage(ui_server: UiServer, page: Page) -> None:
    client = ui_server.client()
    seed = ui_server.seed
    ui_server.open(page, f"#/models/{seed.model}/versions/2")
    lineage = page.get_by_test_id("lineage")
    expect(lineage.get_by_test_id("run-link")).to_have_attribute(
        "href", f"#/experiments/{seed.experiment_id}/runs/{seed.parent}"
    )
    expect(lineage.get_by_test_id("logged-model-link")).to_have_attribute(
        "href", f"#/experiments/{seed.experiment_id}/models/{seed.model_id}"
    )
    prefect = lineage.get_by_test_id("prefect-link")
    expect(prefect).to_have_attribute(
        "href", f"{PREFECT_UI_URL}/runs/flow-run/6f1c1e1a-0000-4000-8000-00000000abcd"
    )
    expect(prefect).to_have_text("train-pipeline / clever-otter")
    deployment = page.get_by_test_id("deployment")
    expect(deployment.get_by_test_id("deployment-url")).to_have_attribute(
        "href", "http://127.0.0.1:9/invocations"
    )
    expect(deployment.get_by_test_id("deployment-container")).to_have_text("c0ffee123456")
    expect(page.get_by_test_id("signature-inputs")).to_contain_text("petal width (cm)")
    expect(page.get_by_test_id("load-snippet")).to_contain_text(f"models:/{seed.model}/2")
    # Stage transition.
    page.get_by_test_id("stage-select").select_option("Staging")
    page.get_by_test_id("transition").click()
    expect(page.get_by_test_id("stage")).to_have_text("Staging")
    assert client.get_model_version(seed.model, "2").current_stage == "Staging"
    # The run link opens the run.
    lineage.get_by_test_id("run-link").click()
    page.wait_for_selector('main[data-page="run"][aria-busy="false"]')
    expect(page.get_by_test_id("run-name")).to_have_text("seed-0")


def test_version_without_lineage_tags(ui_server: UiServer, page: Page) -> None:
    """A version registered outside a flow has no Prefect facts and is not deployed."""
    seed = ui_server.seed
    ui_server.open(page, f"#/models/{seed.model}/versions/1")
    expect(page.get_by_test_id("lineage").get_by_test_id("run-link")).to_be_visible()
    expect(page.get_by_test_id("lineage")).not_to_contain_text("Prefect flow run")
    expect(page.get_by_test_id("deployment")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("Not deployed by a deploy task.")
