"""The UI's settings, given to `create_app` (by `observe ui` flags) and passed to every page."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dashboards.health import Thresholds


@dataclass(frozen=True, slots=True)
class UiConfig:
    api_url: str
    thresholds: Thresholds = field(default_factory=Thresholds)
    # CSP frame-ancestors: "'none'" forbids framing; a kiosk wall that embeds the page lists its origin here
    frame_ancestors: str = "'none'"
    timeout_s: float = 10.0
    clock: Callable[[], float] = time.time  # wall clock, for the age of stale data
