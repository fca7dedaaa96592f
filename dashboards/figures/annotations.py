"""Annotations (edits, reverts, snapshots) on time-series charts: an /api/v1/annotations answer → plotly marks.

Pure. Each annotation inside the chart's time range is a dotted vertical line (a layout shape spanning the plot
height) and a small glyph at its top whose hover text says what happened, when and to what. Texts come from
users (titles, targets), so they go through `format.plotly_text`. Any chart can take them:
`add_annotations(figure, marks(answer, start_s, end_s))`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import plotly.graph_objects as go

from dashboards.figures import format as fmt
from dashboards.figures.replay import instant_seconds

# kind → (glyph, colour); the API's kinds are the audit actions (edit, revert) and "snapshot"
KINDS = {"edit": ("✎", "#ec7a08"), "revert": ("↶", "#ec7a08"), "snapshot": ("◉", "#6753ac")}
OTHER = ("•", "#6a6e73")
MAX_MARKS = 50  # a chart stays readable; the newest are kept


@dataclass(frozen=True, slots=True)
class Mark:
    when: datetime
    glyph: str
    colour: str
    hover: str


def _seconds(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return instant_seconds(value) if isinstance(value, str) else None


def marks(answer: Mapping[str, Any] | None, start_s: float | None = None, end_s: float | None = None) -> list[Mark]:
    """The answer's annotations between start and end (either may be open), oldest first."""
    found: list[Mark] = []
    for item in (answer or {}).get("annotations") or []:
        if not isinstance(item, Mapping):
            continue
        seconds = _seconds(item.get("time"))
        if seconds is None or (start_s is not None and seconds < start_s) or (end_s is not None and seconds > end_s):
            continue
        kind = str(item.get("kind") or "")
        glyph, colour = KINDS.get(kind, OTHER)
        when = datetime.fromtimestamp(seconds, tz=UTC)
        lines = [str(item.get("title") or kind or "event"), when.strftime("%Y-%m-%d %H:%M:%S UTC")]
        if item.get("target"):
            lines.insert(1, str(item["target"]))
        found.append(Mark(when, glyph, colour, "<br>".join(fmt.plotly_text(line) for line in lines)))
    found.sort(key=lambda m: m.when)
    return found[-MAX_MARKS:]


def add_annotations(figure: go.Figure, found: Sequence[Mark]) -> go.Figure:
    """Draw the marks on a figure with a date x axis (in place; returned for chaining)."""
    for mark in found:
        figure.add_shape(type="line", xref="x", yref="paper", x0=mark.when, x1=mark.when, y0=0, y1=1,
                         line={"color": mark.colour, "width": 1.5, "dash": "dot"})  # fmt: skip
        figure.add_annotation(x=mark.when, xref="x", y=1, yref="paper", yanchor="bottom", text=mark.glyph,
                              hovertext=mark.hover, showarrow=False,
                              font={"color": mark.colour, "size": 12})  # fmt: skip
    return figure
