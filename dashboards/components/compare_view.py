"""The compare page's HTML parts: controls, the verdict chip, the stable | canary columns, the downstream calls
and the weight form (rendered only for a caller who may write; pattern-matching ids, like the edit form)."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboards.components.a11y import aria
from dashboards.figures.compare import OutboundRow, Verdict
from dashboards.state import WINDOWS

# ids of the controls, by the view-state field each one sets
CONTROL_IDS = {"namespaces": "cmp-namespace", "service": "cmp-service", "baseline": "cmp-baseline",
               "canary": "cmp-canary", "window": "cmp-window"}  # fmt: skip
CHARTS = ("cmp-rps", "cmp-success", "cmp-diff", "cmp-latency")
WEIGHT = "wt-weight"  # {"type": WEIGHT, "id": "canary"}: the canary's weight, %
WEIGHT_REASON = "wt-reason"
WEIGHT_ACTION = "wt-action"  # {"type": WEIGHT_ACTION, "action": "preview" | "apply" | "take-over" | "roll-back"}
_GRAPH_CONFIG: Any = {"displayModeBar": False, "responsive": True}


def _control(label: str, control_id: str, placeholder: str, options: list[dict[str, str]] | None = None) -> html.Div:
    dropdown = dcc.Dropdown(id=control_id, options=options or [], placeholder=placeholder, clearable=False)
    return html.Div([html.Label(label, htmlFor=control_id), dropdown], className="control")


def controls() -> html.Div:
    windows = [{"label": f"last {w}", "value": w} for w in WINDOWS]
    return html.Div([_control("Namespace", "cmp-namespace", "namespace"), _control("Service", "cmp-service", "service"),
                     _control("Stable (baseline)", "cmp-baseline", "version"),
                     _control("Canary", "cmp-canary", "version"), _control("Window", "cmp-window", "window", windows)],
                    className="controls", id="cmp-controls")  # fmt: skip


def layout() -> html.Div:
    charts = [dcc.Graph(id=chart, config=_GRAPH_CONFIG, className="cmp-chart") for chart in CHARTS]
    return html.Div(
        [
            html.H1("Canary vs stable"),
            controls(),
            html.Div(id="cmp-error", className="banners", **aria(live="polite")),
            html.Div(id="cmp-verdict", className="cmp-verdict", **aria(live="polite")),
            html.Div([html.Div(id="cmp-columns", className="cmp-columns"),
                      html.Div([html.H2("Downstream calls of the canary"), html.Div(id="cmp-outbound")],
                               className="cmp-outbound")], className="cmp-row"),
            html.Div(charts, className="cmp-charts"),
            html.Section([html.H2("Traffic weights"), html.Div(id="cmp-weights"),
                          html.Div(id="cmp-weight-result", **aria(live="polite"))],
                         id="cmp-weights-box", hidden=True),
            dcc.Interval(id="cmp-tick", interval=15_000, disabled=True),
            dcc.Store(id="cmp-state"),
        ],
        id="page-compare", hidden=True,
    )  # fmt: skip


def verdict_chip(verdict: Verdict, metric_verdicts: list[tuple[str, str]]) -> list[Any]:
    chips = [html.Span(f"{name}: {v}", className=f"chip {v.lower()}") for name, v in metric_verdicts]
    return [
        html.Div([html.Span(verdict.verdict, className=f"verdict-chip {verdict.css}", id="cmp-verdict-chip"),
                  *chips], className="verdict-line"),
        html.P(verdict.reason, className="verdict-reason", id="cmp-reason"),
        html.Ul([html.Li(d) for d in verdict.details], className="verdict-details") if verdict.details else "",
    ]  # fmt: skip


def columns_table(rows: list[tuple[str, str, str]]) -> html.Table:
    head = html.Tr([html.Th("", scope="col"), html.Th("stable", scope="col"), html.Th("canary", scope="col")])
    body = [html.Tr([html.Th(name, scope="row"), html.Td(a), html.Td(b)]) for name, a, b in rows]
    return html.Table([html.Thead(head), html.Tbody(body)], className="cmp-table", id="cmp-table")


def outbound_table(rows: list[OutboundRow]) -> Any:
    if not rows:
        return html.P("No downstream calls from either version in this window.")
    head = html.Tr([html.Th(t, scope="col") for t in ("service", "change", "stable", "canary", "canary errors")])
    body = [html.Tr([html.Td(r.service), html.Td(r.change), html.Td(r.stable), html.Td(r.canary),
                     html.Td(r.canary_errors)], className=f"outbound {r.css}") for r in rows]  # fmt: skip
    return html.Table([html.Thead(head), html.Tbody(body)], className="cmp-table")


def weight_form(baseline: str, canary: str, canary_weight: int) -> list[Any]:
    """The weight controls: a slider for the canary's share, preview / apply, take-over and roll-back."""
    buttons = [("preview", "Preview (dry run)", "btn"), ("apply", "Apply weights", "btn primary"),
               ("take-over", f"Take over: 100% {canary}", "btn"), ("roll-back", f"Roll back: 100% {baseline}", "btn")]
    return [
        html.Label([html.Span(f"{canary} weight (%); {baseline} gets the rest"),
                    dcc.Slider(id={"type": WEIGHT, "id": "canary"}, min=0, max=100, step=5, value=canary_weight,
                               marks={v: f"{v}" for v in range(0, 101, 25)}, tooltip={"placement": "bottom"})],
                   className="wt-slider"),
        html.Label([html.Span("Reason (required to apply)"),
                    dcc.Input(id={"type": WEIGHT_REASON, "id": "reason"}, type="text", maxLength=500,
                              placeholder="why this change", className="cb-reason")], className="cb-field"),
        html.Div([html.Button(text, id={"type": WEIGHT_ACTION, "action": action}, className=css)
                  for action, text, css in buttons], className="cb-buttons"),
    ]  # fmt: skip
