"""Parsing of user-supplied durations (`5m`, `1h30m`) and instants (Unix seconds or RFC 3339)."""

from __future__ import annotations

import re
from datetime import datetime

from observe.errors import BadQuery

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
# Prometheus duration syntax: one or more <int><unit> groups, units in descending order.
_DURATION = re.compile(r"^(?:\d+(?:ms|s|m|h|d|w))+$")
_PART = re.compile(r"(\d+)(ms|s|m|h|d|w)")


def parse_duration(raw: str, field: str = "window", *, minimum_s: float = 0.001) -> float:
    """Seconds in a Prometheus-style duration; rejects anything a PromQL range could not take."""
    text = raw
    if not _DURATION.fullmatch(text):
        raise BadQuery(f"invalid {field} '{raw}': expected a duration like 15m", field=field)
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(text))
    if seconds < minimum_s:
        raise BadQuery(f"invalid {field} '{raw}': must be at least {format_duration(minimum_s)}", field=field)
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest PromQL duration for a whole number of milliseconds (300 → '5m', 90 → '1m30s')."""
    ms = round(seconds * 1000)
    if ms <= 0:
        raise ValueError("duration must be positive")
    parts = []
    for unit, size in (("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        count, ms = divmod(ms, size)
        if count:
            parts.append(f"{count}{unit}")
    if ms:
        parts.append(f"{ms}ms")
    return "".join(parts)


def parse_instant(raw: str, field: str = "at") -> float:
    """Unix seconds from `1795414065`, `1795414065.5` or RFC 3339 (`2026-11-23T10:00:00Z`)."""
    text = raw.strip()
    try:
        value = float(text)
    except ValueError:
        value = _parse_rfc3339(text, field)
    if not (0 < value < 1e11):
        raise BadQuery(f"invalid {field} '{raw}': out of range", field=field)
    return value


def _parse_rfc3339(text: str, field: str) -> float:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise BadQuery(
            f"invalid {field} '{text}': expected Unix seconds or RFC 3339 with a zone (2026-11-23T10:00:00Z)",
            field=field,
        )
    return parsed.timestamp()
