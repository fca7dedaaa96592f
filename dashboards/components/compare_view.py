"""The compare page's HTML parts: controls, the strategy line, the verdict chip, the stable | canary columns, the
downstream calls, the weight form and the other strategies' forms (blue-green, mirror, request match; rendered
only for a caller who may write; pattern-matching ids, like the edit form; each field has an error slot beside
it, filled with the API's message when a refusal names that field)."""

from __future__ import annotations

from typing import Any, Literal

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
STRATEGY_FIELD = "st-field"  # {"type": STRATEGY_FIELD, "name": "<strategy>.<request field>"}, e.g. "mirror.version"
STRATEGY_ERROR = "st-error"  # {"type": STRATEGY_ERROR, "name": <the same name>}: the API's message for that field
STRATEGY_ACTION = "st-action"  # {"type": STRATEGY_ACTION, "strategy": "blue-green" | "mirror" | "match",
#                                 "action": "preview" | "apply"}
MATCH_KINDS = ("header", "cookie")
MATCH_OPS = ("exact", "prefix", "regex")
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


def _options(values: tuple[str, ...] | list[str]) -> list[dict[str, str]]:
    return [{"label": v, "value": v} for v in values]


def _field(label: str, name: str, control: Any) -> html.Label:
    error = html.Span(id={"type": STRATEGY_ERROR, "name": name}, className="st-error", role="alert")
    return html.Label([html.Span(label), control, error], className="cb-field st-field")


def _choice(label: str, name: str, values: tuple[str, ...] | list[str], value: str) -> html.Label:
    dropdown = dcc.Dropdown(id={"type": STRATEGY_FIELD, "name": name}, options=_options(values), value=value,
                            clearable=False)  # fmt: skip
    return _field(label, name, dropdown)


def _text(label: str, name: str, placeholder: str, value: Any = None,
          kind: Literal["text", "number"] = "text") -> html.Label:
    extra: dict[str, Any] = {"min": 0, "max": 100, "step": 1} if kind == "number" else {"maxLength": 500}
    box = dcc.Input(id={"type": STRATEGY_FIELD, "name": name}, type=kind, value=value, placeholder=placeholder,
                    **extra)  # fmt: skip
    return _field(label, name, box)


def _buttons(strategy: str, apply_text: str) -> html.Div:
    return html.Div([html.Button("Preview (dry run)", id={"type": STRATEGY_ACTION, "strategy": strategy,
                                                          "action": "preview"}, className="btn"),
                     html.Button(apply_text, id={"type": STRATEGY_ACTION, "strategy": strategy, "action": "apply"},
                                 className="btn primary")], className="cb-buttons")  # fmt: skip


def strategy_forms(baseline: str, canary: str, versions: list[str]) -> list[Any]:
    """Blue-green, mirror and request-match forms; the reason field is the weight form's (one per page)."""
    versions = versions or [baseline, canary]
    return [html.Div([
        html.Fieldset([html.Legend("Blue-green: all traffic to one version (the other is kept for switch-back)"),
                       _choice("Switch to", "blue-green.version", versions, canary),
                       _buttons("blue-green", "Switch")], className="st-form", id="st-blue-green"),
        html.Fieldset([html.Legend("Mirror: copy a share of live requests to a version (its responses dropped)"),
                       _choice("Mirror to", "mirror.version", versions, canary),
                       _text("Percent (0 turns mirroring off)", "mirror.mirror_percent", "10", 10, "number"),
                       _buttons("mirror", "Apply mirror")], className="st-form", id="st-mirror"),
        html.Fieldset([html.Legend("Request match: matching requests to one version, the rest by the weights"),
                       _choice("Match on", "match.kind", MATCH_KINDS, "header"),
                       _text("Name", "match.name", "end-user"),
                       _choice("Operator", "match.op", MATCH_OPS, "exact"),
                       _text("Value", "match.value", "jason"),
                       _choice("Route to", "match.version", versions, canary),
                       _buttons("match", "Apply match")], className="st-form", id="st-match"),
    ], className="st-forms")]  # fmt: skip


def strategy(lines: list[str]) -> list[Any]:
    """The release strategy and the mirror mode, above the verdict (text, so a screen reader says it too)."""
    return [html.Div([html.P(line) for line in lines], className="cmp-strategy", id="cmp-strategy")] if lines else []
