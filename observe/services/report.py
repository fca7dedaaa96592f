"""A snapshot as ONE self-contained HTML file: summary, graph drawing, edge table, per-edge charts, audit, notes.

Opens offline: plotly.js is inlined (plotly is the `ui` extra, imported lazily; without it the report is
501 with how to install it), figures travel as JSON data blocks, and a Content-Security-Policy allows only the
two inline scripts by hash (`default-src 'none'`), so the page cannot load or send anything: in a meta tag (it
travels with a saved file) and, from the API, as the HTTP header too (`render_stored`).
Every text from the snapshot (title, notes, ids) is HTML-escaped — in the page and in plotly's texts and titles,
which render some markup (<a href>, <b>) — and JSON inside <script> has `<` escaped.
The graph is drawn with plotly: nodes in layers by distance from the callers (a cycle falls back to the
shortest distance from any root), edges as lines coloured by health with their numbers on hover.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from datetime import UTC, datetime
from typing import Any

import networkx as nx

from observe.errors import NotEnabled

MAX_CHARTS = 20
HEALTH_COLOURS = {"healthy": "#2e7d32", "degraded": "#f9a825", "failing": "#c62828", "idle": "#9e9e9e"}
HEALTH_ORDER = {"failing": 0, "degraded": 1, "healthy": 2, "idle": 3}  # charts of the worst edges first
BOOT = ("document.querySelectorAll('script[data-figure]').forEach(function (el) {"
        " var fig = JSON.parse(el.textContent);"
        " Plotly.newPlot(el.getAttribute('data-figure'), fig.data, fig.layout, {displaylogo: false}); });")  # fmt: skip
CSS = """body{font:14px system-ui,sans-serif;margin:24px;color:#212121}table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#f5f5f5}.num{text-align:right}
pre{white-space:pre-wrap;background:#fafafa;padding:8px}.muted{color:#757575}"""


def _plotly() -> Any:
    try:
        import plotly.graph_objects as go
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise NotEnabled("HTML reports need plotly: pip install 'observe[ui]'", field="format") from None
    return go, get_plotlyjs


def _plot_time(ts: float) -> str:
    """A date plotly parses (no zone suffix); the axis says UTC."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _time(ts: float) -> str:
    return _plot_time(ts) + " UTC"


def _rank(health: str) -> int:
    return HEALTH_ORDER.get(health, len(HEALTH_ORDER))


def _fmt(value: float | None, scale: float = 1.0, digits: int = 2, suffix: str = "") -> str:
    return "–" if value is None else f"{value * scale:.{digits}f}{suffix}"


def _edge_name(edge: dict[str, Any]) -> str:
    """`source → target` for plotly texts and titles, which render some markup: escaped."""
    return f"{html.escape(edge['source'])} → {html.escape(edge['target'])}"


def layered_positions(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, tuple[float, float]]:
    graph = nx.DiGraph(edges)
    graph.add_nodes_from(nodes)
    roots = [n for n in graph if graph.in_degree(n) == 0] or sorted(graph)[:1]
    depth = nx.multi_source_dijkstra_path_length(graph, roots) if roots else {}
    layers: dict[int, list[str]] = {}
    for node in sorted(graph):
        layers.setdefault(int(depth.get(node, 0)), []).append(node)
    return {node: (float(x), float(len(column) - 1) / 2 - i) for x, column in layers.items()
            for i, node in enumerate(column)}  # fmt: skip


def graph_figure(go: Any, topology: dict[str, Any]) -> Any:
    edges = topology["edges"]
    pos = layered_positions([n["id"] for n in topology["nodes"]], [(e["source"], e["target"]) for e in edges])
    fig = go.Figure()
    for health, colour in HEALTH_COLOURS.items():
        xs: list[float | None] = []
        ys: list[float | None] = []
        for e in (e for e in edges if e["health"] == health):
            (x0, y0), (x1, y1) = pos[e["source"]], pos[e["target"]]
            xs += [x0, x1, None]
            ys += [y0, y1, None]
        if xs:
            fig.add_scatter(x=xs, y=ys, mode="lines", line={"color": colour, "width": 2}, name=health,
                            hoverinfo="skip")  # fmt: skip
    fig.add_scatter(
        x=[(pos[e["source"]][0] + pos[e["target"]][0]) / 2 for e in edges],
        y=[(pos[e["source"]][1] + pos[e["target"]][1]) / 2 for e in edges],
        mode="markers", marker={"size": 9, "color": [HEALTH_COLOURS.get(e["health"], "#9e9e9e") for e in edges]},
        text=[f"{_edge_name(e)}<br>{_fmt(e['rps'])} rps, success {_fmt(e['success_rate'], 100)}%, "
              f"P99 {_fmt(e['p99_ms'], digits=1)} ms" for e in edges],
        hoverinfo="text", name="edges", showlegend=False,
    )  # fmt: skip
    nodes = topology["nodes"]
    fig.add_scatter(x=[pos[n["id"]][0] for n in nodes], y=[pos[n["id"]][1] for n in nodes], mode="markers+text",
                    text=[html.escape(n["id"]) for n in nodes], textposition="top center", name="nodes",
                    showlegend=False,
                    marker={"size": 16, "color": [HEALTH_COLOURS.get(n["health"], "#9e9e9e") for n in nodes]},
                    )  # fmt: skip
    fig.update_layout(height=480, margin={"l": 20, "r": 20, "t": 30, "b": 20}, plot_bgcolor="white",
                      xaxis={"visible": False}, yaxis={"visible": False})  # fmt: skip
    return fig


def series_figure(go: Any, series: dict[str, Any]) -> Any:
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=3, cols=1, vertical_spacing=0.08,
                        subplot_titles=("requests/s", "success rate", "P99 ms"))  # fmt: skip
    for row, name in enumerate(("rps", "success_rate", "p99_ms"), start=1):
        points = series["series"].get(name, [])
        fig.add_scatter(x=[_plot_time(t) for t, _ in points], y=[v for _, v in points], mode="lines", name=name,
                        row=row, col=1)  # fmt: skip
    fig.update_yaxes(range=[0, 1.02], row=2, col=1)
    fig.update_xaxes(showticklabels=False, row=1, col=1)
    fig.update_xaxes(showticklabels=False, row=2, col=1)
    fig.update_xaxes(title_text="UTC", row=3, col=1)
    fig.update_layout(height=420, showlegend=False, margin={"l": 50, "r": 20, "t": 40, "b": 30},
                      title={"text": _edge_name(series), "font": {"size": 13}})  # fmt: skip
    return fig


def _figure_block(fig_id: str, fig: Any) -> str:
    data = fig.to_json().replace("<", "\\u003c")
    return f'<div id="{fig_id}"></div>\n<script type="application/json" data-figure="{fig_id}">{data}</script>'


def _edge_table(edges: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(e['source'])}</td><td>{html.escape(e['target'])}</td>"
        f"<td class=num>{_fmt(e['rps'])}</td><td class=num>{_fmt(e['success_rate'], 100)}%</td>"
        f"<td class=num>{_fmt(e['p99_ms'], digits=1)}</td><td>{html.escape(str(e['health']))}</td></tr>"
        for e in sorted(edges, key=lambda e: (_rank(e["health"]), e["source"], e["target"]))
    )
    return ("<table id=edges><tr><th>source</th><th>destination</th><th>rps</th><th>success</th><th>P99 ms</th>"
            f"<th>health</th></tr>{rows}</table>")  # fmt: skip


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>" if items else "<p>none</p>"


def _csp_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def render_report(doc: dict[str, Any]) -> str:
    """The page (its CSP in a meta tag)."""
    return _render(doc)[0]


def render_stored(text: str) -> tuple[str, str]:
    """(page, Content-Security-Policy) of a stored snapshot's JSON text: parsing and drawing are one thread's work."""
    return _render(json.loads(text))


def _render(doc: dict[str, Any]) -> tuple[str, str]:
    go, get_plotlyjs = _plotly()
    plotly_js = get_plotlyjs()
    title = html.escape(doc["title"])
    topo = doc["topology"]
    health = {(e["source"], e["target"]): e["health"] for e in topo["edges"]}
    worst_first = sorted(doc["series"], key=lambda s: _rank(health.get((s["source"], s["target"]), "")))
    charts = "\n".join(_figure_block(f"series-{i}", series_figure(go, s))
                       for i, s in enumerate(worst_first[:MAX_CHARTS]))  # fmt: skip
    audit = doc.get("audit")
    audit_items = [f"{_time(a['ts'])} {a['action']} {a['target']} by {a['actor']}: {a['result']} — {a['reason']}"
                   for a in audit or []]  # fmt: skip
    compares = [f"{c.get('namespace', '')}/{c.get('service', '')}: {c.get('verdict', c.get('error', ''))} "
                f"{c.get('reason', '')}" for c in doc.get("compare", [])]  # fmt: skip
    missing = [f"{m['source']}: {m['error']}" for m in doc.get("missing", [])]
    csp = (f"default-src 'none'; script-src {_csp_hash(plotly_js)} {_csp_hash(BOOT)}; style-src 'unsafe-inline'; "
           "img-src data:; font-src data:; base-uri 'none'; form-action 'none'")  # fmt: skip
    namespaces = ", ".join(doc["namespaces"]) or "all namespaces"
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>{title} — observe snapshot</title><style>{CSS}</style>
<script>{plotly_js}</script></head>
<body>
<h1>{title}</h1>
<p class=muted>snapshot {html.escape(doc["id"])} · {_time(doc["at"])} · window {doc["window_s"]:g}s ·
graph {html.escape(doc["graph"])} · {html.escape(namespaces)} · saved {_time(doc["created"])}</p>
<h2>Notes</h2><pre>{html.escape(doc.get("notes") or "")}</pre>
<h2>Graph</h2>{_figure_block("graph", graph_figure(go, topo))}
<h2>Edges</h2>{_edge_table(topo["edges"])}
<h2>Charts</h2>{charts or "<p>no series</p>"}
<h2>Canary comparisons</h2>{_list(compares)}
<h2>Audit entries of the window</h2>{_list(audit_items) if audit is not None else "<p>no audit log configured</p>"}
<h2>Missing data</h2>{_list(missing)}
<script>{BOOT}</script>
</body></html>
"""
    return page, csp
