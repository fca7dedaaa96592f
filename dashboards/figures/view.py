"""The topology page's content for one answer and one view state: what the callbacks send to the browser.

Filtering happens here, on the server, so only what is filtered in is sent (elements, rows). A bad filter
expression shows everything plus the error: the page never goes blank because of a typo.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dashboards.figures.elements import Element, topology_elements
from dashboards.figures.positions import layered_positions
from dashboards.figures.table import EdgeRow, edge_rows
from dashboards.figures.tiles import Tile, kiosk_tiles
from dashboards.filters import FilterError, parse_filter, select
from dashboards.health import Thresholds
from dashboards.state import ViewState


@dataclass(frozen=True, slots=True)
class TopologyView:
    elements: list[Element] = field(default_factory=list)
    rows: list[EdgeRow] = field(default_factory=list)
    total_edges: int = 0
    filter_error: str = ""
    tiles: list[Tile] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)


def positions_of(topology: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """Positions of every node of the answer (before filtering, so a filter never moves a node)."""
    nodes = topology.get("nodes", [])
    namespace_of = {n["id"]: "" if n.get("kind") == "unknown" else str(n.get("namespace") or "") for n in nodes}
    edges = [(e["source"], e["target"]) for e in topology.get("edges", [])]
    return layered_positions(namespace_of, edges, namespace_of)


def topology_view(topology: Mapping[str, Any] | None, state: ViewState, thresholds: Thresholds,
                  positions: Mapping[str, tuple[float, float]] | None = None) -> TopologyView:
    """`positions`: given during a replay (figures.replay), so nodes stay put; else from this topology."""
    if topology is None:
        return TopologyView()
    error = ""
    try:
        predicate = parse_filter(state.filter)
    except FilterError as exc:
        predicate, error = None, f"Filter not applied: {exc.message} at column {exc.column}"
    selection = select(topology, predicate, thresholds)
    namespaces = sorted({str(n["namespace"]) for n in topology.get("nodes", [])
                         if n.get("namespace") and n.get("kind") != "unknown"} | set(state.namespaces))  # fmt: skip
    if state.kiosk:  # a TV shows tiles and the graph: no table rows to build
        rows: list[EdgeRow] = []
        tiles = kiosk_tiles(topology, state.watch, thresholds)
    else:
        rows, tiles = edge_rows(selection.edges, thresholds, state.sort_key, state.sort_descending), []
    elements = topology_elements(topology, selection, positions or positions_of(topology), label_mode=state.label,
                                 thresholds=thresholds)  # fmt: skip
    return TopologyView(elements, rows, len(topology.get("edges", [])), error, tiles, namespaces)
