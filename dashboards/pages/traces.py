"""The traces page: search (service, edge, minimum duration, errors only, window), a result list, and the
waterfall of the opened trace with the details of a clicked span. The opened trace is in the URL (`trace=`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import plotly.graph_objects as go
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboards.backend import Answer, Backend
from dashboards.figures import format as fmt
from dashboards.figures.waterfall import find_span, span_details, waterfall_figure
from dashboards.health import Health
from dashboards.state import WINDOWS, from_dict, split_edge, to_query, with_changes

OPEN_BUTTON = "open-trace"
SEARCH_LIMIT = 50
NOT_SERVED = "This observe API does not serve traces yet (GET /api/v1/traces answered 404)."


def _field(label: str, control_id: str, control: Any) -> html.Div:
    return html.Div([html.Label(label, htmlFor=control_id), control], className="control")


def layout() -> html.Div:
    controls = html.Div([
        _field("Service", "tr-service", dcc.Dropdown(id="tr-service", options=[], placeholder="any service")),
        _field("Edge", "tr-edge", dcc.Input(id="tr-edge", type="text", debounce=True, spellCheck=False,
                                            placeholder="source node id->target node id", maxLength=500)),
        _field("Min duration", "tr-min-duration", dcc.Input(id="tr-min-duration", type="text", debounce=True,
                                                            placeholder="e.g. 100ms", maxLength=20)),
        _field("Window", "tr-window", dcc.Dropdown(id="tr-window", clearable=False,
                                                   options=[{"label": f"last {w}", "value": w} for w in WINDOWS])),
        html.Div(dcc.Checklist(id="tr-errors", options=[{"label": " errors only", "value": "errors"}]),
                 className="control checkbox"),
    ], className="controls")  # fmt: skip
    trace = html.Section(
        [html.H2(id="trace-title"), dcc.Graph(id="waterfall", config={"displayModeBar": False}),
         html.H3("Span"), html.Div(id="span-details")],
        id="trace-section", hidden=True,
    )  # fmt: skip
    results = html.Section([html.H2("Results"), html.Div(id="traces-status", role="status"),
                            html.Div(id="traces-results")])  # fmt: skip
    return html.Div([html.H1("Traces"), controls, results, trace], id="page-traces", hidden=True)


def _when(start_s: Any) -> str:
    try:
        return datetime.fromtimestamp(float(start_s), tz=UTC).strftime("%H:%M:%S.%f")[:-3]
    except (TypeError, ValueError, OverflowError):
        return "–"


def _status(error: bool) -> html.Td:
    health = Health.FAILING if error else Health.HEALTHY
    return html.Td("✖ error" if error else "✔ ok", className=f"status st-{health.value}")


def results_table(traces: list[Mapping[str, Any]], opened: str) -> html.Table:
    head = html.Thead(html.Tr([html.Th(t, scope="col") for t in
                               ("Start (UTC)", "Root", "Duration", "Spans", "Services", "Status", "")]))  # fmt: skip
    rows = []
    for trace in traces:
        trace_id = str(trace.get("trace_id", ""))
        root = f"{trace.get('root_service', '?')} · {trace.get('root_operation', '')}"
        button = html.Button("open", id={"type": OPEN_BUTTON, "trace": trace_id}, className="link",
                             title=f"open trace {trace_id}")  # fmt: skip
        rows.append(html.Tr([
            html.Td(_when(trace.get("start_s"))), html.Td(root), html.Td(fmt.millis(trace.get("duration_ms")),
            className="num"), html.Td(str(trace.get("span_count", "–")), className="num"),
            html.Td(", ".join(str(s) for s in trace.get("services") or [])), _status(bool(trace.get("error"))),
            html.Td(button),
        ], className="selected" if trace_id == opened else None))  # fmt: skip
    return html.Table([head, html.Tbody(rows)], className="trace-table")


def _search_message(answer: Answer, count: int) -> str:
    if answer.status == 404:
        return NOT_SERVED
    if answer.error:
        return f"✖ Cannot search traces: {answer.error}"
    missing = (answer.data or {}).get("missing") or []
    gaps = "; ".join(f"{m.get('source')} ({m.get('error')})" for m in missing if isinstance(m, Mapping))
    found = f"{count} traces" if count else "No trace matches this search in the window."
    return f"{found}{' — missing sources: ' + gaps if gaps else ''}"


def _service_options(backend: Backend, window: str, at: str, current: str) -> list[dict[str, str]]:
    answer = backend.topology(graph="app", window=window, at=at)
    names = {str(n.get("app")) for n in (answer.data or {}).get("nodes", []) if n.get("kind") == "app" and n.get("app")}
    return [{"label": n, "value": n} for n in sorted(names | ({current} if current else set()))]


def _trace_view(answer: Answer, span_id: str | None) -> tuple[str, go.Figure, list[Any]]:
    if not answer.ok:
        reason = "no such trace in the store" if answer.status == 404 else answer.error
        return f"Trace not available: {reason}", go.Figure(), []
    trace = answer.data or {}
    spans = trace.get("spans") or []
    title = f"Trace {trace.get('trace_id', '')} · {len(spans)} spans"
    found = find_span(trace, span_id)
    details = [] if found is None else span_details(*found)
    table = html.Table(html.Tbody([html.Tr([html.Th(k, scope="row"), html.Td(v)]) for k, v in details]),
                       className="pairs")  # fmt: skip
    return title, waterfall_figure(trace), [table]


def register(app: Dash, backend: Backend) -> None:
    @app.callback(
        Output("traces-results", "children"), Output("traces-status", "children"),
        Output("tr-service", "options", allow_duplicate=True),
        Input("traces-state", "data"),
        prevent_initial_call=True,
    )  # fmt: skip
    def search(data: dict[str, Any] | None) -> tuple[Any, ...]:
        if not data or data.get("page") != "traces":
            raise PreventUpdate
        state = from_dict(data)
        answer = backend.traces(service=state.service, edge=split_edge(state.edge), graph=state.graph,
                                min_duration=state.min_duration, errors=state.errors, limit=SEARCH_LIMIT,
                                window=state.window, at=state.at)  # fmt: skip
        traces = (answer.data or {}).get("traces") or []
        options = _service_options(backend, state.window, state.at, state.service)
        return results_table(traces, state.trace) if traces else [], _search_message(answer, len(traces)), options

    @app.callback(
        Output("trace-section", "hidden"), Output("trace-title", "children"), Output("waterfall", "figure"),
        Output("span-details", "children"),
        Input("traces-state", "data"), Input("waterfall", "clickData"),
    )  # fmt: skip
    def show(data: dict[str, Any] | None, click: dict[str, Any] | None) -> tuple[Any, ...]:
        if not data or data.get("page") != "traces" or not data.get("trace"):
            return True, no_update, no_update, no_update
        clicked = ctx.triggered_id == "waterfall" and click and click.get("points")
        span_id = str(click["points"][0].get("customdata")) if clicked and click else None
        title, figure, details = _trace_view(backend.trace(str(data["trace"])), span_id)
        return False, title, no_update if clicked else figure, details

    _register_open(app)


def _register_open(app: Dash) -> None:
    @app.callback(
        Output("url", "search", allow_duplicate=True),
        Input({"type": OPEN_BUTTON, "trace": ALL}, "n_clicks"), State("view-state", "data"),
        prevent_initial_call=True,
    )  # fmt: skip
    def open_trace(_clicks: list[int | None], view: dict[str, Any] | None) -> str:
        trigger = ctx.triggered_id
        if not ctx.triggered or not ctx.triggered[0].get("value") or not isinstance(trigger, Mapping):
            raise PreventUpdate
        return to_query(with_changes(from_dict(view), trace=str(trigger["trace"])))
