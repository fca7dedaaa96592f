"""The diff page `/diff?diff=<A>&at=<B>&window=&graph=&namespace=`: what changed between two instants.

A is "before" (`diff`), B is "after" (`at`, now when absent; A defaults to the hour before B). The graph is
coloured by change and the table lists every edge ranked by impact (the API's order); both come from
figures.diff. Links open A and B on the topology page with the same window, graph and namespaces.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dash_cytoscape as cyto
from dash import Dash, Input, Output, html
from dash.exceptions import PreventUpdate

from dashboards.backend import Backend
from dashboards.components.a11y import aria
from dashboards.config import UiConfig
from dashboards.figures import diff as figures
from dashboards.figures.replay import REPLAY_SPAN_S, instant_seconds, rfc3339
from dashboards.pages.shell import page_of
from dashboards.state import ViewState, from_dict, to_query

MAX_ROWS = 50  # the table shows the top of the ranking (the renderer pays per component)


def diff_graph(elements: list[dict[str, Any]]) -> cyto.Cytoscape:
    """Made by the callback, on the diff page only: dash-cytoscape points `window.cy` at the newest instance
    (the topology page's tests and assets/large-graph.js use it), so a hidden page must not mount one."""
    return cyto.Cytoscape(
        id="diff-graph", elements=elements, stylesheet=figures.diff_stylesheet(),
        layout={"name": "preset", "fit": True, "padding": 30}, style={"width": "100%", "height": "100%"},
        minZoom=0.05, maxZoom=4, boxSelectionEnabled=False,
    )  # fmt: skip


def layout() -> html.Div:
    legend = html.Div(
        [html.H2("Legend", className="legend-title"),
         html.Ul([html.Li([html.Span(className="swatch", style={"backgroundColor": colour}), text])
                  for colour, text in figures.CLASSES.values()]),
         html.Ul([html.Li("Impact: the share of the mesh's requests that got worse — lost successes or new "
                          "failures, plus added P99 × traffic (1 s slower = one request lost)."),
                  html.Li("Green-ringed nodes are new in B; faded nodes are gone.")], className="legend-notes")],
        className="legend", role="note",
    )  # fmt: skip
    return html.Div(
        [
            html.H1("Diff of two instants"),
            html.P(id="diff-summary", className="diff-summary"),
            html.Div(id="diff-banner", className="banners", **aria(live="polite")),
            html.Div(html.Div(id="diff-graph-box", className="graph-box", role="img",
                              **aria(label="service graph coloured by change; the table below lists the changes")),
                     className="graph-row diff-row"),
            legend,
            html.Section([html.H2("Changes ranked by impact"), html.Div(id="diff-table")], className="table-box"),
        ],
        id="page-diff",
        hidden=True,
    )


def instants(state: ViewState, now: float) -> tuple[float, float]:
    """(A, B) in seconds: B is `at` or now, A is `diff` or the hour before B."""
    b = instant_seconds(state.at) or now - now % 60
    return instant_seconds(state.diff) or b - REPLAY_SPAN_S, b


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def summary(state: ViewState, a: float, b: float) -> list[Any]:
    def topology_link(seconds: float, name: str) -> html.A:
        target = ViewState(graph=state.graph, namespaces=state.namespaces, window=state.window, at=rfc3339(seconds))
        return html.A(f"{name}: {_when(seconds)}", href="/" + to_query(target), id=f"diff-open-{name[0].lower()}")

    return [topology_link(a, "A (before)"), " → ", topology_link(b, "B (after)"),
            f" · window {state.window} · graph {state.graph}",
            f" · namespaces {', '.join(state.namespaces)}" if state.namespaces else ""]  # fmt: skip


def change_table(rows: list[figures.ChangeRow]) -> list[Any]:
    shown = rows[:MAX_ROWS]
    caption = f"{len(rows)} edges" + (f"; the top {MAX_ROWS} shown" if len(rows) > MAX_ROWS else "")
    head = html.Thead(html.Tr([html.Th(c, scope="col") for c in figures.COLUMNS]))
    body = html.Tbody([html.Tr([html.Td(text) for text in row.cells()], className=f"change-{row.change}")
                       for row in shown])  # fmt: skip
    return [html.Table([html.Caption(caption), head, body], className="edge-table diff-table")]


def register(app: Dash, backend: Backend, config: UiConfig) -> None:
    @app.callback(
        Output("diff-graph-box", "children"), Output("diff-table", "children"), Output("diff-summary", "children"),
        Output("diff-banner", "children"),
        Input("view-state", "data"),
        prevent_initial_call=True,
    )  # fmt: skip
    def render(view: dict[str, Any] | None) -> tuple[Any, ...]:
        if not view or view.get("page") != "diff":
            raise PreventUpdate
        state = from_dict(view)
        a, b = instants(state, config.clock())
        answer = backend.diff(a_at=f"{a:.0f}", b_at=f"{b:.0f}", window=state.window, graph=state.graph,
                              namespaces=state.namespaces)  # fmt: skip
        if not answer.ok:
            error = html.Div(f"✖ Cannot load the diff: {answer.error}", className="banner error", role="alert")
            return [], [], summary(state, a, b), [error]
        data = answer.data or {}
        notes = [html.Div(f"▲ Missing on side {m.get('side', '?').upper()}: {m.get('source', '?')} "
                          f"({m.get('error', 'no detail')})", className="banner warn", role="alert")
                 for m in data.get("missing") or []]  # fmt: skip
        rows = figures.change_rows(data)
        return diff_graph(figures.diff_elements(data)), change_table(rows), summary(state, a, b), notes

    @app.callback(Output("page-diff", "hidden"), Input("url", "pathname"))
    def show_page(pathname: str | None) -> bool:
        return page_of(pathname) != "diff"
