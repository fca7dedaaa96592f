"""The UI in headless Chromium against the real stack: demo mesh → Prometheus → observe API → Dash UI."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.conftest import BOOKINFO_EDGES, Console, screenshot

pytestmark = pytest.mark.e2e

PP = "bookinfo/productpage/v1"
V2 = "bookinfo/reviews/v2"
Page = tuple[Any, Console]

TABLE_EDGES = """() => Array.from(document.querySelectorAll('table.edge-table tbody tr'))
    .map(tr => [tr.cells[1].innerText.trim(), tr.cells[2].innerText.trim()])"""
EDGE_POINT = """(id) => { const e = window.cy.getElementById(id); if (e.empty()) return null;
    const p = e.renderedMidpoint(), r = window.cy.container().getBoundingClientRect();
    return {x: r.left + p.x, y: r.top + p.y}; }"""
CHART_POINTS = """(id) => { const plot = document.querySelector('#' + id + ' .js-plotly-plot');
    return plot && plot.data ? plot.data.reduce((n, t) => n + (t.x ? t.x.filter((_, i) => t.y[i] !== null).length
    : 0), 0) : 0; }"""


def rows(page: Any) -> set[tuple[str, str]]:
    return {(s, t) for s, t in page.evaluate(TABLE_EDGES)}


def wait_for_rows(page: Any, count: int) -> None:
    page.wait_for_function(f"() => document.querySelectorAll('table.edge-table tbody tr').length >= {count}")


def test_topology_lists_every_bookinfo_edge_without_console_errors(page: Page, ui_url: str) -> None:
    tab, console = page
    tab.goto(ui_url + "/?window=1m")
    wait_for_rows(tab, len(BOOKINFO_EDGES))
    tab.wait_for_function("() => window.cy && window.cy.edges().length >= 7")
    assert rows(tab) >= BOOKINFO_EDGES
    failing = tab.locator("table.edge-table tbody tr", has_text=V2).filter(has_text=PP)
    assert "failing" in failing.inner_text()  # 20% errors: the status is in words, not colour alone
    assert failing.locator("td").nth(7).inner_text().endswith("ms")  # P99 from the histogram
    screenshot(tab, "topology")
    assert console.errors() == [] and console.unexpected_warnings() == []


def test_clicking_an_edge_opens_the_panel_with_charts(page: Page, ui_url: str) -> None:
    tab, console = page
    tab.goto(ui_url + "/?window=1m")
    tab.wait_for_function("() => window.cy && window.cy.edges().length >= 7")
    tab.wait_for_timeout(500)  # the preset layout's fit runs once the elements are in
    point = tab.evaluate(EDGE_POINT, f"e:{PP}->{V2}")
    tab.mouse.click(point["x"], point["y"])
    tab.wait_for_selector("#panel-body:not([hidden])")
    assert tab.inner_text("#panel-title") == "productpage v1 → reviews v2"
    assert "edge=" in tab.url and urllib.parse.unquote(tab.url).endswith(f"{PP}->{V2}")
    for chart in ("panel-rps", "panel-success", "panel-latency", "panel-codes"):
        tab.wait_for_function(f"() => ({CHART_POINTS})('{chart}') > 0")
    summary = tab.inner_text("#panel-summary")
    assert "failing" in summary and "500:" in summary and "P99 histogram" in summary
    screenshot(tab, "edge-panel")
    assert console.errors() == []


def test_url_reproduces_the_view_and_back_restores_it(page: Page, ui_url: str) -> None:
    tab, console = page
    tab.goto(ui_url + f"/?graph=versioned-app&label=p99&filter=app%3Dratings&node={V2}&sort=p99")
    tab.wait_for_selector("#panel-body:not([hidden])")
    wait_for_rows(tab, 2)
    assert rows(tab) == {(f"bookinfo/reviews/{v}", "bookinfo/ratings/v1") for v in ("v2", "v3")}
    assert tab.input_value("#ctl-filter") == "app=ratings"
    assert tab.is_checked("#ctl-label input[value=p99]")
    assert tab.inner_text("#panel-title") == "reviews v2 (inbound)"
    tab.check("#ctl-label input[value=success]")
    tab.wait_for_function("() => location.search.includes('label=success')")
    tab.go_back()
    tab.wait_for_function("() => location.search.includes('label=p99')")
    tab.wait_for_function("() => document.querySelector('#ctl-label input[value=p99]').checked")
    assert console.errors() == []


def test_a_bad_filter_is_an_inline_error(page: Page, ui_url: str) -> None:
    tab, console = page
    tab.goto(ui_url + "/?window=1m")
    wait_for_rows(tab, len(BOOKINFO_EDGES))
    tab.fill("#ctl-filter", "rsp>1 and")
    tab.press("#ctl-filter", "Enter")
    tab.wait_for_function("() => document.querySelector('#filter-error')?.innerText.includes('unknown field')")
    assert rows(tab) >= BOOKINFO_EDGES  # nothing hidden by a filter that does not parse
    tab.fill("#ctl-filter", "success<99")
    tab.press("#ctl-filter", "Enter")
    tab.wait_for_function("() => document.querySelector('#filter-error')?.innerText === ''")
    tab.wait_for_function("() => document.querySelectorAll('table.edge-table tbody tr').length < 7")
    assert (PP, V2) in rows(tab)
    screenshot(tab, "filtered")
    assert console.errors() == []


def test_kiosk_renders_tiles(page: Page, ui_url: str) -> None:
    tab, console = page
    tab.goto(ui_url + "/?kiosk=1&watch=bookinfo/reviews,bookinfo/productpage,bookinfo/reviews/v1")
    tab.wait_for_function("() => document.querySelectorAll('.tile').length === 3")
    assert not tab.is_visible("#controls") and not tab.is_visible("#edge-table-box") and not tab.is_visible("#nav")
    reviews = tab.locator(".tile", has_text="bookinfo/reviews").first
    assert "tile failing" in (reviews.get_attribute("class") or "") and "FAILING" in reviews.inner_text()
    release = tab.locator(".tile", has_text="bookinfo/reviews/v1")
    assert "HEALTHY" in release.inner_text()
    assert "refreshing every 10 s" in tab.inner_text(".kiosk-status")
    screenshot(tab, "kiosk")
    assert console.errors() == []


def test_traces_page_shows_a_waterfall(page: Page, ui_url: str) -> None:
    tab, console = page
    tab.goto(ui_url + "/traces?window=1m&service=productpage")
    tab.wait_for_selector("table.trace-table tbody tr")
    tab.locator("table.trace-table tbody tr button").first.click()
    tab.wait_for_function("() => location.search.includes('trace=')")
    tab.wait_for_selector("#trace-section:not([hidden])")
    tab.wait_for_function("() => document.querySelectorAll('#waterfall .barlayer .point').length >= 2")
    assert "service" in tab.inner_text("#span-details") and "productpage" in tab.inner_text("#span-details")
    bars = tab.locator("#waterfall .barlayer .point path")
    # The widest bar below the top row is a child span (rows are depth-first from the root at the top; bars are
    # grouped by status in the DOM, so position, not order, tells them apart). The widest, because Plotly finds
    # the clicked bar under the pointer and a short span's bar can be under a pixel wide. Its details replace
    # the root's; clicked again (at most 3 times) if they do not: on a loaded machine the first click can land
    # while Plotly is still laying the figure out.
    for attempt in range(3):
        boxes = bars.evaluate_all("ps => ps.map(p => [p.getBoundingClientRect().top, p.getBoundingClientRect().width])")
        root_top = min(top for top, _ in boxes)
        children = [i for i, (top, _) in enumerate(boxes) if top > root_top]
        bars.nth(max(children, key=lambda i: boxes[i][1])).click(force=True)
        try:
            tab.wait_for_function("() => !document.querySelector('#span-details').innerText.includes('– (root)')",
                                  timeout=8_000)  # fmt: skip
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    screenshot(tab, "traces")
    assert console.errors() == []
