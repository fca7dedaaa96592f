"""Side-panel charts, the trace waterfall and the banner, from wire fixtures: pure, no browser."""

from __future__ import annotations

from typing import Any

import pytest
from dash import html

from dashboards.components.banner import banner
from dashboards.figures import series
from dashboards.figures.waterfall import STATUS_COLOURS, find_span, span_details, span_rows, waterfall_figure
from dashboards.health import Health, Thresholds
from tests.unit.dashboards.wire import load


@pytest.fixture(scope="module")
def answer() -> dict[str, Any]:
    return load("edge_series.json")


@pytest.fixture(scope="module")
def trace() -> dict[str, Any]:
    return load("trace.json")


def test_rps_and_success_keep_gaps(answer: dict[str, Any]) -> None:
    rps = series.rps_figure(answer)
    assert len(rps.data) == 1 and len(rps.data[0].x) == 21
    success = series.success_figure(answer, Thresholds())
    ys = list(success.data[0].y)
    assert ys[7] is None  # no requests at that step: a gap, not 0% or 100%
    assert 70 < ys[0] < 90  # percent, not ratio
    assert {shape.y0 for shape in success.layout.shapes} == {99.0, 95.0}  # threshold lines


def test_latency_has_three_percentiles(answer: dict[str, Any]) -> None:
    figure = series.latency_figure(answer)
    assert [t.name for t in figure.data] == ["P50", "P95", "P99"]


def test_codes_are_stacked_and_coloured_by_class(answer: dict[str, Any]) -> None:
    figure = series.responses_figure(answer)
    assert [t.name for t in figure.data] == ["200", "500"]
    assert {t.stackgroup for t in figure.data} == {"codes"}
    assert figure.data[1].line.color == Health.FAILING.colour and series.code_colour("0") == Health.IDLE.colour


def test_circuit_breaker_flag_is_highlighted(answer: dict[str, Any]) -> None:
    figure = series.flags_figure(answer)
    [uo] = figure.data
    assert "circuit breaker" in uo.name and uo.line.color == Health.FAILING.colour and uo.line.width == 3


def test_empty_answer_says_so() -> None:
    for figure in (series.rps_figure({}), series.latency_figure({"series": {}}), series.flags_figure({})):
        assert figure.layout.annotations[0].text == "no data in this window"


def test_p99_comparison_beside_trace_p99() -> None:
    edge = next(e for e in load("topology_bookinfo.json")["edges"] if e["target"] == "bookinfo/reviews/v2")
    comparison = series.p99_comparison(edge)
    assert comparison.histogram_text == "88 ms (bucket 50–100 ms)"
    assert comparison.trace_text == "71 ms from 412 traces"
    pinned = series.p99_comparison({"p99_ms": 250.0, "p99_bounds_ms": [100, 250], "p99_overflow": True})
    assert "last finite bucket" in pinned.histogram_text and pinned.trace_text == "no traces"


def test_waterfall_rows_follow_the_call_tree(trace: dict[str, Any]) -> None:
    rows = span_rows(trace["spans"])
    assert [r.span["span_id"][-1] for r in rows] == ["1", "2", "3", "4", "5", "6", "7", "8"]
    assert [r.depth for r in rows] == [0, 1, 2, 1, 2, 3, 4, 3]
    assert rows[0].offset_ms == 0 and rows[2].offset_ms == pytest.approx(1.5, abs=1e-3)
    assert [r.status for r in rows] == ["error", "ok", "ok", "error", "error", "ok", "ok", "4xx"]


def test_waterfall_figure_colours_by_status_and_escapes_labels(trace: dict[str, Any]) -> None:
    figure = waterfall_figure(trace)
    assert {t.name: t.marker.color for t in figure.data} == STATUS_COLOURS
    assert sum(len(t.y) for t in figure.data) == 8
    assert all(len(t.customdata) == len(t.y) for t in figure.data)  # click → span id
    hostile = {"spans": [{"span_id": "1", "service": "<img src=x onerror=alert(1)>", "operation": "<b>x</b>",
                          "start_s": 1.0, "duration_ms": 1.0}]}  # fmt: skip
    text = " ".join(a.text for a in waterfall_figure(hostile).layout.annotations)
    text += " ".join(h for t in waterfall_figure(hostile).data for h in t.hovertext)
    assert "<img" not in text and "&lt;img" in text and "<b>x" not in text


def test_orphan_spans_are_shown_once() -> None:
    spans = [{"span_id": "b", "parent_id": "lost", "start_s": 2.0}, {"span_id": "a", "parent_id": None, "start_s": 1.0}]
    assert [r.span["span_id"] for r in span_rows(spans)] == ["a", "b"] and span_rows([]) == []


def test_span_details(trace: dict[str, Any]) -> None:
    span, offset = find_span(trace, "a000000000000005") or ({}, 0.0)
    details = dict(span_details(span, offset))
    assert details["service"] == "reviews v2" and details["status"] == "500 (error)"
    assert details["timing"] == "31 ms starting +8.6 ms" and details["tag http.status_code"] == "500"
    assert details["process"] == "bookinfo · reviews-v2"
    assert find_span(trace, None) is not None and find_span(trace, "nope") is None


def _texts(divs: list[html.Div]) -> list[str]:
    return [str(d.children) for d in divs]


def test_banner_for_stale_data_and_missing_sources() -> None:
    stale = load("topology_stale.json")
    texts = _texts(banner(stale, None, now=stale["as_of"] + 95))
    assert texts[0].startswith("▲ Stale data: last good answer from 2026-11-23") and "(95 s old)" in texts[0]
    assert "prometheus (rates: timeout after 5s)" in texts[1] and "jaeger (cannot connect" in texts[1]
    assert banner(load("topology_bookinfo.json"), None, now=0) == []
    assert _texts(banner(None, "the observe API at http://x is unreachable", now=0)) == [
        "✖ Cannot load data: the observe API at http://x is unreachable"
    ]
