"""The circuit-breaker edit section of the side panel: a static frame (mounted once), filled by pages.edits.

Every write control has a pattern-matching id, so callbacks listen for them whether or not they are rendered
(a viewer's page has none at all). The preview shows the resulting object as YAML and the API's unified diff.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from dash import dcc, html

from dashboards.components.a11y import aria
from dashboards.figures.circuit_breaker import FIELDS, PRESETS, HistoryRow, Target

FIELD = "cb-field"  # {"type": FIELD, "name": <Istio field name>}
PRESET = "cb-preset"  # {"type": PRESET, "id": "preset"}
REASON = "cb-reason"  # {"type": REASON, "id": "reason"}
ACTION = "cb-action"  # {"type": ACTION, "action": "preview" | "apply"}
REVERT = "cb-revert"  # {"type": REVERT, "id": <audit id>}
_LINE_CLASSES = {"+": "diff-add", "-": "diff-del", "@": "diff-hunk"}


def edit_section() -> html.Section:
    return html.Section([html.H3(id="edit-title"), html.Div(id="edit-form"),
                         html.Div(id="edit-result", **aria(live="polite")), html.Div(id="edit-history")],
                        id="panel-edit", className="panel-edit")  # fmt: skip


def _input(name: str, label: str, kind: str, limits: tuple[int, int] | None, value: Any) -> html.Label:
    if kind == "duration":
        control = dcc.Input(id={"type": FIELD, "name": name}, type="text", value=value, placeholder="e.g. 5s",
                            maxLength=20, debounce=True, className="cb-input")  # fmt: skip
    else:
        low, high = limits or (0, 0)
        control = dcc.Input(id={"type": FIELD, "name": name}, type="number", value=value, min=low, max=high, step=1,
                            debounce=True, className="cb-input")  # fmt: skip
    return html.Label([html.Span(label, title=name), control], className="cb-field")


def form(target: Target, values: Mapping[str, Any]) -> list[Any]:
    """The write controls: preset, fields, reason, preview and apply."""
    presets = [{"label": p, "value": p} for p in PRESETS]
    return [
        html.Label([html.Span("Preset"), dcc.Dropdown(id={"type": PRESET, "id": "preset"}, options=presets,
                                                      placeholder="custom values", clearable=True)],
                   className="cb-field cb-preset"),
        html.Div([_input(f.name, f.label, f.kind, f.limits, values.get(f.name)) for f in FIELDS], className="cb-grid"),
        html.Label([html.Span("Reason (required to apply)"),
                    dcc.Input(id={"type": REASON, "id": "reason"}, type="text", maxLength=500,
                              placeholder="why this change", className="cb-reason")], className="cb-field"),
        html.Div([html.Button("Preview (dry run)", id={"type": ACTION, "action": "preview"}, className="btn"),
                  html.Button(f"Apply to {target.host}", id={"type": ACTION, "action": "apply"},
                              className="btn primary")], className="cb-buttons"),
    ]  # fmt: skip


def result(answer: Mapping[str, Any] | None, error: str | None, *, applied_note: str = "") -> list[Any]:
    """A preview or an applied edit: the diff, then the object as YAML; or the API's refusal."""
    if error:
        return [html.P(error, className="cb-error", role="alert")]
    data = answer or {}
    body: list[Any] = []
    if applied_note:
        body.append(html.P(applied_note, className="cb-ok"))
    body.append(html.H4("Diff"))
    body.append(html.Pre([html.Span(line + "\n", className=_LINE_CLASSES.get(line[:1], ""))
                          for line in str(data.get("diff") or "(no change)").splitlines()], className="cb-diff"))
    if data.get("object") is not None:
        text = yaml.safe_dump(data["object"], sort_keys=False, default_flow_style=False)
        body.append(html.Details([html.Summary("Resulting object (YAML)"), html.Pre(text, className="cb-yaml")],
                                 open=not applied_note))  # fmt: skip
    return body


def history(rows: list[HistoryRow], *, can_revert: bool, note: str = "") -> list[Any]:
    head = html.Tr([html.Th(t, scope="col") for t in ("#", "when", "who", "change", "result", "reason", "")])
    items = [
        html.Tr([html.Td(str(r.id)), html.Td(r.when), html.Td(r.who), html.Td(r.action), html.Td(r.result),
                 html.Td(r.reason),
                 html.Td(html.Button("revert", id={"type": REVERT, "id": r.id}, className="btn small",
                                     title=f"write back the rule as it was before #{r.id}")
                         if can_revert and r.revertible else "")])
        for r in rows
    ]  # fmt: skip
    table = html.Table([html.Thead(head), html.Tbody(items)], className="cb-history") if items else \
        html.P(note or "No edits of this rule yet.")  # fmt: skip
    return [html.H4("History"), table]
