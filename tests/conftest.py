"""Session-wide test ordering: unit, then integration, then the browser tests.

Playwright's sync API keeps an event loop running in the main thread while its (session-scoped) browser is
open, so any asyncio test collected after the first browser test would fail with "cannot be called from a
running event loop". Running the browser tests last keeps them apart without restarting Chromium per test.
"""

from __future__ import annotations

import pytest

_ORDER = {"unit": 0, "integration": 1, "e2e": 2}


def _rank(item: pytest.Item) -> int:
    parts = item.nodeid.split("/")
    return _ORDER.get(parts[1], 1) if len(parts) > 1 and parts[0] == "tests" else 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: the order inside each group is kept
