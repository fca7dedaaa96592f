"""Incident review in headless Chromium against the stand-in API (tests/e2e/fake_api.py): the time picker and
the past-view banner, replay with positions that stay put, the diff page's ranking, snapshots saved, listed
and reopened from their stored topology, annotations on the side panel's charts."""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from dashboards.app import create_app
from observe.settings import Settings
from tests.e2e.conftest import Console, screenshot, served_ui, warm_stack
from tests.e2e.fake_api import FakeApi, fixture
from tests.e2e.ui_server import UiServer
from tests.integration.stack import Stack

pytestmark = pytest.mark.e2e

Page = tuple[Any, Console]
AT = "2026-11-20T10:00:00Z"
QUIET_EDGE = "bookinfo/svc/reviews"  # an edge that comes and goes during the replay
POSITIONS = "() => Object.fromEntries(window.cy.nodes().map(n => [n.id(), [n.position('x'), n.position('y')]]))"


def flickering() -> Any:
    """Bookinfo, but every other answer lacks one edge (and its node): what a replay through an outage sees."""
    full = fixture("topology_bookinfo.json")
    thin = {**full, "edges": [e for e in full["edges"] if e["target"] != QUIET_EDGE],
            "nodes": [n for n in full["nodes"] if n["id"] != QUIET_EDGE]}  # fmt: skip
    answers = itertools.cycle([full, thin])
    return lambda: copy.deepcopy(next(answers))


@pytest.fixture
def served() -> Iterator[tuple[FakeApi, str]]:
    with served_ui(flickering()) as running:
        yield running


def query_of(tab: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(tab.url).query).items()}


def test_the_time_picker_sets_at_and_the_banner_says_it_is_the_past(page: Page, served: tuple[FakeApi, str]) -> None:
    api, url = served
    tab, console = page
    tab.goto(url + "/?window=5m")
    tab.wait_for_selector("table.edge-table tbody tr")
    tab.wait_for_function("() => document.querySelector('#at-time').value !== ''")  # the bar shows now…
    tab.fill("#at-date", "2026-11-20")  # …and the user picks another instant
    tab.press("#at-date", "Enter")  # a field commits its value with Enter
    # The page's answer to the date sets the bar's fields again, and on a loaded machine it can land after the
    # time below is typed, which then goes ("Go" is the time's Enter) with the time the bar showed: typed again
    # then (at most 3 times), as a user would.
    for attempt in range(3):
        tab.fill("#at-time", "10:00")
        tab.press("#at-time", "Enter")
        try:
            tab.wait_for_function(f"() => new URLSearchParams(location.search).get('at') === '{AT}'", timeout=5_000)
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    assert query_of(tab) == {"window": "5m", "at": AT}
    tab.wait_for_selector(".banner.info")
    assert "Time travel" in tab.inner_text("#banner")
    assert any("at=2026-11-20T10%3A00%3A00Z" in r and r.startswith("/api/v1/topology") for r in api.requests)
    screenshot(tab, "review-past-view")
    tab.click("#at-now")
    tab.wait_for_function("() => !location.search.includes('at=')")
    tab.wait_for_function("() => !document.querySelector('#banner').innerText.includes('Time travel')")
    assert console.errors() == []


def test_replay_steps_through_the_hour_and_nodes_stay_put(page: Page, served: tuple[FakeApi, str]) -> None:
    api, url = served
    tab, console = page
    tab.goto(url + f"/?at={AT}")
    tab.wait_for_selector("table.edge-table tbody tr")
    tab.click("#replay-start")
    tab.wait_for_function("() => location.search.includes('replay_from=')")
    assert query_of(tab)["replay_from"] == query_of(tab)["at"] == "2026-11-20T09:00:00Z"
    tab.wait_for_selector("#replay-box:not([hidden])")
    tab.wait_for_function("() => window.cy && window.cy.nodes().length > 0")
    first = tab.evaluate(POSITIONS)
    tab.click("#replay-play")
    seen, quiet_node_shown = set(), {QUIET_EDGE in first}
    for _ in range(4):  # four frames, each a new answer with the quiet edge there or not
        before = query_of(tab)["at"].replace(":", "%3A")
        tab.wait_for_function("(at) => !location.search.includes('at=' + at + '&')", arg=before)
        tab.wait_for_function("(at) => document.querySelector('.edge-table caption') !== null", arg=before)
        seen.add(query_of(tab)["at"])
        positions = tab.evaluate(POSITIONS)
        quiet_node_shown.add(QUIET_EDGE in positions)
        common = {n for n in set(positions) & set(first) if not n.startswith("ns:")}  # boxes wrap what is shown
        assert {n: positions[n] for n in common} == {n: first[n] for n in common}  # nothing moved
    tab.click("#replay-play")  # pause
    assert len(seen) == 4 and all(at.startswith("2026-11-20T09:0") for at in seen)
    assert quiet_node_shown == {True, False}  # the graph did change under the replay, and nodes stayed put
    assert query_of(tab)["replay_from"] == "2026-11-20T09:00:00Z"
    assert sum(r.startswith("/api/v1/topology") and "at=2026-11-20T09%3A0" in r for r in api.requests) >= 3
    screenshot(tab, "review-replay")
    tab.click("#replay-stop")
    tab.wait_for_function("() => !location.search.includes('replay_from=')")
    assert console.errors() == []


def test_the_diff_view_ranks_the_changes(page: Page, served: tuple[FakeApi, str]) -> None:
    api, url = served
    tab, console = page
    tab.goto(url + f"/?at={AT}&window=5m")
    tab.wait_for_selector("table.edge-table tbody tr")
    tab.click("#compare-link")
    tab.wait_for_selector(".diff-table tbody tr")
    assert urlsplit(tab.url).path == "/diff"
    assert query_of(tab) == {"at": AT, "diff": "2026-11-20T09:00:00Z", "window": "5m"}
    first = tab.inner_text(".diff-table tbody tr:first-child")
    assert "worse" in first and "bookinfo/reviews/v2" in first and "100% → 80.00%" in first
    assert tab.locator(".diff-table tbody tr").count() == 9
    tab.wait_for_function("() => window.cy && window.cy.edges('.worse').length === 1")
    assert tab.evaluate("() => window.cy.edges('.added').length") == 1
    assert "worse: width grows with impact" in tab.inner_text("#page-diff .legend")
    b_at = int(datetime(2026, 11, 20, 10, tzinfo=UTC).timestamp())
    assert f"/api/v1/diff?a_at={b_at - 3600}&b_at={b_at}&graph=versioned-app&window=5m" in api.requests
    screenshot(tab, "review-diff")
    assert console.errors() == []


def test_a_snapshot_is_saved_listed_and_reopened_from_its_stored_topology(page: Page) -> None:
    live = fixture("topology_bookinfo.json")
    live["edges"] = live["edges"][:2]  # today's mesh differs from the snapshot's: reopening must not ask it
    tab, console = page
    with served_ui(lambda: copy.deepcopy(live)) as (api, url):
        tab.goto(url + f"/?at={AT}&window=5m")
        tab.wait_for_selector("#snap-box:not([hidden])")
        tab.click("#snap-box summary")
        tab.fill("#snap-title", "before the rollback")
        tab.fill("#snap-notes", "reviews-v2 fails")
        tab.click("#snap-save")
        tab.wait_for_function("() => document.querySelector('#snap-status')?.innerText.includes('Saved')")
        post = next(r for r in api.requests if r.startswith("POST"))
        assert '"at": "2026-11-20T10:00:00Z"' in post and '"title": "before the rollback"' in post
        tab.goto(url + "/snapshots")
        tab.wait_for_selector(".snapshot-table tbody tr")
        assert tab.locator(".snapshot-table tbody tr").count() == 2
        assert "before the rollback" in tab.inner_text(".snapshot-table")
        screenshot(tab, "review-snapshots")
        tab.click(".snapshot-table tbody tr:last-child a.snap-open")
        tab.wait_for_selector(".snapshot-banner")
        assert query_of(tab)["snapshot"] == "Sn4pSh0tReviewV2" and query_of(tab)["window"] == "5m"
        assert "reviews-v2 error spike" in tab.inner_text("#banner")
        tab.wait_for_function("() => document.querySelector('.edge-table caption')?.innerText === '8 edges'")
        screenshot(tab, "review-snapshot-reopened")
        with tab.expect_download() as download:
            tab.goto(url + "/snapshots")
            tab.click(".snapshot-table tbody tr:last-child >> text=report (HTML)")
        assert download.value.suggested_filename == "snapshot-Sn4pSh0tReviewV2.html"
    assert console.errors() == []


def test_no_save_button_when_the_api_has_no_snapshots(page: Page, served: tuple[FakeApi, str]) -> None:
    api, url = served
    api.serve_snapshots = False  # a server started without --data-dir answers 501
    tab, console = page
    tab.goto(url + "/")
    tab.wait_for_selector("table.edge-table tbody tr")
    for _ in range(50):  # bounded: until the page has asked whether snapshots exist
        if "/api/v1/snapshots" in api.requests:
            break
        tab.wait_for_timeout(100)
    tab.wait_for_load_state("networkidle")
    assert "/api/v1/snapshots" in api.requests and tab.evaluate("() => document.querySelector('#snap-box').hidden")
    tab.goto(url + "/snapshots")
    tab.wait_for_selector("#snapshots-status .banner")
    assert "snapshots are off on this server" in tab.inner_text("#snapshots-status")
    assert console.errors() == []


def test_edits_and_snapshots_are_marked_on_the_side_panel_charts(page: Page, served: tuple[FakeApi, str]) -> None:
    _, url = served
    tab, console = page
    series = fixture("edge_series.json")  # the annotations fixture has an edit and a snapshot in its window
    tab.goto(url + f"/?at={series['end']:.0f}&window=5m&edge=bookinfo/productpage/v1->bookinfo/reviews/v2")
    tab.wait_for_selector("#panel-body:not([hidden])")
    tab.wait_for_function("() => document.querySelectorAll('#panel-rps .annotation-text').length === 2")
    assert tab.text_content("#panel-rps .annotation-text >> nth=0") == "✎"
    screenshot(tab, "review-annotations")
    assert console.errors() == []


# ---- against the real stack: demo mesh → Prometheus → observe API (with a data dir) → UI ----------------------
@pytest.fixture(scope="module")
def review_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    """The demo stack with snapshots on (a data dir), warmed up until metrics show every Bookinfo edge."""
    data = tmp_path_factory.mktemp("observe-data")
    settings = Settings(percentile_refresh="5s", data_dir=str(data), audit_db=str(data / "audit.sqlite3"))
    with warm_stack(settings) as running:
        ui = UiServer(create_app(running.api_url)).start()
        try:
            yield running, ui.url
        finally:
            ui.stop()


def test_real_api_snapshot_reopens_and_marks_the_charts(page: Page, review_stack: tuple[Stack, str]) -> None:
    stack, url = review_stack
    tab, console = page
    tab.set_default_timeout(60_000)  # the real stack shares two cores with Prometheus: slower, still bounded
    tab.goto(url + "/?window=1m&namespace=bookinfo")
    tab.wait_for_function("() => document.querySelectorAll('table.edge-table tbody tr').length >= 6")
    tab.wait_for_selector("#snap-box:not([hidden])")  # the API has a data dir: snapshots are offered
    tab.click("#snap-box summary")
    tab.fill("#snap-title", "reviews-v2 errors")
    tab.click("#snap-save")
    tab.wait_for_function("() => document.querySelector('#snap-status')?.innerText.includes('Saved')")
    saved = stack.api("/api/v1/snapshots")["snapshots"]
    assert [s["title"] for s in saved] == ["reviews-v2 errors"] and saved[0]["namespaces"] == ["bookinfo"]
    tab.goto(url + "/snapshots")
    tab.click(".snapshot-table a.snap-open")
    tab.wait_for_selector(".snapshot-banner")
    tab.wait_for_function("() => document.querySelectorAll('table.edge-table tbody tr').length >= 6")
    stored = {(e["source"], e["target"]) for e in stack.api(f"/api/v1/snapshots/{saved[0]['id']}")["topology"]["edges"]}
    shown = {tuple(r) for r in tab.evaluate("""() => Array.from(document.querySelectorAll('table.edge-table tbody tr'))
        .map(tr => [tr.cells[1].innerText.trim(), tr.cells[2].innerText.trim()])""")}  # fmt: skip
    assert shown == stored  # the stored topology, edge for edge
    tab.goto(tab.url + "&edge=bookinfo/productpage/v1->bookinfo/reviews/v2")
    tab.wait_for_selector("#panel-body:not([hidden])")
    tab.wait_for_function("() => Array.from(document.querySelectorAll('#panel-rps .annotation-text'))"
                          ".some(a => a.textContent === '◉')")  # the snapshot itself, on the chart  # fmt: skip
    screenshot(tab, "review-real-snapshot")
    assert console.errors() == []


def test_real_api_diff_against_a_minute_before(page: Page, review_stack: tuple[Stack, str]) -> None:
    stack, url = review_stack
    tab, console = page
    tab.set_default_timeout(60_000)  # the real stack shares two cores with Prometheus: slower, still bounded
    b = time.time() - 5
    tab.goto(url + f"/diff?at={b:.0f}&diff={b - 40:.0f}&window=1m&namespace=bookinfo")
    tab.wait_for_selector(".diff-table tbody tr")
    assert tab.locator("#diff-banner .banner.error").count() == 0
    ranked = tab.evaluate("() => Array.from(document.querySelectorAll('.diff-table tbody tr'))"
                          ".map(tr => [tr.cells[2].innerText, tr.cells[3].innerText])")  # fmt: skip
    expected = stack.api("/api/v1/diff", a_at=f"{b - 40:.0f}", b_at=f"{b:.0f}", window="1m", namespace="bookinfo")
    assert [list(r) for r in ranked] == [[e["source"], e["target"]] for e in expected["edges"]][:50]  # the API's order
    tab.wait_for_function("() => window.cy && window.cy.edges().length >= 6")
    screenshot(tab, "review-real-diff")
    assert console.errors() == []
