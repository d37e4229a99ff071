"""The run page: overview, params, metrics, editable tags, charts, logged models, and the
artifact browser's previews and downloads."""

from __future__ import annotations

import json

import httpx
from playwright.sync_api import Page, expect

import mlflowx
from mlflowx.entities import Metric
from tests.fixtures.browser import (
    FLOW_RUN_ID,
    PREFECT_UI_URL,
    Console,
    UiServer,
    browser_test,
)

pytestmark = browser_test


def _open(ui_server: UiServer, page: Page, suffix: str = "") -> Page:
    seed = ui_server.seed
    return ui_server.open(page, f"#/experiments/{seed.experiment_id}/runs/{seed.parent}{suffix}")


def test_overview(ui_server: UiServer, page: Page) -> None:
    seed = ui_server.seed
    _open(ui_server, page)
    facts = page.get_by_test_id("run-facts")
    expect(facts.locator('[data-fact="Run ID"]')).to_contain_text(seed.parent)
    expect(facts.locator('[data-fact="Status"]')).to_have_text("Finished")
    expect(facts.locator('[data-fact="Experiment"] a')).to_have_attribute(
        "href", f"#/experiments/{seed.experiment_id}"
    )
    children = page.get_by_test_id("child-runs").locator("a[data-run-id]")
    assert sorted(a.get_attribute("data-run-id") or "" for a in children.all()) == sorted(
        seed.children
    )
    expect(page.locator('[data-testid="params-table"] tr[data-key="lr"] .kv-value')).to_have_text(
        "0.1"
    )
    expect(page.locator('[data-testid="metrics-table"] tr[data-key="loss"]')).to_contain_text(
        "1.19"
    )
    expect(page.get_by_test_id("logged-models")).to_contain_text(seed.model_id)
    # A child's page links back to its parent.
    children.first.click()
    page.wait_for_selector('main[data-page="run"][aria-busy="false"]')
    expect(page.get_by_test_id("parent-link")).to_have_attribute(
        "href", f"#/experiments/{seed.experiment_id}/runs/{seed.parent}"
    )


def test_run_links_to_its_prefect_flow_run(ui_server: UiServer, page: Page) -> None:
    seed = ui_server.seed
    ui_server.open(page, f"#/experiments/{seed.experiment_id}/runs/{seed.runs[1]}")
    link = page.get_by_test_id("run-facts").get_by_test_id("prefect-link")
    expect(link).to_have_attribute("href", f"{PREFECT_UI_URL}/runs/flow-run/{FLOW_RUN_ID}")
    expect(link).to_have_text("nightly / brave-fox")


def test_tags_are_editable(ui_server: UiServer, page: Page) -> None:
    seed = ui_server.seed
    client = ui_server.client()
    run_id = seed.runs[5]
    ui_server.open(page, f"#/experiments/{seed.experiment_id}/runs/{run_id}")
    page.get_by_test_id("tags-table-add").click()
    page.fill('dialog input[name="key"]', "owner")
    page.fill('dialog input[name="value"]', "ml-team")
    page.click('dialog button[type="submit"]')
    expect(page.locator('[data-testid="tags-table"] tr[data-key="owner"]')).to_contain_text(
        "ml-team"
    )
    assert client.get_run(run_id).data.tags["owner"] == "ml-team"
    page.locator('[data-testid="tags-table"] tr[data-key="owner"] >> text=Edit').click()
    page.fill('dialog input[name="value"]', "platform")
    page.click('dialog button[type="submit"]')
    expect(page.locator('[data-testid="tags-table"] tr[data-key="owner"]')).to_contain_text(
        "platform"
    )
    assert client.get_run(run_id).data.tags["owner"] == "platform"
    page.locator('[data-testid="tags-table"] tr[data-key="owner"] >> text=Delete').click()
    page.click('dialog button[type="submit"]')
    expect(page.locator('[data-testid="tags-table"] tr[data-key="owner"]')).to_have_count(0)
    assert "owner" not in client.get_run(run_id).data.tags


def test_metric_charts(ui_server: UiServer, page: Page) -> None:
    _open(ui_server, page, "?tab=metrics")
    chart = page.locator('.chart-card[data-metric="loss"] [data-testid="metric-chart"]')
    expect(chart.locator("canvas")).to_be_visible()
    expect(chart).to_have_attribute("data-points", "20")
    expect(chart).to_have_attribute("data-series", "1")
    expect(chart.locator(".u-legend .u-series")).to_have_count(2)  # the x axis and one run
    page.locator('[data-x-mode="wall"]').click()
    expect(page.locator('[data-x-mode="wall"]')).to_have_attribute("aria-pressed", "true")
    expect(
        page.locator('.chart-card[data-metric="loss"] .u-legend .u-series').first
    ).to_contain_text("Wall time")
    page.locator('[data-x-mode="step"]').click()


def _preview(page: Page, path: str) -> None:
    parts = path.split("/")
    for depth in range(1, len(parts)):
        folder = page.locator(f'li[data-path="{"/".join(parts[:depth])}"]')
        if folder.get_attribute("aria-expanded") != "true":
            folder.locator("> button").click()
    page.locator(f'li[data-path="{path}"] > button').click()
    expect(page.get_by_test_id("preview-path")).to_have_text(path)


def test_artifact_previews(ui_server: UiServer, page: Page, console: Console) -> None:
    console.allow("Blocked script execution in 'about:srcdoc'")
    _open(ui_server, page, "?tab=artifacts")
    page.locator('[role="tab"][data-tab="artifacts"]').click()
    _preview(page, "notes/readme.txt")
    expect(page.get_by_test_id("preview-text")).to_have_text("hello from the run\n")
    _preview(page, "config.json")
    shown = page.get_by_test_id("preview-text").inner_text()
    assert json.loads(shown) == {"alpha": 1, "beta": [1, 2]}
    assert "\n  " in shown  # pretty-printed
    _preview(page, "data/table.csv")
    table = page.get_by_test_id("preview-csv")
    expect(table.locator("th")).to_have_text(["a", "b", "label"])
    expect(table.locator("tbody tr").nth(1).locator("td")).to_have_text(["3", "4", "y, z"])
    _preview(page, "plots/roc.png")
    image = page.get_by_test_id("preview-image")
    expect(image).to_be_visible()
    page.wait_for_function("document.querySelector('[data-testid=preview-image]').naturalWidth > 0")
    _preview(page, "report.html")
    frame = page.get_by_test_id("preview-html")
    expect(frame).to_have_attribute("sandbox", "")
    assert page.evaluate("window.pwned") is None  # the report's script did not reach the app
    # Chromium says it refused the script (the message arrives once the frame has loaded).
    for _ in range(100):
        if any("Blocked script execution" in e for e in console.errors):
            break
        page.wait_for_timeout(50)
    assert any("Blocked script execution" in e for e in console.errors)
    # The URL follows the selection, so it can be shared.
    assert page.url.endswith("/artifacts/report.html")


def test_artifact_link_opens_the_file_and_downloads(ui_server: UiServer, page: Page) -> None:
    _open(ui_server, page, "/artifacts/data/table.csv")
    expect(page.get_by_test_id("preview-path")).to_have_text("data/table.csv")
    expect(page.get_by_test_id("preview-csv")).to_be_visible()
    link = page.get_by_test_id("artifact-download")
    expect(link).to_have_attribute("download", "table.csv")
    with page.expect_download() as download:
        link.click()
    saved = download.value.path()
    assert saved is not None
    assert saved.read_text().startswith("a,b,label")
    href = link.get_attribute("href") or ""
    assert httpx.get(ui_server.url + href).text.startswith("a,b,label")


def test_logged_model_page_shows_the_mlmodel(ui_server: UiServer, page: Page) -> None:
    seed = ui_server.seed
    ui_server.open(page, f"#/experiments/{seed.experiment_id}/models/{seed.model_id}")
    expect(page.get_by_test_id("source-run")).to_have_text(seed.parent)
    page.locator('li[data-path="MLmodel"] > button').click()
    summary = page.get_by_test_id("mlmodel-summary")
    expect(summary).to_contain_text("sklearn")
    expect(summary).to_contain_text("python_function")
    expect(page.get_by_test_id("signature-inputs")).to_contain_text("sepal length (cm)")
    expect(page.get_by_test_id("load-snippet")).to_contain_text(
        f'load_model("models:/{seed.model_id}")'
    )


def test_logged_model_page_shows_the_models_metrics(ui_server: UiServer, page: Page) -> None:
    seed = ui_server.seed
    client = mlflowx.MlflowClient(ui_server.url)
    model = seed.model_id
    client.log_batch(
        seed.parent,
        metrics=[
            Metric("val_acc", 0.5, 1_700_000_000_000, 0, None, model),
            Metric("val_acc", 0.75, 1_700_000_000_100, 1, None, model),
            Metric("val_loss", 0.25, 1_700_000_000_200, 1, None, model, "iris", "d1g3st"),
        ],
    )
    ui_server.open(page, f"#/experiments/{seed.experiment_id}/models/{model}")
    table = page.get_by_test_id("model-metrics")
    acc = table.locator('tr[data-metric="val_acc"]')
    expect(acc).to_have_count(1)  # the latest point of the metric, not its history
    expect(acc).to_contain_text("0.75")
    loss = table.locator('tr[data-metric="val_loss"]')
    expect(loss).to_contain_text("0.25")
    expect(loss).to_contain_text("iris (d1g3st)")
    expect(loss.get_by_role("link", name=seed.parent)).to_have_attribute(
        "href", f"#/experiments/{seed.experiment_id}/runs/{seed.parent}"
    )
