"""Compare page builders on wire fixtures captured from `observe demo` (reviews v1 vs v2, window 1m)."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from scipy.stats import norm

from dashboards.figures import compare
from dashboards.figures.annotations import add_annotations, marks
from dashboards.pages.compare import canary_weight, compare_sync, part, traffic_body
from dashboards.state import parse_query
from tests.unit.dashboards.wire import load


@pytest.fixture(scope="module")
def answer() -> dict[str, Any]:
    return load("compare_reviews.json")


def test_columns_show_both_versions_with_intervals(answer: dict[str, Any]) -> None:
    rows = {name: (a, b) for name, a, b in compare.column_rows(answer)}
    assert rows["Version"] == ("v1", "v2")
    assert rows["RPS"] == ("2.95 rps", "3.42 rps")
    assert rows["Weight / observed share"] == ("not set / 46.3%", "not set / 53.7%")
    # 0 errors of 205: success 100 % with the Wilson CI of the error rate turned into one of success
    assert rows["Success [95% CI]"][1] == "100% [95.11, 100.00]"
    assert rows["P99 (histogram bucket)"][0].endswith("ms") and "–" in rows["P99 (histogram bucket)"][0]
    assert rows["Requests (n)"] == ("177", "205")
    assert rows["P(canary slower) (CLES)"][0] == "reference"


def test_verdict_chip_carries_reason_and_what_is_needed(answer: dict[str, Any]) -> None:
    verdict = compare.verdict_of(answer)
    assert verdict.verdict == answer["verdict"] and verdict.css == "fail"
    assert verdict.reason == answer["reason"]
    assert any(f"stable for {answer['stable_for']}/3 looks" in d for d in verdict.details)
    assert compare.verdict_of({"verdict": "SOMETHING_NEW"}).css == "wait"
    needed = compare.verdict_of({"verdict": "INSUFFICIENT_DATA", "needed_more": 2950, "eta_s": 3540.0})
    assert needed.details == ("needs about 2,950 more requests, about 59 min at the current rate",)


def test_wilson_and_newcombe_match_known_values() -> None:
    # Newcombe (1998) table II example: 56/70 vs 48/80 → difference 0.2, method 10 interval [0.0524, 0.3339]
    d, low, high = compare.newcombe(56, 70, 48, 80, z=float(norm.ppf(0.975)))
    assert d == pytest.approx(0.2)
    assert (low, high) == (pytest.approx(0.0524, abs=1e-4), pytest.approx(0.3339, abs=1e-4))
    low, high = compare.wilson(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)


def test_difference_band_pairs_steps_a_second_apart() -> None:
    stable, canary = load("node_series_reviews_v1.json"), load("node_series_reviews_v2.json")
    band = compare.difference_band(stable, canary)
    assert len(band.times) == len(canary["series"]["rps"])  # each canary step found its stable neighbour
    assert all(v == 0.0 for v in band.value)  # both at 100 %: no difference …
    assert all(lo is not None and hi is not None and lo < 0 < hi for lo, hi in zip(band.low, band.high, strict=True))
    figure = compare.difference_figure(band)
    assert [t.name for t in figure.data] == [None, "95% CI", "difference"]


def test_difference_band_gaps_where_a_version_had_no_requests() -> None:
    stable = {"step_s": 5, "series": {"rps": [[0, 2.0], [5, 0.0]], "success_rate": [[0, 1.0], [5, None]]}}
    canary = {"step_s": 5, "series": {"rps": [[0, 2.0], [5, 2.0]], "success_rate": [[0, 0.5], [5, 0.5]]}}
    band = compare.difference_band(stable, canary)
    assert band.value[0] == pytest.approx(-50.0) and band.value[1] is None
    assert band.low[0] is not None and band.low[0] < -50 < band.high[0] <= 0 + 1e-9  # type: ignore[operator]


def test_versions_figure_has_a_line_per_version() -> None:
    stable, canary = load("node_series_reviews_v1.json"), load("node_series_reviews_v2.json")
    figure = compare.versions_figure(stable, canary, ("v1", "v2"), "success_rate", "Success", "%", 100)
    assert [t.name for t in figure.data] == ["v1", "v2"] and max(figure.data[0].y) == 100
    assert compare.versions_figure({}, {}, ("a", "b"), "rps", "RPS", "rps").layout.annotations[0].text.startswith("no")


def test_latency_falls_back_to_bucket_intervals_without_trace_ecdf(answer: dict[str, Any]) -> None:
    assert answer["metrics"]["latency_traces"] is None  # the captured answer had no traces
    figure = compare.latency_distribution(answer)
    assert "histogram buckets" in figure.layout.title.text
    p99 = answer["metrics"]["latency"]["baseline"]["p99_ms"]
    assert figure.data[0].x[6:8] == tuple(map(float, p99))  # third segment: the P99 bucket


def test_latency_uses_the_trace_ecdf_when_present(answer: dict[str, Any]) -> None:
    with_traces = copy.deepcopy(answer)  # the shape observe/compare/latency.py's TraceComparison.to_wire gives
    ecdf = {"baseline": [[10.0, 0.3333], [20.0, 0.6667], [30.0, 1.0]], "canary": [[15.0, 0.5], [40.0, 1.0]]}
    with_traces["metrics"]["latency_traces"] = {"baseline": {"n": 3, "p99_ms": 30.0},
                                                "canary": {"n": 2, "p99_ms": 40.0}, "ecdf": ecdf}  # fmt: skip
    figure = compare.latency_distribution(with_traces)
    assert "ECDF" in figure.layout.title.text and figure.data[1].x == (15.0, 40.0) and figure.data[1].y == (0.5, 1.0)
    rows = {name: (a, b) for name, a, b in compare.column_rows(with_traces)}
    assert rows["P99 (traces)"] == ("30 ms", "40 ms") and rows["Traces (n)"] == ("3", "2")


def test_outbound_rows_colour_new_missing_and_worse(answer: dict[str, Any]) -> None:
    rows = compare.outbound_rows(answer)
    assert [(r.service, r.css) for r in rows] == [("ratings", "new")]
    assert rows[0].stable == "no calls" and rows[0].canary.startswith("1.00 per request")
    worse = compare.outbound_rows({"metrics": {"outbound": [{"service": "db", "change": "same",
                                   "baseline": {"error_rate": 0.0}, "canary": {"error_rate": 0.1}}]}})  # fmt: skip
    assert worse[0].css == "worse"


def test_audit_entries_become_annotations_on_the_charts() -> None:
    audit = load("audit_reviews.json")
    converted = compare.audit_as_annotations(audit)["annotations"]
    entry = audit["entries"][0]
    assert converted == [{"time": entry["ts"], "kind": "edit", "target": "DestinationRule/bookinfo/reviews",
                          "title": "edit: fixture"}]  # fmt: skip
    assert compare.audit_as_annotations({"entries": [{**entry, "result": "denied"}]}) == {"annotations": []}
    t = converted[0]["time"]
    figure = compare.versions_figure(load("node_series_reviews_v1.json"), {}, ("v1", "v2"), "rps", "RPS", "rps")
    assert len(add_annotations(figure, marks({"annotations": converted}, t - 60, t + 60)).layout.shapes) == 1


def test_sync_reads_the_url_and_clears_what_depends_on_a_changed_service() -> None:
    search = "?namespace=bookinfo&service=reviews&baseline=v1&canary=v2&window=5m"
    out = compare_sync("/compare", search, {}, "url")
    assert out["hidden"] is False and out["store"] == part(parse_query(search), "compare")
    assert out["controls"]["baseline"] == "v1" and out["options"]["canary"] == [{"label": "v2", "value": "v2"}]
    changed = compare_sync("/compare", search, {"cmp-service": "ratings"}, "cmp-service")
    assert changed["search"] == "?namespace=bookinfo&window=5m&service=ratings"
    assert compare_sync("/compare", search, {"cmp-window": "5m"}, "cmp-window") == {}  # no change: nothing to do
    assert compare_sync("/", search, {}, "url")["hidden"] is True


def test_weight_form_starts_at_the_configured_weight_else_the_share() -> None:
    versions = load("versions_reviews.json")
    assert canary_weight(versions, "v2") == 5 * round(versions["versions"][1]["share"] * 20)
    assert canary_weight({"versions": [{"version": "v2", "configured_weight": 20, "share": 0.5}]}, "v2") == 20
    data = {"baseline": "v1", "canary": "v2"}
    assert traffic_body("preview", data, 20, "", ["v1", "v2", "v3"]) == {
        "dry_run": True, "versions": ["v1", "v2", "v3"], "strategy": "weights", "weights": {"v1": 80, "v2": 20}}
    assert traffic_body("roll-back", data, 20, " bad canary ", [])["version"] == "v1"
    assert traffic_body("take-over", data, 20, "ok", [])["reason"] == "ok"
    assert math.isclose(sum(traffic_body("apply", data, 35, "r", [])["weights"].values()), 100)
