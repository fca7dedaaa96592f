"""Topology wire JSON → Cytoscape elements and the graph's stylesheet.

Style is by class (health, node kind) and by a few data fields (width, label), never per element: per-element
styles are what makes Cytoscape slow on large graphs. Elements carry only what the graph draws and what a click
needs back (ids), so the payload stays small. Labels are drawn on a canvas: text, never HTML.

Mesh security and release strategies are text too: a plaintext edge's label ends in "plaintext" (a mixed one in
"mixed TLS") and it has a bar (a hollow circle) at the caller's end; a node with readiness problems has
"⚠ not in mesh" under its name and a dashed amber border; mirrored copies are a dashed purple companion edge
"mirror N rps" (an edge that carries only mirrored requests is drawn as the companion alone: it has no user
traffic to show).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from dashboards.figures import format as fmt
from dashboards.figures.positions import Position
from dashboards.filters import Selection
from dashboards.health import Health, Thresholds, worst
from dashboards.state import edge_key

Element = dict[str, Any]
MIRROR_COLOUR = "#5e40be"  # purple: mirrored copies, responses dropped
MESH_WARNING = "#f0ab00"  # amber border: a node with mesh-readiness problems
SECURITY_SUFFIX = {"none": "plaintext", "mixed": "mixed TLS"}  # mTLS is the norm: no suffix, a quiet graph
NAMESPACE_PREFIX = "ns:"  # compound-node ids; node ids never contain ':' (they are made of DNS labels and '/')


def edge_width(rps: float | None) -> float:
    """Line width in px: logarithmic in RPS (0.1 rps → 1.7 px, 10 → 4.1, 1,000 → 9), so a busy edge stands out
    without hiding its neighbours."""
    return round(min(1.5 + 2.5 * math.log10(1 + max(rps or 0.0, 0.0)), 12.0), 2)


def edge_label(edge: Mapping[str, Any], mode: str, health: Health) -> str:
    value = {
        "rps": lambda: fmt.rps(edge.get("rps")),
        "success": lambda: fmt.percent(edge.get("success_rate")),
        "p99": lambda: fmt.millis(edge.get("p99_ms")),
    }.get(mode)
    if value is None:
        return ""
    if health is Health.UNKNOWN:
        return "? traces only"  # metrics never saw it: its rates are unknown, not zero
    # the glyph says the status in text too (colour-blind viewers, grey-scale screenshots)
    prefix = f"{health.glyph} " if health in (Health.DEGRADED, Health.FAILING) else ""
    return prefix + value()


def node_healths(edges: list[Mapping[str, Any]], thresholds: Thresholds) -> dict[str, Health]:
    """Each called node's worst inbound edge health (a node nobody calls is absent: Health.NONE)."""
    inbound: dict[str, list[Health]] = {}
    for edge in edges:
        inbound.setdefault(edge["target"], []).append(thresholds.of_edge(edge))
    return {node: worst(healths) for node, healths in inbound.items()}


def node_label(node: Mapping[str, Any], health: Health) -> str:
    kind, name = node.get("kind"), fmt.node_name(node)
    if kind == "app" and node.get("version"):
        name = f"{node.get('app')}\n{node.get('version')}"
    status = health.text if health in (Health.DEGRADED, Health.FAILING) else ""
    lines = [name, status, "⚠ not in mesh" if node.get("readiness") else ""]
    return "\n".join(line for line in lines if line)


def _node_element(node: Mapping[str, Any], health: Health, position: Position | None) -> Element:
    data: dict[str, Any] = {"id": node["id"], "label": node_label(node, health)}
    if node.get("namespace") and node.get("kind") != "unknown":
        data["parent"] = NAMESPACE_PREFIX + node["namespace"]
    # kind classes are prefixed: a node kind ("unknown") may share a health's name
    classes = f"k-{node.get('kind', 'app')} {health.value}" + (" not-ready" if node.get("readiness") else "")
    element: Element = {"data": data, "classes": classes}
    if position is not None:
        element["position"] = {"x": position[0], "y": position[1]}
    return element


def _edge_elements(edge: Mapping[str, Any], label_mode: str, thresholds: Thresholds) -> list[Element]:
    """The edge, and a companion for its mirrored copies (alone when the edge carries only mirrored traffic)."""
    key, mirror = edge_key(edge["source"], edge["target"]), edge.get("mirror")
    out: list[Element] = []
    if not isinstance(mirror, Mapping) or edge.get("rps"):
        health = thresholds.of_edge(edge)
        label, security = edge_label(edge, label_mode, health), str(edge.get("security"))
        suffix = SECURITY_SUFFIX.get(security)
        data = {"id": "e:" + key, "source": edge["source"], "target": edge["target"],
                "label": f"{label} · {suffix}" if label and suffix else label, "width": edge_width(edge.get("rps"))}
        out.append({"data": data, "classes": health.value + (f" sec-{security}" if suffix else "")})  # fmt: skip
    if isinstance(mirror, Mapping):
        data = {"id": "m:" + key, "source": edge["source"], "target": edge["target"],
                "label": fmt.mirror(mirror) if label_mode != "none" else "", "width": edge_width(mirror.get("rps"))}
        out.append({"data": data, "classes": "mirror"})  # fmt: skip
    return out


def topology_elements(
    topology: Mapping[str, Any],
    selection: Selection,
    positions: Mapping[str, Position],
    *,
    label_mode: str,
    thresholds: Thresholds,
) -> list[Element]:
    """Namespace boxes, then nodes, then edges, for what the selection keeps."""
    # node health comes from every inbound edge, shown or not: hiding an edge does not make its target healthy
    healths = node_healths(topology.get("edges", []), thresholds)
    nodes = [n for n in topology.get("nodes", []) if n["id"] in selection.node_ids]
    node_elements = [_node_element(n, healths.get(n["id"], Health.NONE), positions.get(n["id"])) for n in nodes]
    namespaces = sorted({e["data"]["parent"] for e in node_elements if "parent" in e["data"]})
    boxes: list[Element] = [
        {"data": {"id": ns, "label": ns[len(NAMESPACE_PREFIX) :]}, "classes": "namespace"} for ns in namespaces
    ]
    edges = [element for e in selection.edges for element in _edge_elements(e, label_mode, thresholds)]
    return boxes + node_elements + edges


def stylesheet() -> list[dict[str, Any]]:
    """The Cytoscape stylesheet: colours by health class, shapes by node kind."""
    rules: list[dict[str, Any]] = [
        {"selector": "node", "style": {
            "label": "data(label)", "text-wrap": "wrap", "text-valign": "bottom", "text-margin-y": 4,
            "font-size": 11, "color": "#151515", "width": 28, "height": 28, "border-width": 2,
            "border-color": "#ffffff", "background-color": Health.NONE.colour,
            "text-background-color": "#ffffff", "text-background-opacity": 0.8, "text-background-padding": 1}},
        {"selector": "node.k-service", "style": {"shape": "triangle"}},
        {"selector": "node.k-workload", "style": {"shape": "round-rectangle"}},
        {"selector": "node.k-unknown", "style": {"shape": "diamond"}},
        {"selector": "node.namespace", "style": {
            "shape": "round-rectangle", "background-color": "#f0f0f0", "background-opacity": 0.6,
            "border-color": "#b8bbbe", "border-width": 1, "label": "data(label)", "text-valign": "top",
            "text-halign": "center", "font-size": 13, "font-weight": "bold", "padding": 18,
            "text-background-opacity": 0}},
        {"selector": "edge", "style": {
            "width": "data(width)", "label": "data(label)", "curve-style": "bezier",
            "target-arrow-shape": "triangle", "arrow-scale": 0.9, "font-size": 10, "color": "#151515",
            "text-background-color": "#ffffff", "text-background-opacity": 0.85, "text-background-padding": 2,
            "text-rotation": "autorotate", "line-color": Health.IDLE.colour,
            "target-arrow-color": Health.IDLE.colour}},
        {"selector": "edge.idle", "style": {"line-style": "dashed"}},
        {"selector": "edge.unknown", "style": {"line-style": "dotted"}},
        {"selector": "node.not-ready", "style": {"border-color": MESH_WARNING, "border-width": 3,
                                                 "border-style": "dashed"}},
        {"selector": "edge.sec-none", "style": {"source-arrow-shape": "tee"}},
        {"selector": "edge.sec-mixed", "style": {"source-arrow-shape": "circle", "source-arrow-fill": "hollow"}},
        {"selector": ":selected", "style": {"overlay-color": "#0066cc", "overlay-opacity": 0.25,
                                            "overlay-padding": 6}},
    ]  # fmt: skip
    for health in (Health.HEALTHY, Health.DEGRADED, Health.FAILING, Health.IDLE, Health.UNKNOWN):
        rules.append({"selector": f"node.{health.value}", "style": {"background-color": health.colour}})
        rules.append({"selector": f"edge.{health.value}",
                      "style": {"line-color": health.colour, "target-arrow-color": health.colour}})  # fmt: skip
    # after the health rules: a mirror companion is never coloured as user traffic
    rules.append({"selector": "edge.mirror", "style": {
        "line-style": "dashed", "line-dash-pattern": [8, 4], "line-color": MIRROR_COLOUR,
        "target-arrow-color": MIRROR_COLOUR, "target-arrow-shape": "vee", "color": MIRROR_COLOUR}})  # fmt: skip
    return rules
