"""mTLS, mesh readiness and mirroring in headless Chromium, against the stand-in API serving
tests/fixtures/wire/topology_security.json (what the demo mesh shows only after a mirror edit)."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp import web

from dashboards.app import create_app
from tests.e2e.conftest import Console, screenshot, served_ui
from tests.e2e.fake_api import FakeApi, _json, fixture
from tests.e2e.ui_server import UiServer

pytestmark = pytest.mark.e2e

Page = tuple[Any, Console]
PP = "bookinfo/productpage/v1"
STYLE = "(id) => { const e = window.cy.getElementById(id); return e.empty() ? null : e.style('line-style'); }"


@pytest.fixture(scope="module")
def ui() -> Iterator[str]:
    topology = fixture("topology_security.json")
    with served_ui(lambda: copy.deepcopy(topology)) as (_, url):
        yield url


def test_table_says_the_security_and_the_graph_draws_mirrors_dashed(page: Page, ui: str) -> None:
    tab, console = page
    tab.goto(ui + "/?window=5m")
    tab.wait_for_selector("table.edge-table tbody tr")
    tab.wait_for_function("() => window.cy && window.cy.edges().length >= 10")
    rows = tab.locator("table.edge-table tbody tr").all_inner_texts()
    plain = next(r for r in rows if r.startswith("✔ healthy\tbookinfo/reviews/v2"))
    assert "plaintext" in plain
    assert any("mixed" in r and "reviews/v2" in r for r in rows) and any("mTLS" in r for r in rows)
    assert "Security" in tab.inner_text("table.edge-table thead")
    assert tab.evaluate(STYLE, f"m:{PP}->bookinfo/reviews/v3") == "dashed"  # companion of user traffic
    assert tab.evaluate(STYLE, f"e:{PP}->bookinfo/reviews/v3") == "solid"
    assert tab.evaluate(STYLE, f"m:{PP}->bookinfo/details/v2") == "dashed"  # only mirrored traffic
    assert tab.evaluate(STYLE, f"e:{PP}->bookinfo/details/v2") is None
    label = tab.evaluate(f"() => window.cy.getElementById('m:{PP}->bookinfo/reviews/v3').data('label')")
    assert label == "mirror 0.70 rps"
    assert "mirrored copies" in tab.inner_text(".legend")
    screenshot(tab, "mesh-security-graph")
    assert console.errors() == []


def test_mtls_filter_keeps_plaintext_edges_only(page: Page, ui: str) -> None:
    tab, console = page
    tab.goto(ui + "/?window=5m&filter=mtls%3Dnone")
    tab.wait_for_selector("table.edge-table caption:has-text('2 of 9 edges')")
    rows = tab.locator("table.edge-table tbody tr").all_inner_texts()
    assert len(rows) == 2 and all("plaintext" in r for r in rows)
    assert tab.evaluate("() => window.cy.edges().length") == 2
    screenshot(tab, "mesh-security-filter")
    assert console.errors() == []


def test_readiness_problem_and_fix_in_the_side_panel(page: Page, ui: str) -> None:
    tab, console = page
    tab.goto(ui + "/?window=5m&node=bookinfo/ratings/v1")
    tab.wait_for_selector("#panel-body:not([hidden])")
    tab.wait_for_selector("#panel-summary .readiness")
    summary = tab.inner_text("#panel-summary")
    assert "workload ratings-v1 has no version label" in summary
    assert "fix: add the label version: v1 to the pod template" in summary
    label = tab.evaluate("() => window.cy.getElementById('bookinfo/ratings/v1').data('label')")
    assert "⚠ not in mesh" in label
    screenshot(tab, "mesh-security-readiness")
    tab.goto(ui + f"/?window=5m&edge={PP}->bookinfo/reviews/v3")
    tab.wait_for_selector("#panel-summary:has-text('Mirrored')")
    assert "mirror 0.70 rps, success 98.00%" in tab.inner_text("#panel-summary")
    assert console.errors() == []


class StrategyApi(FakeApi):
    """The stand-in API plus what the compare page's strategy forms need: capabilities (writes on), versions,
    a compare answer in mirror mode, and a traffic endpoint that answers a dry run with a diff and refuses a
    match value of `([` naming the field, as observe's API does (422, error.field)."""

    def __init__(self) -> None:
        super().__init__(lambda: fixture("topology_security.json"))
        self.posts: list[dict[str, Any]] = []

    def _app(self) -> web.Application:
        app = super()._app()
        def answer(data: dict[str, Any]) -> Callable[[web.Request], Awaitable[web.Response]]:
            async def handler(_request: web.Request) -> web.Response:
                return _json(data)

            return handler

        app.router.add_get("/api/v1/capabilities", answer({"edits": {"enabled": True, "writes": True}}))
        app.router.add_get("/api/v1/versions", answer(fixture("versions_reviews.json")))
        app.router.add_get("/api/v1/compare", answer(fixture("compare_mirror.json")))
        app.router.add_post("/api/v1/traffic/{namespace}/{service}", self._traffic)
        return app

    async def _traffic(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.posts.append(body)
        if (body.get("match") or {}).get("value") == "([":
            error = {"code": "invalid_edit", "message": "match.value: not a valid RE2 regex", "field": "match.value"}
            return _json({"error": error}, 422)
        diff = f"--- VirtualService/bookinfo/reviews\n+++ VirtualService/bookinfo/reviews\n+  # {body['strategy']}\n"
        return _json({"strategy": body["strategy"], "dry_run": body["dry_run"], "applied": False, "objects": {},
                      "diff": diff, "audit_ids": []})


def test_compare_page_says_the_strategy_and_previews_the_others(page: Page) -> None:
    tab, console = page
    api = StrategyApi().start()
    server = UiServer(create_app(api.url, write_token="e2e-token")).start()
    try:
        tab.goto(server.url + "/compare?namespace=bookinfo&service=reviews&baseline=v1&canary=v2&window=1m")
        tab.wait_for_selector("#cmp-strategy")
        strategy = tab.inner_text("#cmp-strategy")
        assert "Strategy: mirroring — 100% to v1; 10% mirrored to v2" in strategy and "Mirror mode" in strategy
        tab.wait_for_selector("#st-mirror")
        tab.locator("#st-mirror button", has_text="Preview").click()
        tab.wait_for_selector("#cmp-weight-result .cb-diff")
        assert "# mirror" in tab.inner_text("#cmp-weight-result")
        assert api.posts[-1] == {"strategy": "mirror", "dry_run": True, "versions": ["v1", "v2", "v3"],
                                 "version": "v2", "mirror_percent": 10}
        tab.locator("#st-match input[placeholder=end-user]").fill("end-user")
        tab.locator("#st-match input[placeholder=jason]").fill("([")
        tab.locator("#st-match button", has_text="Preview").click()
        tab.wait_for_selector("#st-match .st-error:has-text('not a valid RE2 regex')")
        assert "see the message beside the field" in tab.inner_text("#cmp-weight-result")
        screenshot(tab, "compare-strategies-field-error")
        tab.locator("#st-blue-green button", has_text="Switch").click()  # apply without a reason: refused here
        tab.wait_for_selector("#cmp-weight-result:has-text('reason: required')")
        assert api.posts[-1]["strategy"] == "match"  # nothing was sent
        screenshot(tab, "compare-strategies")
        assert console.errors() == []
    finally:
        server.stop()
        api.stop()
