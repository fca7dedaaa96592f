"""A diff answer (/api/v1/diff: two instants A = before, B = after) → a graph coloured by change and its table.

Pure. The API ranks edges by impact = (lost_rps + slowdown_rps) / mesh_rps: the share of the mesh's requests
that got worse (lost successes or new failures, plus added P99 × traffic at 1 s = one request); it only scores
what got worse. The UI scores the mirror image for "better" (fewer failures, lower P99), with the same unit.
Each edge gets one class:
  added    in B only, or traffic in B only  green, dashed
  removed  in A only, or traffic in A only  grey, dotted
  unknown  a side could not be read         purple, dotted (neither added nor removed: we do not know)
  worse    impact ≥ MIN_SHARE               red, width by impact (the top-ranked edge is the widest)
  better   mirror impact ≥ MIN_SHARE        blue
  same     anything else                    light grey
Below MIN_SHARE (0.1 % of the mesh's requests) a change is noise. Nodes come from the edges' ends plus the
added and removed nodes (a diff has ids, not node records), placed by the same deterministic layout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dashboards.figures import format as fmt
from dashboards.figures.elements import NAMESPACE_PREFIX, Element, edge_width, stylesheet
from dashboards.figures.positions import layered_positions
from dashboards.state import edge_key

MIN_SHARE = 0.001
LATENCY_COST_MS = 1000.0  # as the API's ranking: a request 1 s slower at the tail counts as one lost request
MAX_WIDTH = 12.0
CLASSES = {
    "added": ("#3e8635", "added in B (dashed)"),
    "removed": ("#8a8d90", "removed: only in A (dotted)"),
    "worse": ("#c9190b", "worse: width grows with impact"),
    "better": ("#0066cc", "better: fewer failures or lower P99"),
    "same": ("#d2d2d2", "no significant change"),
    "unknown": ("#8476d1", "unknown: a side could not be read (dotted)"),
}


@dataclass(frozen=True, slots=True)
class ChangeRow:
    rank: int
    source: str
    target: str
    change: str  # a CLASSES key
    impact: float
    rps_a: float | None
    rps_b: float | None
    success_a: float | None
    success_b: float | None
    p99_a: float | None
    p99_b: float | None

    def cells(self) -> list[str]:
        """Display text, in COLUMNS order."""
        return [str(self.rank), self.change, self.source, self.target, f"{self.impact * 100:.2f}%",
                f"{fmt.rps(self.rps_a)} → {fmt.rps(self.rps_b)}",
                f"{fmt.percent(self.success_a)} → {fmt.percent(self.success_b)}",
                f"{fmt.millis(self.p99_a)} → {fmt.millis(self.p99_b)}"]  # fmt: skip


COLUMNS = ("#", "Change", "Source", "Destination", "Impact", "RPS A → B", "Success A → B", "P99 A → B")


def _side(edge: Mapping[str, Any], side: str) -> Mapping[str, Any]:
    value = edge.get(side)
    return value if isinstance(value, Mapping) else {}


def _ok_failed(side: Mapping[str, Any]) -> tuple[float, float]:
    rps = float(side.get("rps") or 0.0)
    success = side.get("success_rate")
    ok = rps * (1.0 if success is None else float(success))
    return ok, rps - ok


def better_share(edge: Mapping[str, Any], mesh_rps: float) -> float:
    """The mirror of the API's impact: failures that went away plus P99 removed × traffic, over the mesh."""
    a, b = _side(edge, "a"), _side(edge, "b")
    if not a or not b or mesh_rps <= 0:
        return 0.0
    fewer_failures = max(0.0, _ok_failed(a)[1] - _ok_failed(b)[1])
    faster = 0.0
    if a.get("p99_ms") is not None and b.get("p99_ms") is not None:
        faster = max(0.0, float(a["p99_ms"]) - float(b["p99_ms"])) / LATENCY_COST_MS * float(b.get("rps") or 0.0)
    return (fewer_failures + faster) / mesh_rps


def change_of(edge: Mapping[str, Any], mesh_rps: float) -> str:
    status = edge.get("status")
    if status in ("added", "removed", "unknown"):
        return str(status)
    rps_a, rps_b = float(_side(edge, "a").get("rps") or 0.0), float(_side(edge, "b").get("rps") or 0.0)
    if rps_a <= 0 < rps_b or rps_b <= 0 < rps_a:  # known to the mesh on both sides, traffic on one only
        return "added" if rps_b > 0 else "removed"
    if float(edge.get("impact") or 0.0) >= MIN_SHARE:
        return "worse"
    return "better" if better_share(edge, mesh_rps) >= MIN_SHARE else "same"


def change_rows(answer: Mapping[str, Any] | None) -> list[ChangeRow]:
    """Every edge in the API's order (ranked by impact); `rank` counts from 1."""
    mesh_rps = float((answer or {}).get("mesh_rps") or 0.0)
    rows = []
    for rank, edge in enumerate((answer or {}).get("edges") or [], start=1):
        a, b = _side(edge, "a"), _side(edge, "b")
        rows.append(ChangeRow(rank, edge["source"], edge["target"], change_of(edge, mesh_rps),
                              float(edge.get("impact") or 0.0), a.get("rps"), b.get("rps"), a.get("success_rate"),
                              b.get("success_rate"), a.get("p99_ms"), b.get("p99_ms")))  # fmt: skip
    return rows


def change_label(row: ChangeRow) -> str:
    """The edge's label on the graph: what changed, in the fewest words."""
    if row.change == "added":
        return f"new {fmt.rps(row.rps_b)}"
    if row.change == "removed":
        return f"gone (was {fmt.rps(row.rps_a)})"
    parts = []
    if row.success_a is not None and row.success_b is not None and abs(row.success_b - row.success_a) >= 0.001:
        parts.append(f"success {(row.success_b - row.success_a) * 100:+.1f} pp")
    if row.p99_a is not None and row.p99_b is not None and abs(row.p99_b - row.p99_a) >= 1:
        parts.append(f"P99 {row.p99_b - row.p99_a:+.0f} ms")
    if row.change == "worse":
        parts.insert(0, f"#{row.rank}")
    return ", ".join(parts)


def _node(node_id: str, change: str) -> Element:
    parts = node_id.split("/")
    data: dict[str, Any] = {"id": node_id, "label": "\n".join(p for p in parts[1:] if p not in ("svc", "wl"))}
    if len(parts) > 1:
        data["parent"] = NAMESPACE_PREFIX + parts[0]
    else:
        data["label"] = node_id
    kind = {"svc": "service", "wl": "workload"}.get(parts[1], "app") if len(parts) == 3 else "app"
    kind = "unknown" if len(parts) == 1 else kind
    return {"data": data, "classes": f"k-{kind} {change}".strip()}


def diff_elements(answer: Mapping[str, Any] | None) -> list[Element]:
    """Namespace boxes, nodes, edges (worst first, so they are drawn last — on top)."""
    rows = change_rows(answer)
    nodes = (answer or {}).get("nodes") or {}
    added, removed = set(nodes.get("added") or ()), set(nodes.get("removed") or ())
    ids = {r.source for r in rows} | {r.target for r in rows} | added | removed
    namespace_of = {i: i.split("/")[0] if "/" in i else "" for i in ids}
    positions = layered_positions(ids, [(r.source, r.target) for r in rows], namespace_of)
    top = max((r.impact for r in rows if r.change == "worse"), default=0.0)
    node_elements = []
    for node_id in sorted(ids):
        element = _node(node_id, "added" if node_id in added else "removed" if node_id in removed else "")
        element["position"] = {"x": positions[node_id][0], "y": positions[node_id][1]}
        node_elements.append(element)
    boxes: list[Element] = [{"data": {"id": ns, "label": ns[len(NAMESPACE_PREFIX):]}, "classes": "namespace"}
                            for ns in sorted({e["data"]["parent"] for e in node_elements if "parent" in e["data"]})]
    edges = []
    for row in reversed(rows):
        if row.change == "worse":
            width = 2.0 + (MAX_WIDTH - 2.0) * (row.impact / top if top else 1.0)
        else:
            width = edge_width(row.rps_b if row.rps_b is not None else row.rps_a)
        edges.append({"data": {"id": "e:" + edge_key(row.source, row.target), "source": row.source,
                               "target": row.target, "label": change_label(row), "width": round(width, 2)},
                      "classes": row.change})  # fmt: skip
    return boxes + node_elements + edges


def diff_stylesheet() -> list[dict[str, Any]]:
    """The topology stylesheet's node rules, and edge colours by change (not by health)."""
    rules = [r for r in stylesheet() if r["selector"].startswith("node") or r["selector"] in ("edge", ":selected")]
    rules += [{"selector": f"edge.{name}", "style": {"line-color": colour, "target-arrow-color": colour}}
              for name, (colour, _) in CLASSES.items()]  # fmt: skip
    rules += [
        {"selector": "edge.added", "style": {"line-style": "dashed"}},
        {"selector": "edge.removed, edge.unknown", "style": {"line-style": "dotted"}},
        {"selector": "edge.same", "style": {"color": "#6a6e73"}},
        {"selector": "node.added", "style": {"border-color": CLASSES["added"][0], "border-width": 4}},
        {"selector": "node.removed", "style": {"background-opacity": 0.35, "border-style": "dashed",
                                               "border-color": CLASSES["removed"][0]}},
    ]  # fmt: skip
    return rules
