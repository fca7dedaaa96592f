"""The side panel callback: the clicked edge's (or node's) time series over the window, now-numbers and traces.

Three API calls per refresh: the topology (cached by the client, the graph just asked for it), the series, and
a few exemplar traces. A failing call blanks only its own part, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go
from dash import Dash, Input, Output, html, no_update
from dash.exceptions import PreventUpdate

from dashboards.backend import Answer, Backend
from dashboards.components.side_panel import CHARTS, edge_summary, node_summary, trace_links
from dashboards.config import UiConfig
from dashboards.figures import format as fmt
from dashboards.figures import series as charts
from dashboards.figures.annotations import add_annotations, marks
from dashboards.figures.elements import node_healths
from dashboards.figures.replay import instant_seconds, window_seconds
from dashboards.health import Health
from dashboards.pages import review
from dashboards.state import ViewState, from_dict, split_edge, traces_href

# about 60 points per chart, never finer than the Prometheus scrape cadence can support
STEPS = {"1m": "5s", "2m": "5s", "5m": "10s", "10m": "15s", "30m": "30s", "1h": "1m", "3h": "3m", "6h": "6m",
         "12h": "12m", "1d": "30m"}  # fmt: skip
EXEMPLARS = 5


def _figures(answer: Answer, config: UiConfig, backend: Backend, state: ViewState) -> list[go.Figure]:
    data = answer.data or {}
    figures = [charts.rps_figure(data), charts.success_figure(data, config.thresholds), charts.latency_figure(data),
               charts.responses_figure(data), charts.flags_figure(data)]  # fmt: skip
    # edits and snapshots of the window, on every chart (an API without annotations: none)
    end = instant_seconds(state.at) or config.clock()
    start = end - window_seconds(state.window)
    found = marks(backend.annotations(start=start, end=end).data, start, end)
    return [add_annotations(figure, found) for figure in figures]


def _exemplars(answer: Answer, edge: Mapping[str, Any] | None) -> tuple[list[str], str]:
    """Trace ids from the edge's own exemplars and from a trace search; a note when there are none."""
    ids: list[str] = []
    trace = (edge or {}).get("trace")
    if isinstance(trace, Mapping):
        ids += [str(t) for t in trace.get("exemplars") or []]
    ids += [str(t["trace_id"]) for t in (answer.data or {}).get("traces", []) if t.get("trace_id")]
    note = ""
    if answer.status == 404:
        note = "This observe API does not serve traces (GET /api/v1/traces answered 404)."
    elif answer.error:
        note = f"Traces unavailable: {answer.error}"
    return list(dict.fromkeys(ids))[:EXEMPLARS], note


def _name(nodes: Mapping[str, Mapping[str, Any]], node_id: str) -> str:
    node = nodes.get(node_id)
    return fmt.node_name(node) if node else node_id


def _edge_panel(backend: Backend, config: UiConfig, state: ViewState, topology: Mapping[str, Any]) -> list[Any]:
    source, target = split_edge(state.edge) or ("", "")
    nodes = {n["id"]: n for n in topology.get("nodes", [])}
    edge = next((e for e in topology.get("edges", []) if (e["source"], e["target"]) == (source, target)), None)
    stored = review.snapshot_series(backend, state.snapshot, source, target) if state.snapshot else None
    series = stored or backend.edge_series(source=source, target=target, graph=state.graph, window=state.window,
                                           at=state.at, step=STEPS.get(state.window, ""))  # fmt: skip
    traces = backend.traces(edge=(source, target), graph=state.graph, limit=EXEMPLARS, window=state.window,
                            at=state.at)  # fmt: skip
    ids, note = _exemplars(traces, edge)
    if edge is None:
        summary: Any = html.P("This edge has no traffic in the current window.")
    else:
        health = config.thresholds.of_edge(edge)
        summary = edge_summary(edge, health, charts.p99_comparison(edge))
    title = f"{_name(nodes, source)} → {_name(nodes, target)}"
    links = trace_links(ids, traces_href(state, edge=state.edge), lambda t: traces_href(state, trace=t), note)
    return [True, False, title, series.error or "", summary, *_figures(series, config, backend, state), links]


def _node_panel(backend: Backend, config: UiConfig, state: ViewState, topology: Mapping[str, Any]) -> list[Any]:
    node = next((n for n in topology.get("nodes", []) if n["id"] == state.node), None)
    series = backend.node_series(node=state.node, graph=state.graph, window=state.window, at=state.at,
                                 step=STEPS.get(state.window, ""))  # fmt: skip
    service = str((node or {}).get("app") or (node or {}).get("service") or "")
    traces = backend.traces(service=service, limit=EXEMPLARS, window=state.window, at=state.at) if service else None
    ids, note = _exemplars(traces, None) if traces else ([], "")
    health = node_healths(topology.get("edges", []), config.thresholds).get(state.node, Health.NONE)
    summary = node_summary(node, health) if node else html.P("This node has no traffic in the current window.")
    links = trace_links(ids, traces_href(state, service=service), lambda t: traces_href(state, trace=t), note)
    title = f"{fmt.node_name(node) if node else state.node} (inbound)"
    return [True, False, title, series.error or "", summary, *_figures(series, config, backend, state), links]


def register(app: Dash, backend: Backend, config: UiConfig) -> None:
    @app.callback(
        Output("panel-empty", "hidden"), Output("panel-body", "hidden"), Output("panel-title", "children"),
        Output("panel-error", "children"),
        Output("panel-summary", "children"), *[Output(chart, "figure") for chart in CHARTS],
        Output("panel-traces", "children"),
        Input("selection-state", "data"), Input("tick", "n_intervals"),
    )  # fmt: skip
    def panel(selection: dict[str, Any] | None, _tick: int | None) -> list[Any]:
        if not selection or selection.get("page") != "topology":
            raise PreventUpdate
        state = from_dict(selection)
        if not state.edge and not state.node:
            return [False, True, *([no_update] * (len(CHARTS) + 4))]
        if state.snapshot:
            topology = review.snapshot_answer(backend, state.snapshot)[0]
        else:
            topology = backend.topology(graph=state.graph, namespaces=state.namespaces, window=state.window,
                                        at=state.at)  # fmt: skip
        build = _edge_panel if state.edge else _node_panel
        return build(backend, config, state, topology.data or {})
