"""Graph elements, stable positions, the edge table, kiosk tiles and the page view, from wire fixtures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dashboards.components.edge_table import edge_table
from dashboards.figures.elements import edge_label, edge_width, stylesheet, topology_elements
from dashboards.figures.positions import MAX_ROWS, layered_positions, layers
from dashboards.figures.table import PAGE_ROWS, edge_rows, page_rows
from dashboards.figures.tiles import default_watch, kiosk_tiles
from dashboards.figures.view import positions_of, topology_view
from dashboards.filters import parse_filter, select
from dashboards.health import Health, Thresholds
from dashboards.state import ViewState
from tests.unit.dashboards.wire import load, synthetic_topology

PP = "bookinfo/productpage/v1"
T = Thresholds()


@pytest.fixture(scope="module")
def topology() -> dict[str, Any]:
    return load("topology_bookinfo.json")


def by_id(elements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["data"]["id"]: e for e in elements}


def test_elements_of_bookinfo(topology: dict[str, Any]) -> None:
    elements = topology_elements(topology, select(topology, None, T), positions_of(topology), label_mode="rps",
                                 thresholds=T)  # fmt: skip
    found = by_id(elements)
    assert found["ns:bookinfo"]["classes"] == "namespace"
    assert found["bookinfo/reviews/v2"]["data"]["parent"] == "ns:bookinfo"
    assert "parent" not in found["unknown"]["data"]  # outside the mesh: no namespace box
    assert found["unknown"]["classes"] == "k-unknown none"
    assert found["bookinfo/reviews/v2"]["classes"] == "k-app failing"
    assert found["bookinfo/reviews/v2"]["data"]["label"] == "reviews\nv2\n✖ failing"  # status in words too
    assert found["bookinfo/reviews/v1"]["data"]["label"] == "reviews\nv1"
    failing = found[f"e:{PP}->bookinfo/reviews/v2"]
    assert failing["classes"] == "failing" and failing["data"]["label"] == "✖ 3.30 rps"
    assert found[f"e:{PP}->bookinfo/reviews/v3"]["classes"] == "degraded"
    assert len(elements) == 1 + len(topology["nodes"]) + len(topology["edges"])
    assert all("position" in e for e in elements if e["classes"] != "namespace" and "source" not in e["data"])


@pytest.mark.parametrize(("mode", "label"), [("rps", "✖ 3.30 rps"), ("success", "✖ 80.00%"), ("p99", "✖ 88 ms"),
                                             ("none", "")])  # fmt: skip
def test_edge_label_modes(topology: dict[str, Any], mode: str, label: str) -> None:
    edge = next(e for e in topology["edges"] if e["target"] == "bookinfo/reviews/v2")
    assert edge_label(edge, mode, T.of_edge(edge)) == label


def test_trace_only_edges_are_unknown_not_idle() -> None:
    edge = {"source": "a", "target": "b", "rps": None, "success_rate": None, "seen_by": ["traces"]}
    assert T.of_edge(edge) is Health.UNKNOWN and edge_label(edge, "rps", Health.UNKNOWN) == "? traces only"


def test_edge_width_grows_with_rps_and_is_bounded() -> None:
    widths = [edge_width(r) for r in (None, 0, 0.1, 1, 10, 1000, 1e9)]
    assert widths == sorted(widths) and widths[0] == 1.5 and widths[-1] == 12.0


def test_stylesheet_colours_every_health_by_class() -> None:
    selectors = {rule["selector"] for rule in stylesheet()}
    for health in ("healthy", "degraded", "failing", "idle", "unknown"):
        assert f"edge.{health}" in selectors and f"node.{health}" in selectors


def test_filter_sends_only_what_it_keeps(topology: dict[str, Any]) -> None:
    positions = positions_of(topology)
    narrow = topology_elements(topology, select(topology, parse_filter("flags=UO"), T), positions, label_mode="rps",
                               thresholds=T)  # fmt: skip
    assert set(by_id(narrow)) == {"ns:bookinfo", PP, "bookinfo/svc/reviews", f"e:{PP}->bookinfo/svc/reviews"}
    # and a kept node sits where it sat unfiltered
    assert by_id(narrow)[PP]["position"] == {"x": positions[PP][0], "y": positions[PP][1]}


def test_positions_are_deterministic_and_layered(topology: dict[str, Any]) -> None:
    first, second = positions_of(topology), positions_of(json.loads(json.dumps(topology)))
    assert first == second
    depth = layers(first, [(e["source"], e["target"]) for e in topology["edges"]])
    assert depth["unknown"] == 0 and depth[PP] == 1 and depth["bookinfo/reviews/v2"] == 2
    assert depth["bookinfo/ratings/v1"] == 3
    assert first["unknown"][1] < min(y for n, (_, y) in first.items() if n != "unknown")  # its own band, on top


def test_positions_never_overlap_and_wrap_crowded_cells() -> None:
    big = synthetic_topology()
    positions = positions_of(big)
    assert len(positions) == 300 and len(set(positions.values())) == 300
    xs, ys = [x for x, _ in positions.values()], [y for _, y in positions.values()]
    assert 0.5 < (max(xs) - min(xs)) / (max(ys) - min(ys)) < 3  # ten namespaces: bands side by side, not a strip
    # 10 nodes at depth 1 in one namespace: at most MAX_ROWS rows in a cell
    star = layered_positions([f"n{i:02d}" for i in range(30)] + ["root"], [("root", f"n{i:02d}") for i in range(30)],
                             {})  # fmt: skip
    rows = {y for n, (_, y) in star.items() if n != "root"}
    assert len(rows) == MAX_ROWS and len(set(star.values())) == 31


def test_cycles_without_a_root_get_positions() -> None:
    positions = layered_positions(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a")], {})
    assert layers(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a")]) == {"a": 0, "b": 1, "c": 2}
    assert len(set(positions.values())) == 3


def test_table_rows_sorted_with_missing_values_last(topology: dict[str, Any]) -> None:
    rows = edge_rows(topology["edges"], T, "p99", descending=True)
    assert [r.p99 for r in rows][:2] == [240.0, 96.0] and rows[-1].p99 is None
    ascending = edge_rows(topology["edges"], T, "p99", descending=False)
    assert ascending[0].p99 == 4.97 and ascending[-1].p99 is None
    by_health = edge_rows(topology["edges"], T, "health", descending=True)
    assert by_health[0].health is Health.FAILING
    uo = next(r for r in rows if r.target == "bookinfo/svc/reviews")
    assert uo.circuit_breaker and uo.cells()[-1] == "UO 0.50/s" and uo.cells()[0] == "✖ failing"
    v2 = next(r for r in rows if r.target == "bookinfo/reviews/v2")
    assert v2.trace_p99 == 71.4 and v2.cells()[4] == "80.00%"


def test_kiosk_tiles(topology: dict[str, Any]) -> None:
    assert default_watch(topology) == ("bookinfo/details", "bookinfo/productpage", "bookinfo/ratings",
                                       "bookinfo/reviews")  # fmt: skip
    reviews, release, ghost = kiosk_tiles(topology, ("bookinfo/reviews", "bookinfo/reviews/v1", "shop/cart"), T)
    assert reviews.health is Health.FAILING and reviews.rps == pytest.approx(10.5)  # includes the UO rejections
    assert reviews.p99_ms == 96.0
    assert release.health is Health.HEALTHY and release.rps == 3.4
    assert ghost.health is Health.IDLE and ghost.note == "not seen in this window"


def test_view_with_a_bad_filter_shows_everything_and_the_error(topology: dict[str, Any]) -> None:
    view = topology_view(topology, ViewState(filter="rsp>1"), T)
    assert view.filter_error.startswith("Filter not applied: unknown field 'rsp'")
    assert len(view.rows) == view.total_edges == len(topology["edges"])
    assert view.namespaces == ["bookinfo"] and view.tiles == []


def test_view_in_kiosk_builds_tiles_not_rows(topology: dict[str, Any]) -> None:
    view = topology_view(topology, ViewState(kiosk=True, watch=("bookinfo/reviews",)), T)
    assert view.rows == [] and [t.name for t in view.tiles] == ["bookinfo/reviews"]
    assert topology_view(None, ViewState(), T).elements == []


def test_large_topology_payload_is_filtered_server_side() -> None:
    big = synthetic_topology()
    full = topology_view(big, ViewState(), T)
    narrow = topology_view(big, ViewState(filter="success<99"), T)
    assert len(full.elements) == 10 + 300 + 1000
    assert len(json.dumps(narrow.elements)) < len(json.dumps(full.elements)) / 3


def test_table_pages() -> None:
    rows = edge_rows(synthetic_topology()["edges"], T)
    first, page, pages = page_rows(rows, 1)
    assert len(first) == PAGE_ROWS and page == 1 and pages == 20
    last, page, _ = page_rows(rows, 99)  # a stale link past the end shows the last page
    assert page == 20 and last == rows[-PAGE_ROWS:]
    assert page_rows([], 3) == ([], 1, 1)
    table, pager = edge_table(rows, sort_key="rps", descending=True, total=1000, page=2)
    assert "rows 51–100" in table.children[0].children and "page 2 of 20" in str(pager.to_plotly_json())
    [only] = edge_table(rows[:5], sort_key="rps", descending=True, total=5)
    assert only.children[0].children == "5 edges"
