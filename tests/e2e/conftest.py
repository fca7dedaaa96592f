"""End-to-end fixtures: Debian's Chromium driven by Playwright, the real demo stack, the UI in a thread.

Chromium is /usr/bin/chromium (Debian's package); Playwright never downloads a browser here. Every wait is
bounded; every server listens on 127.0.0.1 only. Screenshots go to test-artifacts/e2e/ (gitignored).
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dashboards.app import create_app
from observe.demo.mesh import Fault, MeshConfig
from observe.settings import Settings
from tests.e2e.fake_api import FakeApi
from tests.e2e.ui_server import UiServer
from tests.integration.stack import Stack
from tests.integration.test_topology import BOOKINFO_EDGES

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "e2e"
# dash-cytoscape always passes wheelSensitivity, and Cytoscape.js warns about it: a library warning, not ours
KNOWN_WARNINGS = ("You have set a custom wheel sensitivity",)
REVIEWS_V2_ERRORS = 0.2
WARM_UP_S = 60.0


@dataclass
class Console:
    """What the page said: console messages by type and uncaught errors."""

    messages: list[tuple[str, str]] = field(default_factory=list)

    def errors(self) -> list[str]:
        return [text for kind, text in self.messages if kind in ("error", "pageerror")]

    def unexpected_warnings(self) -> list[str]:
        return [t for k, t in self.messages if k == "warning" and not any(w in t for w in KNOWN_WARNINGS)]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Any, Console]]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(20_000)
    page = context.new_page()
    console = Console()
    page.on("console", lambda m: console.messages.append((m.type, m.text)))
    page.on("pageerror", lambda e: console.messages.append(("pageerror", str(e))))
    try:
        yield page, console
    finally:
        context.close()


def _warmed_up(stack: Stack) -> bool:
    answer = stack.api("/api/v1/topology", window="1m")
    seen = {(e["source"], e["target"]) for e in answer["edges"] if "metrics" in e.get("seen_by", []) and e["rps"]}
    return seen >= BOOKINFO_EDGES


@contextlib.contextmanager
def warm_stack(settings: Settings) -> Iterator[Stack]:
    """The real demo stack (demo mesh + Prometheus + observe API with `settings`), 20% HTTP 500 from reviews-v2,
    warmed up until metrics show every Bookinfo edge (bounded), then a few more scrapes so that series have
    several points."""
    if shutil.which("prometheus") is None:
        pytest.skip("the prometheus binary is not installed (make system-deps)")
    config = MeshConfig(rps=20.0, seed=7, faults={"reviews-v2": Fault(error_ratio=REVIEWS_V2_ERRORS)})
    running = Stack(config, settings=settings).start()
    try:
        deadline = time.monotonic() + WARM_UP_S
        while not _warmed_up(running):
            if time.monotonic() > deadline:
                pytest.fail(f"the demo stack showed no metrics for every Bookinfo edge within {WARM_UP_S:g} s")
            time.sleep(1)
        time.sleep(6)
        yield running
    finally:
        running.stop()


@contextlib.contextmanager
def served_ui(answer: Callable[[], dict[str, Any]]) -> Iterator[tuple[FakeApi, str]]:
    """A stand-in API giving `answer()` for the topology, and the UI in front of it: (api, UI url)."""
    api = FakeApi(answer).start()
    ui = UiServer(create_app(api.url)).start()
    try:
        yield api, ui.url
    finally:
        ui.stop()
        api.stop()


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    # percentiles every 5 s (not 30 s): the table's P50/P95/P99 are filled when the tests look
    with warm_stack(Settings(percentile_refresh="5s")) as running:
        yield running


@pytest.fixture(scope="session")
def ui_url(stack: Stack) -> Iterator[str]:
    server = UiServer(create_app(stack.api_url)).start()
    try:
        yield server.url
    finally:
        server.stop()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
