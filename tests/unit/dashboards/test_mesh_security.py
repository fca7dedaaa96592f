"""mTLS, mesh readiness and mirroring on the topology page: filter fields, graph elements, table, side panel."""

from __future__ import annotations

from typing import Any

import pytest

from dashboards.components.legend import legend
from dashboards.components.side_panel import edge_summary, node_summary
from dashboards.figures.elements import stylesheet, topology_elements
from dashboards.figures.series import p99_comparison
from dashboards.figures.table import COLUMNS, edge_rows
from dashboards.figures.view import positions_of
from dashboards.filters import FilterError, parse_filter, select
from dashboards.health import Health, Thresholds
from dashboards.state import from_dict
from tests.unit.dashboards.wire import load

T = Thresholds()
PP = "bookinfo/productpage/v1"
RATINGS = "bookinfo/ratings/v1"


@pytest.fixture(scope="module")
def topology() -> dict[str, Any]:
    return load("topology_security.json")


def kept(topology: dict[str, Any], expression: str) -> set[tuple[str, str]]:
    return {(e["source"], e["target"]) for e in select(topology, parse_filter(expression), T).edges}


def elements(topology: dict[str, Any], expression: str = "", label: str = "rps") -> dict[str, dict[str, Any]]:
    selection = select(topology, parse_filter(expression), T)
    found = topology_elements(topology, selection, positions_of(topology), label_mode=label, thresholds=T)
    return {e["data"]["id"]: e for e in found}


def text(component: Any) -> str:
    """Every string under a Dash component, in order."""
    if isinstance(component, str):
        return component
    children = getattr(component, "children", None)
    if isinstance(component, list | tuple):
        return " ".join(text(c) for c in component)
    return text(children) if children is not None else ""


@pytest.mark.parametrize(("expression", "expected"), [
    ("mtls=none", {("bookinfo/reviews/v2", RATINGS), ("unknown", PP)}),
    ("security=mutual_tls and app=reviews", {(PP, "bookinfo/reviews/v1"), (PP, "bookinfo/reviews/v3"),
                                             ("bookinfo/reviews/v3", RATINGS)}),
    ("security=mixed", {(PP, "bookinfo/reviews/v2")}),
    ("mtls=unknown", {(PP, "bookinfo/svc/reviews")}),
    ("mtls!=mutual_tls and rps>5", {("unknown", PP)}),
    ("ready=false", {("unknown", PP), ("bookinfo/reviews/v2", RATINGS), ("bookinfo/reviews/v3", RATINGS)}),
    ("ready!=false and mtls=none", set()),
    ("mirror>0", {(PP, "bookinfo/details/v2"), (PP, "bookinfo/reviews/v3")}),
    ("mirror>1rps", {(PP, "bookinfo/details/v2")}),
])  # fmt: skip
def test_security_readiness_and_mirror_filters(topology: dict[str, Any], expression: str, expected: set[Any]) -> None:
    assert kept(topology, expression) == expected


def test_security_is_text_not_a_number() -> None:
    with pytest.raises(FilterError, match="does not apply to mtls"):
        parse_filter("mtls>1")


def test_plaintext_and_mixed_edges_say_so_in_the_label_and_have_a_marker(topology: dict[str, Any]) -> None:
    found = elements(topology)
    plain = found[f"e:bookinfo/reviews/v2->{RATINGS}"]
    assert plain["data"]["label"] == "3.30 rps · plaintext" and plain["classes"] == "healthy sec-none"
    mixed = found[f"e:{PP}->bookinfo/reviews/v2"]
    assert mixed["data"]["label"] == "✖ 3.30 rps · mixed TLS" and mixed["classes"] == "failing sec-mixed"
    mtls = found[f"e:{PP}->bookinfo/details/v1"]  # mTLS is the norm: no suffix, no class
    assert mtls["data"]["label"] == "10.0 rps" and mtls["classes"] == "healthy"
    rules = {r["selector"]: r["style"] for r in stylesheet()}
    assert rules["edge.sec-none"]["source-arrow-shape"] == "tee"
    assert rules["edge.sec-mixed"]["source-arrow-shape"] == "circle"


def test_nodes_with_readiness_problems_carry_a_glyph_and_a_class(topology: dict[str, Any]) -> None:
    found = elements(topology)
    assert found[RATINGS]["data"]["label"] == "ratings\nv1\n⚠ not in mesh"
    assert found[RATINGS]["classes"] == "k-app healthy not-ready"
    assert found["bookinfo/reviews/v1"]["classes"] == "k-app healthy"
    assert {"border-style": "dashed"}.items() <= {r["selector"]: r["style"] for r in stylesheet()}[
        "node.not-ready"
    ].items()


def test_mirror_is_a_dashed_companion_and_mirror_only_edges_are_the_companion_alone(topology: dict[str, Any]) -> None:
    found = elements(topology)
    both = f"{PP}->bookinfo/reviews/v3"
    assert found["e:" + both]["data"]["label"] == "▲ 3.30 rps"  # user traffic, unchanged
    companion = found["m:" + both]
    assert companion["classes"] == "mirror" and companion["data"]["label"] == "mirror 0.70 rps"
    assert (companion["data"]["source"], companion["data"]["target"]) == (PP, "bookinfo/reviews/v3")
    only = f"{PP}->bookinfo/details/v2"
    assert "e:" + only not in found and found["m:" + only]["data"]["label"] == "mirror 2.00 rps"
    assert elements(topology, label="none")["m:" + only]["data"]["label"] == ""
    mirror_rule = stylesheet()[-1]  # last: health colours never override it
    assert mirror_rule["selector"] == "edge.mirror" and mirror_rule["style"]["line-style"] == "dashed"


def test_table_has_a_security_column_and_mirror_in_flags(topology: dict[str, Any]) -> None:
    keys = [k for k, _, _ in COLUMNS]
    rows = {(r.source, r.target): dict(zip(keys, r.cells(), strict=True)) for r in edge_rows(topology["edges"], T)}
    assert rows[("bookinfo/reviews/v2", RATINGS)]["security"] == "plaintext"
    assert rows[(PP, "bookinfo/reviews/v2")]["security"] == "mixed"
    assert rows[(PP, "bookinfo/details/v1")]["security"] == "mTLS"
    assert rows[(PP, "bookinfo/svc/reviews")]["security"] == "–"
    assert rows[(PP, "bookinfo/reviews/v3")]["flags"] == "mirror 0.70 rps"
    assert rows[(PP, "bookinfo/svc/reviews")]["flags"] == "UO 0.50/s"
    by_security = edge_rows(topology["edges"], T, "security", descending=False)
    assert by_security[0].security == "mTLS" and from_dict({"sort": "-security"}).sort == "-security"


def test_side_panel_shows_security_mirror_and_readiness(topology: dict[str, Any]) -> None:
    edges = {(e["source"], e["target"]): e for e in topology["edges"]}
    plain = text(edge_summary(edges[("unknown", PP)], Health.HEALTHY, p99_comparison(edges[("unknown", PP)])))
    assert "Security plaintext (no mTLS)" in plain and "Mirrored" not in plain
    mirrored_edge = edges[(PP, "bookinfo/reviews/v3")]
    mirrored = text(edge_summary(mirrored_edge, Health.DEGRADED, p99_comparison(mirrored_edge)))
    assert "Mirrored mirror 0.70 rps, success 98.00% (copies; responses dropped, not in RPS)" in mirrored
    assert "Security mTLS (mutual TLS)" in mirrored
    nodes = {n["id"]: n for n in topology["nodes"]}
    ratings = text(node_summary(nodes[RATINGS], Health.HEALTHY))
    assert "⚠ workload ratings-v1 has no version label" in ratings
    assert "fix: add the label version: v1 to the pod template" in ratings
    assert "✓ no problems found" in text(node_summary(nodes["bookinfo/reviews/v1"], Health.HEALTHY))
    assert "Mesh readiness" not in text(node_summary({"id": "x"}, Health.NONE))  # an older API: nothing said


def test_legend_explains_mirror_security_and_readiness() -> None:
    words = text(legend(T))
    assert "mirrored copies" in words and "plaintext" in words and "not in mesh" in words
