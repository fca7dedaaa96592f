"""URL state: round trip, lenient parsing, and the sync and click logic that keeps URL and controls in step."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from dash import no_update

from dashboards.pages.shell import page_of, sync
from dashboards.pages.topology import click_state
from dashboards.state import (
    DEFAULT,
    GRAPHS,
    LABELS,
    REFRESHES,
    WINDOWS,
    ViewState,
    edge_key,
    from_dict,
    parse_query,
    split_edge,
    to_dict,
    to_query,
    traces_href,
)

EDGE = "bookinfo/productpage/v1->bookinfo/reviews/v2"
FULL = ViewState(
    graph="app", namespaces=("bookinfo", "team-a"), window="1h", refresh="off", label="p99",
    filter="success<99 or flags=UO", edge=EDGE, node="", sort="p99", table_page=3, kiosk=True,
    watch=("bookinfo/reviews", "bookinfo/reviews/v2"), at="2026-11-23T10:00:00Z", service="reviews",
    min_duration="100ms", errors=True, trace="4bf92f3577b34da6a3ce929d0e0e4736",
)  # fmt: skip


def test_default_view_has_an_empty_query() -> None:
    assert to_query(DEFAULT) == "" and parse_query("") == DEFAULT and parse_query(None) == DEFAULT


def test_every_field_round_trips() -> None:
    query = to_query(FULL)
    assert parse_query(query) == FULL
    assert parse_query(query.lstrip("?")) == FULL
    assert "namespace=bookinfo%2Cteam-a" in query and "kiosk=1" in query


@pytest.mark.parametrize(("graph", "window", "refresh", "label"),
                         list(itertools.product(GRAPHS, WINDOWS[::3], REFRESHES, LABELS))[::7])  # fmt: skip
def test_choices_round_trip(graph: str, window: str, refresh: str, label: str) -> None:
    state = ViewState(graph=graph, window=window, refresh=refresh, label=label)
    assert parse_query(to_query(state)) == state


def test_store_form_round_trips() -> None:
    assert from_dict(to_dict(FULL)) == FULL
    assert from_dict({**to_dict(FULL), "page": "topology"}) == FULL  # extra keys of a store are ignored
    assert from_dict(None) == DEFAULT


@pytest.mark.parametrize(("query", "field", "value"), [
    ("graph=bogus", "graph", "versioned-app"),
    ("window=15x", "window", "1m"),
    ("refresh=1s", "refresh", "10s"),
    ("label=<script>", "label", "rps"),
    ("namespace=Bad_NS,bookinfo,../etc", "namespaces", ("bookinfo",)),
    ("edge=no-arrow", "edge", ""),
    ("sort=--rps", "sort", "-rps"),
    ("sort=colour", "sort", "-rps"),
    ("watch=bookinfo,bookinfo/reviews,a/b/c/d", "watch", ("bookinfo/reviews",)),
    ("at=yesterday", "at", ""),
    ("at=1795414065", "at", "1795414065"),
    ("min_duration=150", "min_duration", "150ms"),
    ("min_duration=1.5s", "min_duration", ""),
    ("trace=XYZ", "trace", ""),
    ("trace=4BF92F3577B34DA6A3CE929D0E0E4736", "trace", "4bf92f3577b34da6a3ce929d0e0e4736"),
    ("filter=" + "x" * 501, "filter", ""),
    ("filter=a%0Ab", "filter", ""),
    ("kiosk=yes", "kiosk", True),
    ("tpage=0", "table_page", 1),
    ("tpage=-2", "table_page", 1),
    ("tpage=7", "table_page", 7),
    ("kiosk=0", "kiosk", False),
])  # fmt: skip
def test_invalid_values_fall_back_to_defaults(query: str, field: str, value: Any) -> None:
    assert getattr(parse_query(query), field) == value


def test_refresh_seconds() -> None:
    assert ViewState(refresh="30s").refresh_s == 30
    assert ViewState(refresh="off", kiosk=True).refresh_s == 10  # a kiosk never stops
    assert ViewState(refresh="5s", at="1795414065").refresh_s == 0  # the past does not change


def test_edge_keys_and_links() -> None:
    assert split_edge(edge_key("a/b", "c/d")) == ("a/b", "c/d")
    assert split_edge("a->") is None and split_edge("nothing") is None
    href = traces_href(ViewState(graph="app", window="5m"), edge="bookinfo/a->bookinfo/b")
    assert href.startswith("/traces?") and parse_query(href.split("?", 1)[1]).edge == "bookinfo/a->bookinfo/b"
    assert parse_query(href.split("?", 1)[1]).graph == "app"


# ---- the sync callback's core ------------------------------------------------------------------------------
CONTROLS = {"ctl-namespaces": [], "ctl-graph": "versioned-app", "ctl-window": "1m", "ctl-refresh": "10s",
            "ctl-label": "rps", "ctl-filter": "", "tr-service": None, "tr-edge": "", "tr-min-duration": "",
            "tr-errors": [], "tr-window": "1m"}  # fmt: skip


def test_page_of() -> None:
    assert page_of("/") == "topology" and page_of("/traces") == "traces" and page_of("/traces/") == "traces"
    assert page_of(None) == "topology"


def test_load_from_url_sets_controls_and_stores_without_writing_the_url() -> None:
    out = sync("/", "?graph=app&window=5m&filter=rps>1&kiosk=1", CONTROLS, None, None)
    assert out["search"] is no_update
    assert out["controls"]["graph"] == "app" and out["controls"]["window"] == "5m"
    assert out["controls"]["filter"] == "rps>1" and out["controls"]["service"] is None
    assert out["topology"]["graph"] == "app" and out["topology"]["page"] == "topology"
    assert out["root_class"] == "app kiosk" and out["hide_traces"] is True and out["disabled"] is False


def test_dropdown_options_hold_the_values_set_from_the_url() -> None:
    # Dash 4's Dropdown drops a value its options lack, which would write the loss back to the URL
    out = sync("/traces", "?service=reviews&namespace=bookinfo,shop", CONTROLS, None, None)
    assert out["controls"]["service"] == "reviews" and out["options"]["service"] == [
        {"label": "reviews", "value": "reviews"}]  # fmt: skip
    assert [o["value"] for o in out["options"]["namespaces"]] == ["bookinfo", "shop"]


def test_control_change_writes_the_url_and_only_the_stores_it_touches() -> None:
    loaded = sync("/", f"?edge={EDGE}", CONTROLS, None, None)
    out = sync("/", f"?edge={EDGE}", {**CONTROLS, "ctl-label": "p99"}, loaded["view"], "ctl-label")
    assert parse_query(out["search"]).label == "p99" and parse_query(out["search"]).edge == EDGE
    assert out["topology"]["label"] == "p99"
    assert out["selection"] is no_update  # the side panel does not reload for a label change
    assert all(v is no_update for v in out["controls"].values())


def test_graph_change_clears_the_selection() -> None:
    loaded = sync("/", f"?edge={EDGE}", CONTROLS, None, None)
    out = sync("/", f"?edge={EDGE}", {**CONTROLS, "ctl-graph": "app"}, loaded["view"], "ctl-graph")
    assert parse_query(out["search"]) == ViewState(graph="app")


def test_unchanged_url_changes_nothing() -> None:
    loaded = sync("/", "?window=5m", CONTROLS, None, None)
    again = sync("/", "?window=5m", CONTROLS, loaded["view"], "url")
    assert again["view"] is no_update and again["topology"] is no_update and again["selection"] is no_update


def test_traces_page_controls() -> None:
    loaded = sync("/traces", "", CONTROLS, None, None)
    assert loaded["hide_topology"] is True and loaded["disabled"] is True  # no graph refresh on the traces page
    out = sync("/traces", "", {**CONTROLS, "tr-errors": ["errors"]}, loaded["view"], "tr-errors")
    assert parse_query(out["search"]).errors is True and out["traces"]["errors"] is True
    out = sync("/traces", "", {**CONTROLS, "tr-min-duration": "250"}, loaded["view"], "tr-min-duration")
    assert parse_query(out["search"]).min_duration == "250ms"


# ---- clicks on the graph and the table ---------------------------------------------------------------------
def test_clicks() -> None:
    state = ViewState(window="5m")
    tap_edge = {"data": {"id": "e:x", "source": "a/b", "target": "c/d"}, "timeStamp": 1}
    assert click_state(state, "graph.tapEdge", "graph", tap_edge) == ViewState(window="5m", edge="a/b->c/d")
    assert click_state(state, "graph.tapNode", "graph", {"data": {"id": "a/b"}}) == ViewState(window="5m", node="a/b")
    assert click_state(state, "graph.tapNode", "graph", {"data": {"id": "ns:bookinfo"}}) is None
    selected = ViewState(edge="a/b->c/d")
    assert click_state(selected, "panel-close.n_clicks", "panel-close", 1) == ViewState()
    row = {"type": "edge-row", "edge": "x/y->z/w"}
    assert click_state(state, "{...}.n_clicks", row, 1) == ViewState(window="5m", edge="x/y->z/w")
    assert click_state(state, "{...}.n_clicks", row, None) is None  # a row that just appeared


def test_sort_clicks_toggle_direction() -> None:
    def click(state: ViewState, key: str) -> ViewState | None:
        return click_state(state, "{...}.n_clicks", {"type": "sort-column", "key": key}, 1)

    assert click(DEFAULT, "rps") == ViewState(sort="rps")  # default is rps descending: toggles to ascending
    assert click(DEFAULT, "source") == ViewState(sort="source")
    assert click(ViewState(sort="source"), "source") == ViewState(sort="-source")
    assert click(DEFAULT, "p99") == ViewState(sort="-p99")  # numbers start with the largest
    assert click(ViewState(table_page=4), "p99") == ViewState(sort="-p99")  # a new order starts on page 1


def test_pager_and_filter_reset_the_page() -> None:
    pager = {"type": "table-page", "to": 2}
    assert click_state(DEFAULT, "{...}.n_clicks", pager, 1) == ViewState(table_page=2)
    loaded = sync("/", "?tpage=3", CONTROLS, None, None)
    out = sync("/", "?tpage=3", {**CONTROLS, "ctl-filter": "rps>1"}, loaded["view"], "ctl-filter")
    assert parse_query(out["search"]) == ViewState(filter="rps>1")


def test_digits_int_refuses_fall_back_to_defaults() -> None:
    state = parse_query("tpage=%C2%B2&min_duration=%C2%B2")  # "²" is a digit to str.isdigit, not to int()
    assert state.table_page == 1 and state.min_duration == ""
