"""The app shell, offline API docs, and the links MLflow's client prints."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page, Response, expect

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


#: What each kind of asset must be served as (ES modules are refused under another type).
ASSET_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


def test_static_assets_load_with_their_types(ui_server: UiServer, page: Page) -> None:
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))
    ui_server.open(page, "")
    assets = [r for r in responses if urlsplit(r.url).path.startswith("/static/")]
    paths = {urlsplit(r.url).path for r in assets}
    # The shell's styles, its boot module, uPlot (preloaded) and the icon all came.
    assert {"/static/js/app.js", "/static/css/app.css", "/static/favicon.svg"} <= paths
    assert "/static/vendor/uplot/uPlot.esm.js" in paths
    for response in assets:
        assert response.status in (200, 304), (response.url, response.status)
        path = urlsplit(response.url).path
        suffix = path[path.rfind(".") :]
        expected = ASSET_TYPES.get(suffix)
        if expected is not None:
            assert response.headers["content-type"].startswith(expected), (
                path,
                response.headers["content-type"],
            )
        assert response.headers.get("x-content-type-options") == "nosniff", path


def test_api_docs_render_offline(ui_server: UiServer, page: Page, console: Console) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{ui_server.url}/docs")
    # Swagger UI draws the operations of our OpenAPI document (every request was on-host:
    # the page fixture fails the test otherwise).
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("mlflowx tracking server")
    expect(
        page.locator('.opblock-summary-path[data-path="/api/2.0/mlflow/runs/search"]')
    ).to_be_visible()
    hosts = {urlsplit(url).hostname for url in requested if url.startswith("http")}
    assert hosts == {"127.0.0.1"}, requested
    assert any(urlsplit(u).path.startswith("/static/vendor/swagger-ui/") for u in requested)
    assert not console.off_host


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
