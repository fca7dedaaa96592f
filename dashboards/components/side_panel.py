"""The side panel of a clicked node or edge: static frame (charts mounted once), filled by pages.panel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dash import dcc, html

from dashboards.components.a11y import aria
from dashboards.components.edit_form import edit_section
from dashboards.figures import format as fmt
from dashboards.figures.series import CHART_HEIGHT, CIRCUIT_BREAKER_FLAG, P99Comparison, code_colour
from dashboards.health import Health

CHARTS = ("panel-rps", "panel-success", "panel-latency", "panel-codes", "panel-flags")
_GRAPH_CONFIG: Any = {"displayModeBar": False, "responsive": True}


def side_panel() -> html.Aside:
    """Always on screen (a placeholder when nothing is selected), so opening it never resizes the graph."""
    body = html.Div(
        [
            html.Div([html.H2(id="panel-title"),
                      html.Button("✕", id="panel-close", className="close", title="close the panel",
                                  **aria(label="close the panel"))], className="panel-head"),
            html.Div(id="panel-error", role="alert"),
            html.Div(id="panel-summary"),
            *[dcc.Graph(id=chart, config=_GRAPH_CONFIG, className="panel-chart", style={"height": f"{CHART_HEIGHT}px"})
              for chart in CHARTS],
            html.Div(id="panel-traces", className="panel-traces"),
            edit_section(),
        ],
        id="panel-body",
        hidden=True,
    )  # fmt: skip
    empty = html.P("Click a node or an edge (or a row of the table) to see its charts here.", id="panel-empty",
                   className="panel-empty")  # fmt: skip
    return html.Aside([empty, body], id="side-panel", className="side-panel", **aria(label="details of the selection"))


def _pairs(rows: list[tuple[str, Any]]) -> html.Table:
    return html.Table(html.Tbody([html.Tr([html.Th(k, scope="row"), html.Td(v)]) for k, v in rows]),
                      className="pairs")  # fmt: skip


def _codes(responses: Mapping[str, Any]) -> list[Any]:
    return [html.Span(f"{code}: {rate:.2f}/s", className="chip", style={"borderColor": code_colour(code)})
            for code, rate in sorted(responses.items()) if rate]  # fmt: skip


def _flags(flags: Mapping[str, Any]) -> list[Any]:
    chips = []
    for flag, rate in sorted(flags.items()):
        if not rate:
            continue
        if flag == CIRCUIT_BREAKER_FLAG:
            chips.append(html.Span(f"✖ {flag} {rate:.2f}/s — circuit-breaker rejections", className="chip breaker"))
        else:
            chips.append(html.Span(f"{flag} {rate:.2f}/s", className="chip"))
    return chips


_SECURITY_TEXT = {"mutual_tls": "mTLS (mutual TLS)", "none": "plaintext (no mTLS)",
                  "mixed": "mixed (some requests without mTLS)"}  # fmt: skip


def edge_summary(edge: Mapping[str, Any], health: Health, p99: P99Comparison) -> html.Div:
    """Now-numbers of the edge (current window): status, rates, P99 from the histogram beside the traces'."""
    rows: list[tuple[str, Any]] = [
        ("Status", [html.Span(className="swatch", style={"backgroundColor": health.colour}), health.text or "–"]),
        ("RPS", fmt.rps(edge.get("rps"))),
        ("Success", fmt.percent(edge.get("success_rate"))),
        ("5xx / 4xx", f"{fmt.percent(edge.get('error_rate_5xx'))} / {fmt.percent(edge.get('rate_4xx'))}"),
        ("P99 histogram", p99.histogram_text),
        ("P99 traces", p99.trace_text),
        ("Response codes", _codes(edge.get("responses") or {}) or "–"),
        ("Flags", _flags(edge.get("flags") or {}) or "none"),
        ("Security", _SECURITY_TEXT.get(str(edge.get("security")), "unknown (no connection security label)")),
        ("Seen by", ", ".join(edge.get("seen_by") or []) or "–"),
    ]
    mirror = edge.get("mirror")
    if isinstance(mirror, Mapping):  # copies, responses dropped: apart from the user traffic above
        rows.insert(2, ("Mirrored", f"{fmt.mirror(mirror)}, success {fmt.percent(mirror.get('success_rate'))} "
                                    "(copies; responses dropped, not in RPS)"))  # fmt: skip
    notes = [str(d.get("message", "")) for d in edge.get("disagreements") or [] if isinstance(d, Mapping)]
    if notes:  # metrics and traces tell different stories: say so, it is what this tool is for
        rows.append(("Disagreements", html.Ul([html.Li(f"▲ {n}") for n in notes], className="notes")))
    return html.Div(_pairs(rows))


def node_summary(node: Mapping[str, Any], health: Health) -> html.Div:
    workloads = node.get("workloads") or ([node["workload"]] if node.get("workload") else [])
    rows: list[tuple[str, Any]] = [
        ("Status", [html.Span(className="swatch", style={"backgroundColor": health.colour}), health.text or "–"]),
        ("Namespace", str(node.get("namespace") or "–")),
        ("Workloads", ", ".join(str(w) for w in workloads) or "–"),
        ("RPS in / out", f"{fmt.rps(node.get('rps_in'))} / {fmt.rps(node.get('rps_out'))}"),
    ]
    problems = [p for p in node.get("readiness") or [] if isinstance(p, Mapping)]
    if problems:
        items = [html.Li([f"⚠ {p.get('problem', '')}", html.Br(), f"fix: {p.get('fix', '')}"]) for p in problems]
        rows.append(("Mesh readiness", html.Ul(items, className="notes readiness")))
    elif "readiness" in node:  # an older API does not say: then neither do we
        rows.append(("Mesh readiness", "✓ no problems found"))
    return html.Div(_pairs(rows))


def trace_links(trace_ids: list[str], traces_href: str, make_href: Any, note: str = "") -> list[Any]:
    """Exemplar trace links (to the traces page) and a link to every trace of the selection."""
    items = [html.Li(dcc.Link(trace_id[:16] + "…", href=make_href(trace_id), refresh=True, title=trace_id))
             for trace_id in trace_ids]  # fmt: skip
    body: list[Any] = [html.H3("Traces")]
    body.append(html.Ul(items) if items else html.P(note or "No exemplar traces in this window."))
    body.append(dcc.Link("search the traces of this selection →", href=traces_href, refresh=True))
    return body
