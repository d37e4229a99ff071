"""Compare: three runs side by side (diff table, overlaid charts, parallel coordinates,
scatter plot), MLflow's link form, and the bounds of 2 to 100 runs."""

from __future__ import annotations

import json
from urllib.parse import quote

from playwright.sync_api import Page, expect

from tests.fixtures.browser import UiServer, browser_test

pytestmark = browser_test


def _open(ui_server: UiServer, page: Page, runs: list[str]) -> Page:
    return ui_server.open(page, f"#/compare-runs?runs={','.join(runs)}")


def test_compare_three_runs(ui_server: UiServer, page: Page) -> None:
    client = ui_server.client()
    chosen = ui_server.seed.runs[1:4]
    _open(ui_server, page, chosen)
    table = page.get_by_test_id("compare-table")
    # Columns follow the link's order; values are the runs' own.
    heads = table.locator("thead th[data-run-id]")
    assert [h.get_attribute("data-run-id") for h in heads.all()] == chosen
    lr = [client.get_run(r).data.params["lr"] for r in chosen]
    expect(table.locator('tr[data-key="params.lr"] td')).to_have_text(lr)
    expect(table.locator('tr[data-key="params.lr"]')).to_have_class("differs")
    expect(table.locator('tr[data-key="tags.stage"]')).to_have_class("equal")
    # Hide equal values: the equal tag goes, the differing param stays.
    page.get_by_test_id("hide-equal").check()
    expect(table.locator('tr[data-key="tags.stage"]')).to_have_count(0)
    expect(table.locator('tr[data-key="params.lr"]')).to_be_visible()
    page.get_by_test_id("hide-equal").uncheck()
    expect(table.locator('tr[data-key="tags.stage"]')).to_be_visible()

    # Overlaid metric charts: one series per run.
    card = page.locator('.chart-card[data-metric="loss"]')
    card.scroll_into_view_if_needed()  # charts draw when they come into view
    chart = card.get_by_test_id("metric-chart")
    expect(chart).to_have_attribute("data-series", "3")
    expect(chart.locator("canvas")).to_be_visible()

    # Parallel coordinates: a line per run over the differing params and metrics.
    parallel = page.get_by_test_id("parallel-coordinates")
    expect(parallel.locator("path[data-run-id]")).to_have_count(3)
    axes = [a.get_attribute("data-axis") for a in parallel.locator("[data-axis]").all()]
    assert {"params.lr", "params.depth", "metrics.acc", "metrics.loss"} <= set(axes)
    page.locator("details.axis-chooser summary").click()
    page.locator('[data-axis-option="params.depth"]').uncheck()
    expect(parallel.locator('[data-axis="params.depth"]')).to_have_count(0)
    expect(page.get_by_test_id("parallel-coordinates").locator("path[data-run-id]")).to_have_count(
        3
    )

    # Scatter: 3 points, redrawn when an axis changes.
    scatter = page.get_by_test_id("scatter-chart")
    expect(scatter).to_have_attribute("data-points", "3")
    page.get_by_test_id("scatter-x").select_option("metrics.loss")
    expect(page.get_by_test_id("scatter-chart").locator(".u-legend")).to_contain_text(
        "metrics.loss"
    )
    expect(page.get_by_test_id("scatter-chart")).to_have_attribute("data-points", "3")


def test_mlflow_link_form(ui_server: UiServer, page: Page) -> None:
    seed = ui_server.seed
    runs = quote(json.dumps(seed.runs[:2]))
    experiments = quote(json.dumps([seed.experiment_id]))
    ui_server.open(page, f"#/compare-runs?runs={runs}&experiments={experiments}")
    heads = page.locator('[data-testid="compare-table"] thead th[data-run-id]')
    assert [h.get_attribute("data-run-id") for h in heads.all()] == seed.runs[:2]


def test_two_to_a_hundred_runs(ui_server: UiServer, page: Page) -> None:
    _open(ui_server, page, ui_server.seed.runs[:1])
    expect(page.get_by_test_id("compare-message")).to_contain_text("names 1 run")
    _open(ui_server, page, [f"{i:032x}" for i in range(101)])
    expect(page.get_by_test_id("compare-message")).to_contain_text("names 101 runs")
