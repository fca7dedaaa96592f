"""The find/hide filter: good expressions select the right edges, bad ones are a FilterError with a column."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from dashboards.filters import FilterError, parse_filter, select
from dashboards.health import Thresholds
from tests.unit.dashboards.wire import load

PP = "bookinfo/productpage/v1"


@pytest.fixture(scope="module")
def topology() -> dict[str, Any]:
    return load("topology_bookinfo.json")


def kept(topology: dict[str, Any], expression: str, thresholds: Thresholds | None = None) -> set[tuple[str, str]]:
    selection = select(topology, parse_filter(expression), thresholds or Thresholds())
    return {(e["source"], e["target"]) for e in selection.edges}


@pytest.mark.parametrize(("expression", "expected"), [
    ("rps>5", {(PP, "bookinfo/details/v1"), ("unknown", PP)}),
    ("success<99", {(PP, "bookinfo/reviews/v2"), (PP, "bookinfo/reviews/v3"), (PP, "bookinfo/svc/reviews")}),
    ("success < 99%", {(PP, "bookinfo/reviews/v2"), (PP, "bookinfo/reviews/v3"), (PP, "bookinfo/svc/reviews")}),
    ("p99>200", {("unknown", PP)}),
    ("p99>0.2s", {("unknown", PP)}),
    ("p99>=88ms and p99<100", {(PP, "bookinfo/reviews/v2"), (PP, "bookinfo/reviews/v3")}),
    ("flags=UO", {(PP, "bookinfo/svc/reviews")}),
    ("flags=uo", {(PP, "bookinfo/svc/reviews")}),
    ("code=500", {(PP, "bookinfo/reviews/v2")}),
    ("trace_p99>50", {(PP, "bookinfo/reviews/v2")}),
    ("app=ratings", {("bookinfo/reviews/v2", "bookinfo/ratings/v1"), ("bookinfo/reviews/v3", "bookinfo/ratings/v1")}),
    ("app=RATINGS", {("bookinfo/reviews/v2", "bookinfo/ratings/v1"), ("bookinfo/reviews/v3", "bookinfo/ratings/v1")}),
    ("version=v3 and not app=ratings", {(PP, "bookinfo/reviews/v3")}),
    ("health=failing", {(PP, "bookinfo/reviews/v2"), (PP, "bookinfo/svc/reviews")}),
    ("target$=/v2 || flags=UO", {(PP, "bookinfo/reviews/v2"), (PP, "bookinfo/svc/reviews")}),
    ("source^=bookinfo/reviews", {("bookinfo/reviews/v2", "bookinfo/ratings/v1"),
                                  ("bookinfo/reviews/v3", "bookinfo/ratings/v1")}),
    ("node*=svc", {(PP, "bookinfo/svc/reviews")}),
    ('workload="reviews-v2" rps>1', {(PP, "bookinfo/reviews/v2"), ("bookinfo/reviews/v2", "bookinfo/ratings/v1")}),
    ("(app=details or app=ratings), rps>5", {(PP, "bookinfo/details/v1")}),
    ("!(rps>0)", set()),
    ("errors>10", {(PP, "bookinfo/reviews/v2"), (PP, "bookinfo/svc/reviews")}),
])  # fmt: skip
def test_good_expressions(topology: dict[str, Any], expression: str, expected: set[tuple[str, str]]) -> None:
    assert kept(topology, expression) == expected


def test_not_equal_on_a_node_field_means_neither_end(topology: dict[str, Any]) -> None:
    edges = kept(topology, "app!=productpage")
    assert edges == {("bookinfo/reviews/v2", "bookinfo/ratings/v1"), ("bookinfo/reviews/v3", "bookinfo/ratings/v1")}


def test_missing_numbers_match_no_comparison(topology: dict[str, Any]) -> None:
    # the UO edge has no latency at all: neither p99<1 nor p99>=1 selects it
    assert (PP, "bookinfo/svc/reviews") not in kept(topology, "p99<1 or p99>=1")


def test_health_uses_the_ui_thresholds(topology: dict[str, Any]) -> None:
    lenient = Thresholds(healthy=0.98, degraded=0.5)
    assert kept(topology, "health=healthy", lenient) >= {(PP, "bookinfo/reviews/v3")}
    assert (PP, "bookinfo/reviews/v2") in kept(topology, "health=degraded", lenient)


def test_empty_filter_keeps_everything_and_nodes_follow_edges(topology: dict[str, Any]) -> None:
    assert parse_filter("   ") is None
    everything = select(topology, None, Thresholds())
    assert len(everything.edges) == len(topology["edges"]) and len(everything.node_ids) == len(topology["nodes"])
    narrow = select(topology, parse_filter("flags=UO"), Thresholds())
    assert narrow.node_ids == {PP, "bookinfo/svc/reviews"}


@pytest.mark.parametrize(("expression", "words", "column"), [
    ("rsp>1", "unknown field 'rsp'", 1),
    ("rps>", "missing value after 'rps>'", 1),
    ("rps>fast", "'fast' is not a number for rps", 1),
    ("app>3", "operator '>' does not apply to app", 1),
    ("flags>1", "operator '>' does not apply to flags", 1),
    ("rps>1 and", "ends too early", 10),
    ("(rps>1", "missing ')'", 7),
    ("rps>1)", "unexpected ')'", 6),
    ("rps>1 @@", "unexpected '@@'", 7),
    ("and rps>1", "unexpected 'and'", 1),
    ("x" * 501, "longer than 500", 500),
])  # fmt: skip
def test_bad_expressions_say_what_and_where(expression: str, words: str, column: int) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(expression)
    assert words in caught.value.message and caught.value.column == column


def test_every_printable_garbage_is_an_error_or_a_predicate() -> None:
    # never an exception other than FilterError, whatever is typed
    for text in ["=", ">>", "rps>>1", "'", '"', "app='x", "not", "!", "()", "a=b=c", "rps>1e309", "p99>1..2", "\\"]:
        with contextlib.suppress(FilterError):
            parse_filter(text)
