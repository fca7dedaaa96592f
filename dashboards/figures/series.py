"""The side panel's charts: an edges/series (or nodes/series) answer → small plotly figures.

`[[t, v], …]` pairs become UTC datetimes; nulls stay gaps (no requests is not zero latency).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import plotly.graph_objects as go

from dashboards.figures import format as fmt
from dashboards.health import Health, Thresholds

CHART_HEIGHT = 170
CIRCUIT_BREAKER_FLAG = "UO"
_CODE_COLOURS = {"2": Health.HEALTHY.colour, "3": "#2b9af3", "4": Health.DEGRADED.colour, "5": Health.FAILING.colour}
_LATENCY = (("p50_ms", "P50", "#8bc1f7"), ("p95_ms", "P95", "#0066cc"), ("p99_ms", "P99", "#002f5d"))


def points(pairs: Sequence[Sequence[Any]] | None, scale: float = 1.0) -> tuple[list[datetime], list[float | None]]:
    xs: list[datetime] = []
    ys: list[float | None] = []
    for pair in pairs or ():
        if len(pair) != 2:
            continue
        xs.append(datetime.fromtimestamp(float(pair[0]), tz=UTC))
        ys.append(None if pair[1] is None else float(pair[1]) * scale)
    return xs, ys


def _figure(title: str, unit: str) -> go.Figure:
    figure = go.Figure()
    figure.update_layout(
        title={"text": fmt.plotly_text(title), "font": {"size": 13}, "x": 0, "xanchor": "left"},
        height=CHART_HEIGHT, margin={"l": 48, "r": 8, "t": 28, "b": 24}, hovermode="x unified",
        yaxis={"title": {"text": unit}, "rangemode": "tozero"}, xaxis={"type": "date"},
        legend={"orientation": "h", "y": -0.25, "font": {"size": 10}}, showlegend=False,
        plot_bgcolor="#ffffff", paper_bgcolor="#ffffff",
    )  # fmt: skip
    return figure


def _empty(figure: go.Figure) -> go.Figure:
    figure.add_annotation(text="no data in this window", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return figure


def _line(figure: go.Figure, pairs: Any, name: str, colour: str, scale: float = 1.0, **extra: Any) -> bool:
    xs, ys = points(pairs, scale)
    if not xs:
        return False
    figure.add_trace(go.Scatter(x=xs, y=ys, name=fmt.plotly_text(name), mode="lines", line={"color": colour},
                                connectgaps=False, **extra))  # fmt: skip
    return True


def rps_figure(answer: Mapping[str, Any]) -> go.Figure:
    figure = _figure("Requests per second", "rps")
    found = _line(figure, answer.get("series", {}).get("rps"), "RPS", "#0066cc", fill="tozeroy")
    return figure if found else _empty(figure)


def success_figure(answer: Mapping[str, Any], thresholds: Thresholds) -> go.Figure:
    figure = _figure("Success rate", "%")
    found = _line(figure, answer.get("series", {}).get("success_rate"), "success", Health.HEALTHY.colour, 100)
    if not found:
        return _empty(figure)
    # the two threshold lines are close: one label above its line, the other below, so they never overlap
    for level, health, where in ((thresholds.healthy, Health.HEALTHY, "top left"),
                                 (thresholds.degraded, Health.DEGRADED, "bottom left")):
        figure.add_hline(y=level * 100, line={"dash": "dot", "color": health.colour, "width": 1},
                         annotation_text=f"{level * 100:g}%", annotation_position=where,
                         annotation_font_size=9)  # fmt: skip
    figure.update_yaxes(rangemode="normal")
    return figure


def latency_figure(answer: Mapping[str, Any]) -> go.Figure:
    figure = _figure("Latency P50 / P95 / P99 (histogram)", "ms")
    series = answer.get("series", {})
    found = [_line(figure, series.get(key), name, colour) for key, name, colour in _LATENCY]
    figure.update_layout(showlegend=True)
    return figure if any(found) else _empty(figure)


def code_colour(code: str) -> str:
    return _CODE_COLOURS.get(code[:1], Health.IDLE.colour)  # "0" = no response: grey


def responses_figure(answer: Mapping[str, Any]) -> go.Figure:
    """Requests per second by response code, stacked: the stack is the edge's total."""
    figure = _figure("Responses by code", "rps")
    found = [_line(figure, pairs, code, code_colour(code), stackgroup="codes")
             for code, pairs in sorted((answer.get("responses") or {}).items())]  # fmt: skip
    figure.update_layout(showlegend=True)
    return figure if any(found) else _empty(figure)


def flags_figure(answer: Mapping[str, Any]) -> go.Figure:
    """Envoy response flags; UO (circuit-breaker overflow) drawn in red and named, the rest in grey."""
    figure = _figure("Response flags", "rps")
    found = []
    for flag, pairs in sorted((answer.get("flags") or {}).items()):
        breaker = flag == CIRCUIT_BREAKER_FLAG
        name = f"{flag} – circuit breaker rejections" if breaker else flag
        colour = Health.FAILING.colour if breaker else Health.IDLE.colour
        found.append(_line(figure, pairs, name, colour, line_width=3 if breaker else 1.5))
    figure.update_layout(showlegend=True)
    return figure if any(found) else _empty(figure)


@dataclass(frozen=True, slots=True)
class P99Comparison:
    """The histogram P99 (an interpolation inside one bucket) beside the trace P99 (exact, from a sample)."""

    histogram_ms: float | None
    bounds_ms: tuple[float | None, float | None] | None
    overflow: bool
    trace_ms: float | None
    trace_count: int | None

    @property
    def histogram_text(self) -> str:
        if self.histogram_ms is None:
            return fmt.DASH
        text = fmt.millis(self.histogram_ms)
        if self.bounds_ms:
            low, high = self.bounds_ms
            high_text = "+Inf" if high is None else f"{high:g}"
            text += f" (bucket {low:g}–{high_text} ms)"
        return text + (" — at the last finite bucket: the real P99 may be higher" if self.overflow else "")

    @property
    def trace_text(self) -> str:
        if self.trace_ms is None:
            return "no traces"
        count = f" from {self.trace_count} traces" if self.trace_count is not None else ""
        return fmt.millis(self.trace_ms) + count


def p99_comparison(edge: Mapping[str, Any]) -> P99Comparison:
    bounds = edge.get("p99_bounds_ms")
    trace = edge.get("trace") if isinstance(edge.get("trace"), Mapping) else {}
    return P99Comparison(
        histogram_ms=edge.get("p99_ms"),
        bounds_ms=(bounds[0], bounds[1]) if isinstance(bounds, Sequence) and len(bounds) == 2 else None,
        overflow=bool(edge.get("p99_overflow")),
        trace_ms=trace.get("p99_ms") if trace else None,
        trace_count=trace.get("count") if trace else None,
    )
