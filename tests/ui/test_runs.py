"""The runs table: server-side paging and sorting, the search DSL and its errors, quick
filters, the remembered column choice, nested runs, and selection to compare or delete."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from mlflowx.entities import Metric, Param
from tests.fixtures.browser import Console, UiServer, browser_test

pytestmark = browser_test
ROWS = 'table[data-testid="runs-table"] tbody tr[data-run-id]'


@pytest.fixture(scope="module")
def thirty(ui_server: UiServer) -> tuple[str, list[str]]:
    """An experiment of 30 runs: metric m = i % 7, param p = the run number, two digits."""
    client = ui_server.client()
    eid = client.create_experiment(f"thirty-{uuid.uuid4().hex[:6]}")
    ids = []
    for i in range(30):
        run = client.create_run(eid, run_name=f"r{i:02d}", start_time=1_000_000 + i)
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("m", float(i % 7), 1, 0)],
            params=[Param("p", f"{(i * 11) % 30:02d}")],
        )
        ids.append(run.info.run_id)
    return eid, ids


def _shown(page: Page) -> list[str]:
    page.wait_for_selector('main[aria-busy="false"]')
    return [r.get_attribute("data-run-id") or "" for r in page.locator(ROWS).all()]


def _api_order(ui_server: UiServer, eid: str, order: str, n: int = 25) -> list[str]:
    runs = ui_server.client().search_runs([eid], order_by=[order], max_results=n)
    return [r.info.run_id for r in runs]


def test_paging(ui_server: UiServer, page: Page, thirty: tuple[str, list[str]]) -> None:
    eid, ids = thirty
    ui_server.open(page, f"#/experiments/{eid}?size=25")
    newest_first = ids[::-1]
    assert _shown(page) == newest_first[:25]
    expect(page.get_by_test_id("prev-page")).to_be_disabled()
    page.get_by_test_id("next-page").click()
    assert _shown(page) == newest_first[25:]
    expect(page.get_by_test_id("page-range")).to_have_text("Showing 26–30")
    expect(page.get_by_test_id("next-page")).to_be_disabled()
    page.get_by_test_id("prev-page").click()
    assert _shown(page) == newest_first[:25]


def test_sort_by_metric_and_param_on_the_server(
    ui_server: UiServer, page: Page, thirty: tuple[str, list[str]]
) -> None:
    eid, _ = thirty
    ui_server.open(page, f"#/experiments/{eid}?size=25")
    header = page.locator('th[data-key="metrics.m"]')
    header.click()
    expect(header).to_have_attribute("aria-sort", "descending")
    assert _shown(page) == _api_order(ui_server, eid, "metrics.m DESC")
    header.click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    assert _shown(page) == _api_order(ui_server, eid, "metrics.m ASC")
    param = page.locator('th[data-key="params.p"]')
    param.click()
    expect(param).to_have_attribute("aria-sort", "ascending")
    assert _shown(page) == _api_order(ui_server, eid, "params.p ASC")
    # The second page continues the server's order.
    page.get_by_test_id("next-page").click()
    assert _shown(page) == _api_order(ui_server, eid, "params.p ASC", 30)[25:]
    # The order is in the URL: a reload keeps it.
    page.reload()
    assert _shown(page) == _api_order(ui_server, eid, "params.p ASC")


def test_search_error_is_shown_at_its_token(
    ui_server: UiServer, page: Page, console: Console, thirty: tuple[str, list[str]]
) -> None:
    console.allow("status of 400")
    eid, _ = thirty
    ui_server.open(page, f"#/experiments/{eid}?size=25")
    before = _shown(page)
    box = page.get_by_test_id("search-filter")
    box.fill("metrics.m >= and params.p = '01'")
    box.press("Enter")
    error = page.get_by_test_id("search-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("at position 13")
    expect(page.get_by_test_id("search-error-token")).to_have_text("and")
    expect(box).to_have_attribute("aria-invalid", "true")
    assert _shown(page) == before  # the runs shown stay
    box.fill("metrics.m >= 6")
    box.press("Enter")
    expect(error).to_be_hidden()
    assert sorted(_shown(page)) == sorted(
        r.info.run_id for r in ui_server.client().search_runs([eid], "metrics.m >= 6")
    )


def test_quick_filters_compose_with_the_dsl(ui_server: UiServer, page: Page) -> None:
    seed = ui_server.seed
    ui_server.open(page, f"#/experiments/{seed.experiment_id}")
    page.get_by_test_id("status-filter").select_option("FAILED")
    assert _shown(page) == [seed.runs[4]]
    expect(page.get_by_test_id("effective-filter")).to_contain_text("attributes.status = 'FAILED'")
    page.get_by_test_id("status-filter").select_option("")
    page.get_by_test_id("search-filter").fill("tags.team = 'a'")
    page.get_by_test_id("search-filter").press("Enter")
    page.get_by_test_id("time-filter").select_option("24h")
    assert sorted(_shown(page)) == sorted(seed.runs[0::2])
    page.get_by_test_id("user-filter").fill("nobody-at-all")
    page.get_by_test_id("user-filter").press("Enter")
    assert _shown(page) == []


def test_column_choice_is_remembered(ui_server: UiServer, page: Page) -> None:
    seed = ui_server.seed
    ui_server.open(page, f"#/experiments/{seed.experiment_id}")
    expect(page.locator('th[data-key="metrics.loss"]')).to_be_visible()
    page.get_by_test_id("columns-button").click()
    page.locator('[data-column="metrics.loss"]').uncheck()
    page.locator('[data-column="tags.team"]').check()
    expect(page.locator('th[data-key="metrics.loss"]')).to_have_count(0)
    expect(page.locator('th[data-key="tags.team"]')).to_be_visible()
    page.reload()
    page.wait_for_selector('main[aria-busy="false"]')
    expect(page.locator('th[data-key="metrics.loss"]')).to_have_count(0)
    expect(page.locator('th[data-key="tags.team"]')).to_be_visible()
    page.get_by_test_id("columns-button").click()
    page.locator('[data-testid="column-panel"] >> text=Reset').click()
    expect(page.locator('th[data-key="metrics.loss"]')).to_be_visible()


def test_nested_runs_as_a_tree(ui_server: UiServer, page: Page) -> None:
    seed = ui_server.seed
    ui_server.open(page, f"#/experiments/{seed.experiment_id}")
    assert sorted(_shown(page)) == sorted(seed.runs)  # top level only
    parent = page.locator(f'tr[data-run-id="{seed.parent}"]')
    toggle = parent.locator(".tree-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    for child in seed.children:
        expect(page.locator(f'tr[data-run-id="{child}"][data-depth="1"]')).to_be_visible()
    toggle = page.locator(f'tr[data-run-id="{seed.parent}"] .tree-toggle')
    toggle.click()
    expect(page.locator(f'tr[data-run-id="{seed.children[0]}"]')).to_have_count(0)
    page.get_by_test_id("flat-view").click()
    assert sorted(_shown(page)) == sorted(seed.runs + seed.children)


def test_select_three_runs_to_compare(ui_server: UiServer, page: Page) -> None:
    seed = ui_server.seed
    ui_server.open(page, f"#/experiments/{seed.experiment_id}")
    chosen = seed.runs[1:4]
    for run_id in chosen:
        page.locator(f'tr[data-run-id="{run_id}"] input[type="checkbox"]').check()
    expect(page.get_by_test_id("selection-count")).to_have_text("3 selected")
    page.get_by_test_id("compare-selected").click()
    page.wait_for_selector('main[data-page="compare"][aria-busy="false"]')
    assert page.url.split("#", 1)[1].startswith("/compare-runs?runs=")
    shown = page.locator('[data-testid="compare-runs"] [data-run-id]').all()
    assert sorted(a.get_attribute("data-run-id") or "" for a in shown) == sorted(chosen)


def test_delete_and_restore_selected_runs(ui_server: UiServer, page: Page) -> None:
    client = ui_server.client()
    eid = client.create_experiment(f"deleting-{uuid.uuid4().hex[:6]}")
    ids = [client.create_run(eid, run_name=f"d{i}").info.run_id for i in range(3)]
    ui_server.open(page, f"#/experiments/{eid}")
    for run_id in ids[:2]:
        page.locator(f'tr[data-run-id="{run_id}"] input[type="checkbox"]').check()
    page.get_by_test_id("delete-selected").click()
    page.click('dialog button[type="submit"]')
    expect(page.locator(".toast-success")).to_contain_text("Deleted 2 runs")
    assert _shown(page) == [ids[2]]
    assert [client.get_run(i).info.lifecycle_stage for i in ids] == ["deleted", "deleted", "active"]
    page.get_by_test_id("show-deleted-runs").click()
    assert sorted(_shown(page)) == sorted(ids[:2])
    page.locator('table[data-testid="runs-table"] thead input[type="checkbox"]').check()
    page.get_by_test_id("delete-selected").click()  # "Restore" in the deleted view
    expect(page.locator(".toast-success").last).to_contain_text("Restored 2 runs")
    assert [client.get_run(i).info.lifecycle_stage for i in ids] == ["active"] * 3
