"""A deterministic layered layout: the same nodes and edges always get the same positions.

Why not a force layout in the browser: it moves every node on every refresh (the graph "jumps"), and its cost
grows badly past a few hundred nodes. Here a node's column is its distance (in hops) from the traffic sources,
namespaces are horizontal bands (so the compound namespace boxes never overlap), and nodes in one cell are
sorted by id. Positions are computed from the whole topology, before the find/hide filter, so filtering never
moves what stays on screen.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping

Position = tuple[float, float]

COLUMN_GAP = 260.0  # between layers: room for an edge label
ROW_GAP = 90.0  # between nodes of one cell: room for a two-line node label
SUB_COLUMN_GAP = 150.0  # between the sub-columns of a crowded cell
BAND_GAP = 80.0  # between namespaces: room for the namespace box label
MAX_ROWS = 12  # a crowded cell wraps into sub-columns instead of growing into a tall column
ASPECT = 1.6  # width / height the whole layout aims at: a wide screen


def layers(node_ids: Iterable[str], edges: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Hop distance of each node from the nearest root (a node nobody calls); cycles without a root start at
    their smallest id. Breadth-first, so O(nodes + edges)."""
    nodes = sorted(set(node_ids))
    successors: dict[str, list[str]] = defaultdict(list)
    has_caller: set[str] = set()
    for source, target in sorted(set(edges)):
        if source != target:
            successors[source].append(target)
            has_caller.add(target)
    depth: dict[str, int] = {}

    def walk(starts: list[str]) -> None:  # multi-source breadth-first: the nearest root wins
        queue = deque(starts)
        depth.update(dict.fromkeys(starts, 0))
        while queue:
            current = queue.popleft()
            for nxt in successors.get(current, ()):
                if nxt not in depth:
                    depth[nxt] = depth[current] + 1
                    queue.append(nxt)

    walk([n for n in nodes if n not in has_caller])
    for node in nodes:  # what is left lies on cycles nobody outside calls
        if node not in depth:
            walk([node])
    return {n: depth[n] for n in nodes}


def _cells(depths: Mapping[str, int], namespace_of: Mapping[str, str]) -> dict[str, dict[int, list[str]]]:
    cells: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for node in sorted(depths):
        cells[namespace_of.get(node, "")][depths[node]].append(node)
    return cells


def _layer_x(cells: Mapping[str, Mapping[int, list[str]]], layer_count: int) -> tuple[list[float], float]:
    """x of each layer (a layer is as wide as its most crowded cell in any band) and the total width."""
    layer_x, x = [], 0.0
    for layer in range(layer_count):
        width = max((math.ceil(len(band.get(layer, ())) / MAX_ROWS) for band in cells.values()), default=1)
        layer_x.append(x)
        x += COLUMN_GAP + (max(width, 1) - 1) * SUB_COLUMN_GAP
    return layer_x, x


def _band(band: Mapping[int, list[str]], layer_x: list[float]) -> tuple[dict[str, Position], float]:
    """Positions inside one namespace band (y from 0) and the band's height."""
    rows = max(min(len(members), MAX_ROWS) for members in band.values())
    positions: dict[str, Position] = {}
    for layer, members in band.items():
        offset = (rows - min(len(members), MAX_ROWS)) / 2  # centre a short cell in its band
        for index, node in enumerate(members):
            column, row = divmod(index, MAX_ROWS)
            positions[node] = (layer_x[layer] + column * SUB_COLUMN_GAP, (row + offset) * ROW_GAP)
    return positions, rows * ROW_GAP + BAND_GAP


def _columns(heights: list[float], width: float) -> list[int]:
    """Which grid column each band goes to: enough columns for a screen-shaped (ASPECT) whole, bands kept in
    order, each column about the same height. Many namespaces no longer make one tall, thin strip."""
    total = sum(heights)
    count = max(1, min(len(heights), round(math.sqrt(ASPECT * total / (width + BAND_GAP)))))
    target, column, filled, out = total / count, 0, 0.0, []
    for height in heights:
        if filled >= target and column < count - 1:
            column, filled = column + 1, 0.0
        out.append(column)
        filled += height
    return out


def layered_positions(
    node_ids: Iterable[str], edges: Iterable[tuple[str, str]], namespace_of: Mapping[str, str]
) -> dict[str, Position]:
    """x grows with the layer, y with the namespace band ('' — nodes outside any namespace — comes first);
    bands stack in one column or, when there are many, in a few side by side."""
    depths = layers(node_ids, edges)
    if not depths:
        return {}
    cells = _cells(depths, namespace_of)
    layer_x, width = _layer_x(cells, max(depths.values()) + 1)
    bands = [_band(cells[namespace], layer_x) for namespace in sorted(cells)]
    columns = _columns([height for _, height in bands], width)
    positions: dict[str, Position] = {}
    tops = [0.0] * (max(columns) + 1)
    for (band, height), column in zip(bands, columns, strict=True):
        left = column * (width + BAND_GAP)
        positions.update({node: (left + x, tops[column] + y) for node, (x, y) in band.items()})
        tops[column] += height
    return positions
