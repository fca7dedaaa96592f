"""The graph legend: every colour with its glyph and word, edge width, node shapes."""

from __future__ import annotations

from dash import html

from dashboards.figures.elements import MESH_WARNING, MIRROR_COLOUR
from dashboards.health import Health, Thresholds


def _swatch(health: Health, text: str) -> html.Li:
    return html.Li([html.Span(className="swatch", style={"backgroundColor": health.colour}),
                    html.Span(f"{health.glyph} {text}")])  # fmt: skip


def legend(thresholds: Thresholds) -> html.Div:
    healthy, degraded = f"{thresholds.healthy * 100:g}%", f"{thresholds.degraded * 100:g}%"
    return html.Div(
        [
            html.H2("Legend", className="legend-title"),
            html.Ul([
                _swatch(Health.HEALTHY, f"healthy: success ≥ {healthy}"),
                _swatch(Health.DEGRADED, f"degraded: success ≥ {degraded}"),
                _swatch(Health.FAILING, f"failing: success < {degraded}"),
                _swatch(Health.IDLE, "idle: no requests (dashed edge)"),
                _swatch(Health.UNKNOWN, "only in traces: no metrics (dotted edge)"),
            ]),
            html.Ul([
                html.Li("Edge width grows with requests per second (log scale)"),
                html.Li([html.Span(className="swatch mirror", style={"borderColor": MIRROR_COLOUR}),
                         "purple dashed, “mirror N rps”: mirrored copies (responses dropped, not in RPS)"]),
                html.Li("“· plaintext” (bar at the caller) / “· mixed TLS” (circle): edge without mTLS; "
                        "the table's Security column says mTLS, plaintext or mixed"),
                html.Li([html.Span(className="swatch not-ready", style={"borderColor": MESH_WARNING}),
                         "“⚠ not in mesh”, dashed amber border: readiness problems (click for the fix)"]),
                html.Li("● app  ▲ service  ■ workload  ◆ outside the mesh"),
                html.Li("Grey boxes are namespaces. Click a node or an edge for its charts."),
                html.Li("“bookinfo · mTLS STRICT”: a namespace's PeerAuthentication mode (with --rules-dir or "
                        "--kube); “(N exceptions)”: workload-selector or port-level policies differ"),
            ], className="legend-notes"),
        ],
        className="legend",
        role="note",
    )  # fmt: skip
