"""One trace → a waterfall (a horizontal bar per span, by start offset, in call-tree order) and span rows.

Rows are labelled by service and operation and indented by depth; colour is the span's status: error (red),
client error 4xx (amber), ok (blue). A span whose parent is not in the trace (lost or not sampled) starts a tree
of its own, so every span is shown once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from dashboards.figures import format as fmt
from dashboards.health import Health

ROW_HEIGHT = 26
LABEL_CHAR_PX = 5.8  # plotly's default sans-serif at 11 px, about (measured in Debian Chromium)
LABEL_MAX_PX = 460
STATUS_COLOURS = {"error": Health.FAILING.colour, "4xx": Health.DEGRADED.colour, "ok": "#0066cc"}


@dataclass(frozen=True, slots=True)
class SpanRow:
    span: Mapping[str, Any]
    depth: int
    offset_ms: float  # from the trace's first span start
    status: str  # error | 4xx | ok

    @property
    def label(self) -> str:
        # no-break spaces: SVG collapses ordinary ones, and the indent is the call tree
        indent = "\u00a0\u00a0" * self.depth + ("└\u00a0" if self.depth else "")
        return f"{indent}{self.span.get('service', '?')} · {self.span.get('operation', '')}"


def span_status(span: Mapping[str, Any]) -> str:
    code = span.get("status_code")
    if span.get("error") or (isinstance(code, int) and code >= 500):
        return "error"
    if isinstance(code, int) and code >= 400:
        return "4xx"
    return "ok"


def span_rows(spans: Sequence[Mapping[str, Any]]) -> list[SpanRow]:
    """Depth-first in call order (children by start time); offsets from the earliest start."""
    if not spans:
        return []
    start = min(float(s.get("start_s", 0.0)) for s in spans)
    ids = {s.get("span_id") for s in spans}
    children: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
    for span in spans:
        parent = span.get("parent_id")
        children[parent if parent in ids else None].append(span)
    for group in children.values():
        group.sort(key=lambda s: (float(s.get("start_s", 0.0)), str(s.get("span_id"))))
    rows: list[SpanRow] = []
    stack = [(root, 0) for root in reversed(children[None])]
    while stack:
        span, depth = stack.pop()
        offset = (float(span.get("start_s", 0.0)) - start) * 1000
        rows.append(SpanRow(span, depth, offset, span_status(span)))
        stack.extend((child, depth + 1) for child in reversed(children.get(span.get("span_id"), [])))
    return rows


def _hover(row: SpanRow) -> str:
    span = row.span
    code = span.get("status_code")
    parts = [f"{span.get('service', '?')} {span.get('version') or ''}".strip(), str(span.get("operation", "")),
             f"{span.get('kind', '')} · {fmt.millis(span.get('duration_ms'))} at +{row.offset_ms:.1f} ms",
             f"status {code if code is not None else '–'}{' · error' if row.status == 'error' else ''}"]  # fmt: skip
    return "<br>".join(fmt.plotly_text(p) for p in parts)


def waterfall_figure(trace: Mapping[str, Any]) -> go.Figure:
    """Bars by status (one trace per status for the legend); each bar's customdata is its span id."""
    rows = span_rows(trace.get("spans") or [])
    figure = go.Figure()
    for status, colour in STATUS_COLOURS.items():
        mine = [(i, r) for i, r in enumerate(rows) if r.status == status]
        if not mine:
            continue
        figure.add_trace(go.Bar(
            orientation="h", name=status, marker={"color": colour},
            y=[i for i, _ in mine], x=[max(float(r.span.get("duration_ms") or 0.0), 0.01) for _, r in mine],
            base=[r.offset_ms for _, r in mine], customdata=[str(r.span.get("span_id")) for _, r in mine],
            hovertext=[_hover(r) for _, r in mine], hoverinfo="text",
        ))  # fmt: skip
    # labels are left-aligned annotations in the left margin (tick labels are right-aligned: no visible indent)
    margin = min(LABEL_MAX_PX, 16 + LABEL_CHAR_PX * max((len(r.label) for r in rows), default=10))
    for index, row in enumerate(rows):
        figure.add_annotation(text=fmt.plotly_text(row.label), x=0, xref="paper", y=index, yref="y", xanchor="left",
                              xshift=-margin + 6, showarrow=False, font={"size": 11})  # fmt: skip
    figure.update_layout(
        barmode="overlay", height=max(160, 70 + ROW_HEIGHT * len(rows)),
        margin={"l": margin, "r": 10, "t": 10, "b": 40},
        xaxis={"title": {"text": "ms since trace start"}, "rangemode": "tozero", "zeroline": True},
        yaxis={"showticklabels": False, "showgrid": False, "range": [len(rows) - 0.5, -0.5]},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        plot_bgcolor="#ffffff", paper_bgcolor="#ffffff",
    )  # fmt: skip
    return figure


def span_details(span: Mapping[str, Any], offset_ms: float | None = None) -> list[tuple[str, str]]:
    """(name, value) pairs for the span details table: identity, timing, process, then every tag by name."""
    timing = fmt.millis(span.get("duration_ms"))
    if offset_ms is not None:
        timing += f" starting +{offset_ms:.1f} ms"
    code = span.get("status_code")
    pairs = [
        ("service", f"{span.get('service', '?')} {span.get('version') or ''}".strip()),
        ("operation", str(span.get("operation", ""))),
        ("kind", str(span.get("kind", ""))),
        ("timing", timing),
        ("status", f"{code if code is not None else '–'}{' (error)' if span_status(span) == 'error' else ''}"),
        ("process", " · ".join(str(span.get(k)) for k in ("namespace", "workload") if span.get(k))),
        ("response flags", str(span.get("response_flags") or "–")),
        ("peer", str(span.get("peer") or "–")),
        ("span id", str(span.get("span_id", ""))),
        ("parent id", str(span.get("parent_id") or "– (root)")),
    ]
    tags = span.get("tags") or {}
    pairs += [(f"tag {k}", str(v)) for k, v in sorted(tags.items(), key=lambda kv: str(kv[0]))]
    return pairs


def find_span(trace: Mapping[str, Any], span_id: str | None) -> tuple[Mapping[str, Any], float] | None:
    """The span with this id (the first row when None) and its offset."""
    rows = span_rows(trace.get("spans") or [])
    for row in rows:
        if span_id is None or row.span.get("span_id") == span_id:
            return row.span, row.offset_ms
    return None
