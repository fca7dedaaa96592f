"""The data banner: errors, stale data and missing sources, each in words (and colour)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dash import html


def _when(as_of: float | None) -> str:
    if not as_of:
        return "an unknown time"
    return datetime.fromtimestamp(as_of, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def banner(answer: Mapping[str, Any] | None, error: str | None, *, now: float, at: str = "") -> list[html.Div]:
    """Messages for the top of the page: empty when the data is live and complete."""
    messages: list[html.Div] = []
    if error:
        messages.append(html.Div(f"✖ Cannot load data: {error}", className="banner error", role="alert"))
    if answer is None:
        return messages
    as_of = answer.get("as_of")
    if at:
        messages.append(html.Div(f"⏱ Time travel: the window ending {_when(as_of)}", className="banner info"))
    if answer.get("stale"):
        age = f" ({now - as_of:.0f} s old)" if isinstance(as_of, int | float) else ""
        messages.append(html.Div(f"▲ Stale data: last good answer from {_when(as_of)}{age}", className="banner warn",
                                 role="alert"))  # fmt: skip
    missing = answer.get("missing") or []
    if missing:
        parts = [f"{m.get('source', '?')} ({m.get('error', 'no detail')})" for m in missing if isinstance(m, Mapping)]
        messages.append(html.Div(f"▲ Missing sources: {'; '.join(parts)}", className="banner warn", role="alert"))
    return messages
