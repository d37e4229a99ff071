"""The app shell, offline API docs, and the links MLflow's client prints."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.fixtures.browser import Console, UiServer, browser_test

pytestmark = browser_test


def test_shell_navigation(ui_server: UiServer, page: Page) -> None:
    ui_server.open(page, "")
    expect(page).to_have_title("mlflowx")
    assert page.get_attribute("main", "data-page") == "experiments"
    expect(page.locator("#version")).to_have_text(f"v{__import__('mlflowx').__version__}")
    page.click('nav >> text="Models"')
    page.wait_for_selector('main[data-page="models"][aria-busy="false"]')
    expect(page.locator('[data-nav="models"]')).to_have_class("active")
    page.go_back()
    page.wait_for_selector('main[data-page="experiments"][aria-busy="false"]')


def test_api_docs_render_offline(ui_server: UiServer, page: Page) -> None:
    page.goto(f"{ui_server.url}/docs")
    # Swagger UI draws the operations of our OpenAPI document (every request was on-host:
    # the page fixture fails the test otherwise).
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("mlflowx tracking server")
    expect(
        page.locator('.opblock-summary-path[data-path="/api/2.0/mlflow/runs/search"]')
    ).to_be_visible()


def test_mlflow_client_links_land_on_their_pages(ui_server: UiServer, page: Page) -> None:
    seed = ui_server.seed
    # What `mlflow` prints: "View experiment at", "View run at", and the registry's version link.
    ui_server.open(page, f"#/experiments/{seed.experiment_id}")
    assert page.get_attribute("main", "data-page") == "runs"
    expect(page.get_by_test_id("experiment-name")).to_have_text("ui-seed")
    ui_server.open(page, f"#/experiments/{seed.experiment_id}/runs/{seed.parent}")
    assert page.get_attribute("main", "data-page") == "run"
    expect(page.get_by_test_id("run-name")).to_have_text("seed-0")
    ui_server.open(page, f"#/models/{seed.model}/versions/2")
    assert page.get_attribute("main", "data-page") == "version"
    expect(page.get_by_test_id("version-title")).to_have_text(f"{seed.model} · version 2")
    ui_server.open(page, f"#/experiments/{seed.experiment_id}/models/{seed.model_id}")
    assert page.get_attribute("main", "data-page") == "logged-model"


def test_unknown_routes_and_missing_things_say_so(
    ui_server: UiServer, page: Page, console: Console
) -> None:
    ui_server.open(page, "#/no/such/page")
    assert page.get_attribute("main", "data-page") == "not-found"
    expect(page.locator("main")).to_contain_text("Page not found")
    console.allow("status of 404")
    ui_server.open(page, f"#/experiments/{ui_server.seed.experiment_id}/runs/{'f' * 32}")
    expect(page.locator(".error-panel")).to_contain_text(f"Run with id={'f' * 32} not found")
