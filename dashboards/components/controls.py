"""The topology page's control bar. Values are set from the URL by the shell's sync callback."""

from __future__ import annotations

from dash import dcc, html
from dash.development.base_component import Component

from dashboards.components.a11y import aria
from dashboards.filters import FIELDS
from dashboards.state import GRAPHS, LABELS, REFRESHES, WINDOWS

GRAPH_NAMES = {"versioned-app": "Versioned app", "app": "App", "service": "Service", "workload": "Workload"}
LABEL_NAMES = {"rps": "RPS", "success": "Success %", "p99": "P99", "none": "None"}
FILTER_HELP = (
    "Show only matching edges. Numbers: rps, success, errors (%), p50/p95/p99/trace_p99 (ms). "
    "Text: app, version, namespace, workload, node, source, target, protocol, health. Sets: flags, code. "
    "Operators: = != > >= < <= ^= $= *=; combine with and, or, not, ( ). Example: success<99 or flags=UO"
)

# ids of the controls, by the view-state field each one sets
CONTROL_IDS = {
    "namespaces": "ctl-namespaces",
    "graph": "ctl-graph",
    "window": "ctl-window",
    "refresh": "ctl-refresh",
    "label": "ctl-label",
    "filter": "ctl-filter",
}


def _field(label: str, control_id: str, control: Component, class_name: str = "control") -> html.Div:
    return html.Div([html.Label(label, htmlFor=control_id), control], className=class_name)


def topology_controls() -> html.Div:
    return html.Div(
        [
            _field("Namespaces", "ctl-namespaces", dcc.Dropdown(
                id="ctl-namespaces", multi=True, placeholder="all namespaces", options=[]), "control wide"),
            _field("Graph", "ctl-graph", dcc.Dropdown(
                id="ctl-graph", clearable=False, options=[{"label": GRAPH_NAMES[g], "value": g} for g in GRAPHS])),
            _field("Window", "ctl-window", dcc.Dropdown(
                id="ctl-window", clearable=False, options=[{"label": f"last {w}", "value": w} for w in WINDOWS])),
            _field("Refresh", "ctl-refresh", dcc.Dropdown(
                id="ctl-refresh", clearable=False, options=[{"label": r, "value": r} for r in REFRESHES])),
            _field("Edge labels", "ctl-label", dcc.RadioItems(
                id="ctl-label", inline=True, options=[{"label": LABEL_NAMES[v], "value": v} for v in LABELS])),
            html.Div(
                [
                    html.Label("Find / hide", htmlFor="ctl-filter"),
                    dcc.Input(id="ctl-filter", type="text", debounce=True, placeholder="e.g. success<99 or flags=UO",
                              spellCheck=False, autoComplete="off", maxLength=500),
                    html.Details([html.Summary("syntax"), html.P(FILTER_HELP), html.P(f"Fields: {', '.join(FIELDS)}")],
                                 className="filter-help"),
                    html.Div(id="filter-error", className="filter-error", role="alert", **aria(live="polite")),
                ],
                className="control filter",
            ),
        ],
        id="controls",
        className="controls",
    )  # fmt: skip
