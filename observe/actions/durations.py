"""Pure: Go/Kubernetes duration strings as Istio accepts them (`10s`, `1m30s`, `0.5s`, `100ms`).

Istio's CRD checks `duration(self) >= duration('1ms')` in CEL; its webhook further refuses sub-millisecond
precision. Both rules live in validation; this module only parses.
"""

from __future__ import annotations

import re

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")


def parse_go_duration(text: str) -> float | None:
    """Seconds, or None when `text` is not a duration (no sign: Istio has no negative durations)."""
    if not isinstance(text, str) or not _DURATION.fullmatch(text):
        return None
    return sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(text))


def whole_milliseconds(seconds: float) -> bool:
    nanos = round(seconds * 1e9)
    return nanos % 1_000_000 == 0
