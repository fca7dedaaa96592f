"""The topology page (home): controls, banner, kiosk tiles, the graph with its legend and side panel, the table.

The Cytoscape graph is mounted once; refreshes only replace `elements` (same ids, same preset positions), so
the browser patches data in place and the view does not jump. Clicks on the graph or the table write the URL.
"""

from __future__ import annotations

from typing import Any

import dash_cytoscape as cyto
from dash import ALL, Dash, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from dashboards.backend import Backend
from dashboards.components.a11y import aria
from dashboards.components.banner import banner
from dashboards.components.controls import topology_controls
from dashboards.components.edge_table import PAGE_BUTTON, ROW_BUTTON, SORT_BUTTON, edge_table
from dashboards.components.legend import legend
from dashboards.components.review import review_bar
from dashboards.components.side_panel import side_panel
from dashboards.components.tiles import tile_grid
from dashboards.config import UiConfig
from dashboards.figures.elements import NAMESPACE_PREFIX, stylesheet
from dashboards.figures.namespace_security import boxed_namespaces, label_namespaces
from dashboards.figures.replay import remember, remembered_positions
from dashboards.figures.table import COLUMNS
from dashboards.figures.view import topology_view
from dashboards.pages import review
from dashboards.state import ViewState, edge_key, from_dict, to_query, with_changes

_NUMERIC = {key for key, _, numeric in COLUMNS if numeric}


def layout(config: UiConfig) -> html.Div:
    graph = cyto.Cytoscape(
        id="graph", elements=[], stylesheet=stylesheet(), layout={"name": "preset", "fit": True, "padding": 30},
        style={"width": "100%", "height": "100%"}, minZoom=0.05, maxZoom=4, boxSelectionEnabled=False,
        autoRefreshLayout=True,  # re-runs only when elements are added or removed; preset keeps positions
    )  # fmt: skip
    return html.Div(
        [
            topology_controls(),
            review_bar(),
            html.Div(id="banner", className="banners", **aria(live="polite")),
            html.Div(id="kiosk-tiles", className="tiles"),
            html.Div([html.Div(graph, className="graph-box", id="graph-box", role="img",
                               **aria(label="service graph; the edge table below lists the same data")),
                      side_panel()], className="graph-row"),
            legend(config.thresholds),
            html.Section([html.H2("Edges"), html.Div(id="edge-table")], id="edge-table-box", className="table-box"),
        ],
        id="page-topology",
    )


def click_state(state: ViewState, prop_id: str, trigger: Any, value: Any) -> ViewState | None:
    """The state after a click on the graph or the table (None: not a real click, nothing to do)."""
    if prop_id == "graph.tapEdge" and isinstance(value, dict):
        data = value.get("data") or {}
        return with_changes(state, edge=edge_key(data["source"], data["target"]), node="")
    if prop_id == "graph.tapNode" and isinstance(value, dict):
        node = str((value.get("data") or {}).get("id", ""))
        return None if not node or node.startswith(NAMESPACE_PREFIX) else with_changes(state, node=node, edge="")
    if not value:  # a button that just appeared (n_clicks None): not a click
        return None
    if prop_id == "panel-close.n_clicks":
        return with_changes(state, edge="", node="")
    if isinstance(trigger, dict) and trigger.get("type") == ROW_BUTTON:
        return with_changes(state, edge=str(trigger["edge"]), node="")
    if isinstance(trigger, dict) and trigger.get("type") == PAGE_BUTTON:
        return with_changes(state, table_page=int(trigger["to"]))
    if isinstance(trigger, dict) and trigger.get("type") == SORT_BUTTON:
        key = str(trigger["key"])
        if key == state.sort_key:
            return with_changes(state, sort=key if state.sort_descending else f"-{key}", table_page=1)
        return with_changes(state, sort=f"-{key}" if key in _NUMERIC or key == "health" else key, table_page=1)
    return None


def _render(backend: Backend, config: UiConfig, topo: dict[str, Any], memory: Any = None) -> tuple[Any, ...]:
    state = from_dict(topo)
    if state.snapshot:  # a saved snapshot: its stored topology, the same after Prometheus forgot the window
        answer, notes = review.snapshot_answer(backend, state.snapshot)
    else:
        answer, notes = backend.topology(graph=state.graph, namespaces=state.namespaces, window=state.window,
                                         at=state.at), []  # fmt: skip
    messages = notes + banner(answer.data, answer.error, now=config.clock(), at=state.at)
    if not answer.ok and not (answer.status and 400 <= answer.status < 500):
        # the API is down or slow: keep what is on screen, say so
        return no_update, no_update, messages, no_update, no_update, no_update, no_update
    # a replay lays out every node and edge it has seen so far, so nodes stay put while the numbers change
    key = review.replay_key(state)
    memory = remember(memory, key, answer.data) if key and answer.data else None
    view = topology_view(answer.data, state, config.thresholds, remembered_positions(memory) if memory else None)
    table = edge_table(view.rows, sort_key=state.sort_key, descending=state.sort_descending, total=view.total_edges,
                       page=state.table_page)  # fmt: skip
    options = [{"label": ns, "value": ns} for ns in view.namespaces]
    tiles = tile_grid(view.tiles, as_of=(answer.data or {}).get("as_of"), window=state.window,
                      refresh_s=state.refresh_s) if state.kiosk else []  # fmt: skip
    elements = view.elements
    if not state.snapshot and not state.at and (boxed := boxed_namespaces(elements)):
        # the PeerAuthentication modes in force now: not shown on a snapshot or a past instant
        elements = label_namespaces(elements, backend.mesh_security(boxed).data)
    return elements, table, messages, view.filter_error, options, tiles, memory


def register(app: Dash, backend: Backend, config: UiConfig) -> None:
    @app.callback(
        Output("graph", "elements"), Output("edge-table", "children"), Output("banner", "children"),
        Output("filter-error", "children"), Output("ctl-namespaces", "options", allow_duplicate=True),
        Output("kiosk-tiles", "children"), Output("replay-layout", "data"),
        Input("topology-state", "data"), Input("tick", "n_intervals"), State("replay-layout", "data"),
        prevent_initial_call=True,  # the stores start empty: nothing to show before the URL is read
    )  # fmt: skip
    def render(topo: dict[str, Any] | None, _tick: int | None, memory: Any) -> tuple[Any, ...]:
        if not topo or topo.get("page") != "topology":
            raise PreventUpdate
        return _render(backend, config, topo, memory)

    @app.callback(
        Output("url", "search", allow_duplicate=True),
        Input("graph", "tapEdge"), Input("graph", "tapNode"), Input("panel-close", "n_clicks"),
        Input({"type": ROW_BUTTON, "edge": ALL}, "n_clicks"), Input({"type": SORT_BUTTON, "key": ALL}, "n_clicks"),
        Input({"type": PAGE_BUTTON, "to": ALL}, "n_clicks"),
        State("view-state", "data"),
        prevent_initial_call=True,
    )  # fmt: skip
    def on_click(*args: Any) -> str:
        triggered = ctx.triggered[0] if ctx.triggered else {}
        state = from_dict(args[-1])
        new = click_state(state, triggered.get("prop_id", ""), ctx.triggered_id, triggered.get("value"))
        if new is None or new == state:
            raise PreventUpdate
        return to_query(new)
