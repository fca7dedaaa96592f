"""The side panel's circuit-breaker section: the DestinationRule of the selected service (a node, or an edge's
target), its edit form when this caller may write, the dry-run preview, apply with a reason, history, revert.

Writes go through `Backend.send` with the credentials `WriteAccess` gives for the browser's request (never
stored in the page). Every action re-reads the history, so a write shows up at once (a write empties the
client's cache).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from dashboards.backend import Backend
from dashboards.components import edit_form
from dashboards.figures.circuit_breaker import (
    Target,
    edit_body,
    field_error,
    history_rows,
    policy_values,
    preset_values,
    target_of,
)
from dashboards.state import from_dict, split_edge
from dashboards.writes import WriteAccess, edits_enabled

HISTORY_LIMIT = 20


def _rule_path(target: Target) -> str:
    namespace, host = (urllib.parse.quote(part, safe="") for part in (target.namespace, target.host))
    return f"/api/v1/destination-rules/{namespace}/{host}"


def selected_target(topology: Mapping[str, Any], node_id: str, edge: str) -> Target | None:
    """The service an edit applies to: the selected node, or the target node of the selected edge."""
    if edge:
        node_id = (split_edge(edge) or ("", ""))[1]
    node = next((n for n in topology.get("nodes", []) if n.get("id") == node_id), None)
    return target_of(node)


def _history(backend: Backend, target: Target, can_revert: bool) -> list[Any]:
    answer = backend.audit(target=target.audit_target, limit=HISTORY_LIMIT)
    note = f"History unavailable: {answer.error}" if answer.error else ""
    return edit_form.history(history_rows(answer.data), can_revert=can_revert, note=note)


def register(app: Dash, backend: Backend, access: WriteAccess) -> None:
    @app.callback(
        Output("panel-edit", "hidden"), Output("edit-title", "children"), Output("edit-form", "children"),
        Output("edit-result", "children"), Output("edit-history", "children"),
        Input("selection-state", "data"),
    )  # fmt: skip
    def render(selection: dict[str, Any] | None) -> tuple[Any, ...]:
        if not selection or selection.get("page") != "topology":
            raise PreventUpdate
        state = from_dict(selection)
        hidden: tuple[Any, ...] = (True, "", [], [], [])
        if not (state.edge or state.node) or not edits_enabled(backend.capabilities().data):
            return hidden
        topology = backend.topology(graph=state.graph, namespaces=state.namespaces, window=state.window, at=state.at)
        target = selected_target(topology.data or {}, state.node, state.edge)
        if target is None:
            return hidden
        writer = access.may_write(backend.capabilities().data)
        controls: list[Any] = []
        if writer:
            live = backend.get(_rule_path(target), {})
            policy = ((live.data or {}).get("object") or {}).get("spec", {}).get("trafficPolicy")
            controls = edit_form.form(target, policy_values(policy))
        title = f"Circuit breaker: {target.host}.{target.namespace}"
        return False, title, controls, [], _history(backend, target, writer)

    @app.callback(
        Output({"type": edit_form.FIELD, "name": ALL}, "value"),
        Input({"type": edit_form.PRESET, "id": ALL}, "value"),
        prevent_initial_call=True,
    )  # fmt: skip
    def fill_preset(presets: list[str | None]) -> list[Any]:
        if not presets or not presets[0]:
            raise PreventUpdate
        values = preset_values(backend.capabilities().data, presets[0])
        return [values.get(o["id"]["name"]) for o in ctx.outputs_list]

    @app.callback(
        Output("edit-result", "children", allow_duplicate=True),
        Output("edit-history", "children", allow_duplicate=True),
        Input({"type": edit_form.ACTION, "action": ALL}, "n_clicks"),
        Input({"type": edit_form.REVERT, "id": ALL}, "n_clicks"),
        State({"type": edit_form.FIELD, "name": ALL}, "value"), State({"type": edit_form.FIELD, "name": ALL}, "id"),
        State({"type": edit_form.PRESET, "id": ALL}, "value"), State({"type": edit_form.REASON, "id": ALL}, "value"),
        State("selection-state", "data"),
        prevent_initial_call=True,
    )  # fmt: skip
    def act(_actions: list[Any], _reverts: list[Any], values: list[Any], ids: list[dict[str, str]],
            presets: list[str | None], reasons: list[str | None],
            selection: dict[str, Any] | None) -> tuple[Any, Any]:  # fmt: skip
        trigger = ctx.triggered_id
        if not isinstance(trigger, Mapping) or not (ctx.triggered and ctx.triggered[0].get("value")):
            raise PreventUpdate  # a button that just appeared
        state = from_dict(selection)
        headers = access.request_headers()
        topology = backend.topology(graph=state.graph, namespaces=state.namespaces, window=state.window, at=state.at)
        target = selected_target(topology.data or {}, state.node, state.edge)
        if target is None or headers is None:
            raise PreventUpdate
        reason = (reasons[0] if reasons else "") or ""
        if trigger.get("type") == edit_form.REVERT:
            # the API's reason ("revert of audit entry N"): the form's reason belongs to the edit being written
            answer = backend.send("POST", f"/api/v1/audit/{int(trigger['id'])}/revert", {}, headers)
            note = f"Reverted #{trigger['id']} (audit #{(answer.data or {}).get('audit_id')})."
            return edit_form.result(answer.data, answer.error, applied_note=note), _history(backend, target, True)
        by_name = {i["name"]: v for i, v in zip(ids, values, strict=True)}
        errors = [e for name, value in by_name.items() if (e := field_error(name, value))]
        dry_run = trigger.get("action") != "apply"
        if not dry_run and not reason.strip():
            errors.append("reason: required to apply (it goes to the audit log)")
        if errors:
            return edit_form.result(None, "; ".join(errors)), no_update
        body = edit_body(presets[0] if presets else None, by_name, reason=reason, dry_run=dry_run)
        if "preset" not in body and "spec" not in body:
            return edit_form.result(None, "nothing to change: choose a preset or fill a field"), no_update
        answer = backend.send("POST", _rule_path(target), body, headers)
        note = "" if dry_run else f"Applied (audit #{(answer.data or {}).get('audit_id')})."
        history = no_update if dry_run else _history(backend, target, True)
        return edit_form.result(answer.data, answer.error, applied_note=note), history
