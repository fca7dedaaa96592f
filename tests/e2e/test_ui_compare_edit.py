"""The compare page and circuit-breaker edits in headless Chromium, against a real stack that takes writes.

Its own stack (the shared one is read-only): demo mesh with 20 % HTTP 500 from reviews-v2, Prometheus, and an
API with a rules directory, writes on and a token. Two UI servers: a writer (holding the token, as `observe ui
--write-token` does) and a viewer (no credentials), which must render no write control at all.
"""

from __future__ import annotations

import shutil
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboards.app import create_app
from observe.demo.mesh import Fault, MeshConfig
from observe.settings import Settings
from tests.e2e.conftest import REVIEWS_V2_ERRORS, WARM_UP_S, Console, screenshot
from tests.e2e.ui_server import UiServer
from tests.integration.stack import Stack

pytestmark = pytest.mark.e2e

TOKEN = "e2e-write-token"
VERDICTS = {"NO_TRAFFIC", "INSUFFICIENT_DATA", "PASS", "MARGINAL", "FAIL", "CRITICAL", "ERROR", "NOT_COMPARABLE"}
COMPARE = "/compare?namespace=bookinfo&service=reviews&baseline=v1&canary=v2&window=1m"
WEIGHT_BUTTONS = "#cmp-weights button[id*=wt-action]"  # the weight form's own buttons, not the other strategies'
REVIEWS_V2 = "/?node=bookinfo/reviews/v2&window=1m"
Page = tuple[Any, Console]


@pytest.fixture(scope="module")
def edit_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if shutil.which("prometheus") is None:
        pytest.skip("the prometheus binary is not installed (make system-deps)")
    rules: Path = tmp_path_factory.mktemp("rules")
    settings = Settings(rules_dir=str(rules), audit_db=str(rules.parent / "audit.sqlite3"), allow_writes=True,
                        write_token=TOKEN, percentile_refresh="5s")  # fmt: skip
    config = MeshConfig(rps=20.0, seed=7, rules_dir=str(rules),
                        faults={"reviews-v2": Fault(error_ratio=REVIEWS_V2_ERRORS)})  # fmt: skip
    running = Stack(config, settings=settings).start()
    try:
        deadline = time.monotonic() + WARM_UP_S
        while not all(v["requests"] for v in _versions(running)) or len(_versions(running)) < 2:
            if time.monotonic() > deadline:
                pytest.fail(f"reviews v1 and v2 had no requests in metrics within {WARM_UP_S:g} s")
            time.sleep(1)
        time.sleep(6)  # a few more scrapes: several points per series
        yield running
    finally:
        running.stop()


def _versions(stack: Stack) -> list[dict[str, Any]]:
    try:
        answer = stack.api("/api/v1/versions", namespace="bookinfo", service="reviews", window="1m")
    except urllib.error.HTTPError:  # 404 until Prometheus has seen the service
        return []
    return [v for v in answer["versions"] if v["version"] in ("v1", "v2")]


@pytest.fixture(scope="module")
def writer_url(edit_stack: Stack) -> Iterator[str]:
    server = UiServer(create_app(edit_stack.api_url, write_token=TOKEN)).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def viewer_url(edit_stack: Stack) -> Iterator[str]:
    server = UiServer(create_app(edit_stack.api_url)).start()
    try:
        yield server.url
    finally:
        server.stop()


def test_compare_page_shows_a_verdict_with_its_reason_and_both_columns(page: Page, writer_url: str) -> None:
    tab, console = page
    tab.goto(writer_url + COMPARE)
    tab.wait_for_selector("#cmp-verdict-chip")
    assert tab.inner_text("#cmp-verdict-chip") in VERDICTS
    assert tab.inner_text("#cmp-reason").strip()
    header = tab.inner_text("#cmp-table thead")
    assert "stable" in header and "canary" in header
    versions = tab.locator("#cmp-table tbody tr").first.inner_text()
    assert "v1" in versions and "v2" in versions
    assert "Success" in tab.inner_text("#cmp-table") and "ratings" in tab.inner_text("#cmp-outbound")
    for chart in ("cmp-rps", "cmp-success", "cmp-diff", "cmp-latency"):
        tab.wait_for_function(f"() => {{ const p = document.querySelector('#{chart} .js-plotly-plot');"
                              f" return p && p.data && p.data.length > 0; }}")  # fmt: skip
    assert tab.is_visible("#cmp-weights-box") and tab.locator(WEIGHT_BUTTONS).count() == 4
    assert "v1" in tab.inner_text("#cmp-baseline") and "v2" in tab.inner_text("#cmp-canary")
    screenshot(tab, "compare")
    assert console.errors() == []


def test_weight_preview_shows_the_virtual_service_diff(page: Page, writer_url: str) -> None:
    tab, console = page
    tab.goto(writer_url + COMPARE)
    tab.wait_for_selector(WEIGHT_BUTTONS)
    tab.locator(WEIGHT_BUTTONS, has_text="Preview").click()
    tab.wait_for_function("() => document.querySelector('#cmp-weight-result')?.innerText.length > 0")
    result = tab.inner_text("#cmp-weight-result")
    assert "weight" in result or "Diff" in result, result  # the API's diff (or its refusal, named)
    screenshot(tab, "compare-weights-preview")
    assert console.errors() == []


def test_circuit_breaker_preview_apply_history_and_revert(page: Page, writer_url: str) -> None:
    tab, console = page
    tab.goto(writer_url + REVIEWS_V2)
    tab.wait_for_selector("#panel-edit:not([hidden]) .cb-input")
    assert "reviews.bookinfo" in tab.inner_text("#edit-title")
    field = tab.locator("#panel-edit .cb-grid input").first  # maxConnections
    field.fill("50")
    field.press("Enter")
    tab.locator("#panel-edit button", has_text="Preview").click()
    tab.wait_for_selector("#edit-result .cb-diff")
    assert "+        maxConnections: 50" in tab.inner_text("#edit-result .cb-diff")
    screenshot(tab, "circuit-breaker-preview")
    tab.locator("#panel-edit button", has_text="Apply").click()  # without a reason: refused before any request
    tab.wait_for_selector("#edit-result .cb-error")
    assert "reason" in tab.inner_text("#edit-result")
    tab.locator("#panel-edit .cb-field", has_text="Reason").locator("input").fill("e2e: cap reviews connections")
    tab.locator("#panel-edit button", has_text="Apply").click()
    tab.wait_for_selector("#edit-result .cb-ok")
    tab.wait_for_function("() => document.querySelector('#edit-history')?.innerText.includes('e2e: cap reviews')")
    screenshot(tab, "circuit-breaker-applied")
    tab.locator("#edit-history button", has_text="revert").first.click()
    tab.wait_for_function("() => document.querySelector('#edit-history')?.innerText.includes('revert of #')")
    tab.wait_for_function("() => document.querySelector('#edit-result')?.innerText.includes('Reverted')")
    screenshot(tab, "circuit-breaker-reverted")
    assert console.errors() == []


def test_a_viewer_sees_no_write_controls(page: Page, viewer_url: str) -> None:
    tab, console = page
    tab.goto(viewer_url + REVIEWS_V2)
    tab.wait_for_selector("#panel-edit:not([hidden]) #edit-history h4")  # the history is open to viewers
    assert tab.locator("#panel-edit input, #panel-edit button").count() == 0
    tab.goto(viewer_url + COMPARE)
    tab.wait_for_selector("#cmp-verdict-chip")
    assert tab.locator("#cmp-weights-box").is_hidden() and tab.locator("#cmp-weights button").count() == 0
    screenshot(tab, "compare-viewer")
    assert console.errors() == []


def test_choosing_service_and_versions_writes_the_url(page: Page, viewer_url: str) -> None:
    tab, console = page
    tab.goto(viewer_url + "/compare?window=1m")
    tab.wait_for_function("() => document.querySelector('#cmp-error')?.innerText.includes('Choose')")
    for control, value in (("cmp-namespace", "bookinfo"), ("cmp-service", "reviews"), ("cmp-baseline", "v1"),
                           ("cmp-canary", "v3")):  # fmt: skip
        tab.click(f"#{control}")
        tab.get_by_role("option", name=value, exact=True).click()
        tab.wait_for_function(f"() => location.search.includes('{value}')")
    assert tab.evaluate("() => location.search") == "?namespace=bookinfo&service=reviews&baseline=v1&canary=v3"
    tab.wait_for_selector("#cmp-verdict-chip")
    assert "v3" in tab.locator("#cmp-table tbody tr").first.inner_text()
    assert console.errors() == []
