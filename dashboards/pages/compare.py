"""The compare page (`/compare`): canary vs stable of one service, from /api/v1/compare and both versions'
/api/v1/nodes/series (node ids `namespace/app/version` of the versioned-app graph).

URL keys: `namespace` (the first is used), `service`, `baseline`, `canary`, `window`, `at`. `compare_sync` (pure)
keeps the URL and the controls in step, as the shell does for the topology; choosing another namespace or
service clears what depended on it. The weight form and the strategy forms (blue-green, mirror, request match)
are rendered only when the API takes writes and this UI holds credentials for the caller (see
dashboards.writes); a refusal that names a field (422 `error.field`) is shown beside that field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from dashboards.backend import Backend
from dashboards.components import compare_view as view
from dashboards.components import edit_form
from dashboards.figures import compare as figures
from dashboards.figures.annotations import Mark, add_annotations, marks
from dashboards.pages.panel import STEPS
from dashboards.pages.shell import page_of
from dashboards.state import ViewState, normalise, parse_query, to_query
from dashboards.writes import WriteAccess

# a field's change clears the fields chosen within it
CLEARS = {"namespaces": ("service", "baseline", "canary"), "service": ("baseline", "canary")}


def _field_of(control_id: str) -> str | None:
    return next((f for f, i in view.CONTROL_IDS.items() if i == control_id), None)


def part(state: ViewState, page: str) -> dict[str, Any]:
    return {"page": page, "namespace": state.namespaces[0] if state.namespaces else "", "service": state.service,
            "baseline": state.baseline, "canary": state.canary, "window": state.window, "at": state.at}  # fmt: skip


def compare_sync(pathname: str | None, search: str | None, controls: Mapping[str, Any],
                 trigger: str | None) -> dict[str, Any]:  # fmt: skip
    """Outputs for a trigger ('url', a control id or None): the URL, the controls, their options, the store."""
    page = page_of(pathname)
    state = parse_query(search)
    new_search: Any = no_update
    field = _field_of(trigger or "")
    if field is not None:
        raw = controls.get(trigger or "") or ""
        values: dict[str, Any] = {field: ((raw,) if raw else ()) if field == "namespaces" else raw}
        if values[field] != getattr(state, field):
            values.update(dict.fromkeys(CLEARS.get(field, ()), ""))
        changed = normalise(replace(state, **values))
        if changed == state:
            return {}  # nothing changed: nothing to do
        state, new_search = changed, to_query(changed)
    data = part(state, page)
    shown = {f: data["namespace" if f == "namespaces" else f] or None for f in view.CONTROL_IDS}
    # options holding the values being set (Dash drops a value missing from its options); `choices` fills them
    options = {f: [{"label": v, "value": v}] if v else [] for f, v in shown.items() if f != "window"}
    return {"search": new_search, "hidden": page != "compare", "controls": shown, "options": options,
            "store": data, "tick_disabled": page != "compare" or bool(state.at)}  # fmt: skip


def _marks(backend: Backend, start: float, end: float) -> list[Mark]:
    answer = backend.annotations(start=start, end=end)
    if answer.status == 404:  # an API without annotations: the audit log has the same moments
        return marks(figures.audit_as_annotations(backend.audit(limit=100).data), start, end)
    return marks(answer.data, start, end)


def render(backend: Backend, data: Mapping[str, Any]) -> list[Any]:
    """error, verdict, columns, outbound, the four figures. An incomplete choice blanks the page; a failing API
    keeps what is on screen and says why."""
    blank: list[Any] = [[], [], [], *[{} for _ in view.CHARTS]]
    ns, svc, base, can = (str(data.get(k) or "") for k in ("namespace", "service", "baseline", "canary"))
    if not (ns and svc and base and can):
        return [html.P("Choose a namespace, a service and two of its versions.", className="banner info"), *blank]
    if base == can:
        return [html.P("Choose two different versions.", className="banner info"), *blank]
    window, at = str(data.get("window") or ""), str(data.get("at") or "")
    answer = backend.compare(namespace=ns, service=svc, baseline=base, canary=can, window=window, at=at)
    if not answer.ok:
        return [html.P(answer.error, className="banner error"), *[no_update] * len(blank)]
    compared = answer.data or {}
    as_of = compared.get("as_of")
    same_end = at or (f"{float(as_of):.0f}" if isinstance(as_of, int | float) else "")  # one end: the same steps
    series = [backend.node_series(node=f"{ns}/{svc}/{v}", graph="versioned-app", window=window, at=same_end,
                                  step=STEPS.get(window, "")) for v in (base, can)]  # fmt: skip
    stable, canary = (s.data or {} for s in series)
    start, end = float(canary.get("start") or compared.get("as_of") or 0), float(canary.get("end") or 0)
    found = _marks(backend, start, end) if end else []
    names = (base, can)
    charts = [
        figures.versions_figure(stable, canary, names, "rps", "Requests per second", "rps"),
        figures.versions_figure(stable, canary, names, "success_rate", "Success rate", "%", 100),
        figures.difference_figure(figures.difference_band(stable, canary)),
    ]
    charts = [add_annotations(c, found) for c in charts]
    errors = [html.P(s.error, className="banner warn") for s in series if s.error]
    verdict = [*view.strategy(figures.strategy_lines(compared)),
               *view.verdict_chip(figures.verdict_of(compared), figures.metric_verdicts(compared))]
    return [errors, verdict, view.columns_table(figures.column_rows(compared)),
            view.outbound_table(figures.outbound_rows(compared)), *charts, figures.latency_distribution(compared)]


def canary_weight(versions: Mapping[str, Any] | None, canary: str) -> int:
    """The slider's start: the canary's configured weight, else its observed share, to the slider's 5 % step."""
    for item in (versions or {}).get("versions") or []:
        if item.get("version") == canary:
            weight = item.get("configured_weight")
            value = float(weight) if weight is not None else float(item.get("share") or 0) * 100
            return int(round(value / 5) * 5)
    return 0


def traffic_body(action: str, data: Mapping[str, Any], weight: int, reason: str,
                 versions: list[str]) -> dict[str, Any]:  # fmt: skip
    """`POST /api/v1/traffic/{namespace}/{service}` for a button of the weight form."""
    base, can = str(data["baseline"]), str(data["canary"])
    body: dict[str, Any] = {"dry_run": action == "preview", "versions": versions or [base, can]}
    if action in ("preview", "apply"):
        body.update(strategy="weights", weights={base: 100 - weight, can: weight})
    elif action == "take-over":
        body.update(strategy="take-over", version=can)
    else:
        body.update(strategy="roll-back", version=base)
    if reason.strip():
        body["reason"] = reason.strip()
    return body


def strategy_body(strategy: str, action: str, values: Mapping[str, Any], reason: str,
                  versions: list[str]) -> dict[str, Any]:  # fmt: skip
    """`POST /api/v1/traffic/...` for a strategy form; `values` by field name ("mirror.version", "match.op"…).
    Empty fields are left out: the API names a missing one, and the page shows that beside the field."""
    own = {name.split(".", 1)[1]: value for name, value in values.items()
           if name.startswith(strategy + ".") and value not in (None, "")}  # fmt: skip
    body: dict[str, Any] = {"strategy": strategy, "dry_run": action == "preview", "versions": versions}
    if "version" in own:
        body["version"] = str(own.pop("version"))
    if strategy == "mirror" and "mirror_percent" in own:
        body["mirror_percent"] = own["mirror_percent"]
    if strategy == "match":
        body["match"] = {k: str(v).strip() for k, v in own.items()}
    if reason.strip():
        body["reason"] = reason.strip()
    return body


def field_messages(strategy: str, names: list[str], field: str | None, error: str | None) -> tuple[list[str], str]:
    """The error beside each named field (in `names` order) and what is left for the result area: a refusal that
    names a field of this form goes beside it; any other error (or one without a field) goes to the result."""
    if not error:
        return ["" for _ in names], ""
    name = field if field and field.startswith("match.") else f"{strategy}.{field}" if field else ""
    if name in names:
        return [error if n == name else "" for n in names], ""
    return ["" for _ in names], error


def register(app: Dash, backend: Backend, access: WriteAccess) -> None:
    control_ids = view.CONTROL_IDS

    @app.callback(
        output={"search": Output("url", "search", allow_duplicate=True), "hidden": Output("page-compare", "hidden"),
                "controls": {f: Output(i, "value") for f, i in control_ids.items()},
                "options": {f: Output(i, "options") for f, i in control_ids.items() if f != "window"},
                "store": Output("cmp-state", "data"), "tick_disabled": Output("cmp-tick", "disabled")},
        inputs={"pathname": Input("url", "pathname"), "search": Input("url", "search"),
                "controls": {i: Input(i, "value") for i in control_ids.values()}},
        prevent_initial_call="initial_duplicate",
    )  # fmt: skip
    def _sync(pathname: str | None, search: str | None, controls: dict[str, Any]) -> dict[str, Any]:
        trigger = ctx.triggered_id if isinstance(ctx.triggered_id, str) else None
        out = compare_sync(pathname, search, controls, trigger)
        if not out:
            raise PreventUpdate
        return out

    @app.callback(
        *[Output(view.CONTROL_IDS[f], "options", allow_duplicate=True)
          for f in ("namespaces", "service", "baseline", "canary")],
        Input("cmp-state", "data"),
        prevent_initial_call=True,
    )  # fmt: skip
    def choices(data: dict[str, Any] | None) -> tuple[Any, ...]:
        if not data or data.get("page") != "compare":
            raise PreventUpdate
        topology = backend.topology(graph="versioned-app", window=str(data.get("window") or ""))
        nodes = (topology.data or {}).get("nodes", [])
        namespaces = sorted({str(n["namespace"]) for n in nodes if n.get("namespace")} | {data["namespace"]} - {""})
        services = sorted({str(n["app"]) for n in nodes if n.get("app") and n.get("namespace") == data["namespace"]}
                          | {data["service"]} - {""})  # fmt: skip
        versions: list[str] = []
        if data["namespace"] and data["service"]:
            answer = backend.versions(namespace=data["namespace"], service=data["service"],
                                      window=str(data.get("window") or ""), at=str(data.get("at") or ""))  # fmt: skip
            versions = [str(v["version"]) for v in (answer.data or {}).get("versions", [])]
        versions = sorted(set(versions) | {data["baseline"], data["canary"]} - {""})

        def opts(values: list[str]) -> list[dict[str, str]]:
            return [{"label": v, "value": v} for v in values]

        return opts(namespaces), opts(services), opts(versions), opts(versions)

    @app.callback(
        Output("cmp-error", "children"), Output("cmp-verdict", "children"), Output("cmp-columns", "children"),
        Output("cmp-outbound", "children"), *[Output(c, "figure") for c in view.CHARTS],
        Input("cmp-state", "data"), Input("cmp-tick", "n_intervals"),
        prevent_initial_call=True,
    )  # fmt: skip
    def _render(data: dict[str, Any] | None, _tick: int | None) -> list[Any]:
        if not data or data.get("page") != "compare":
            raise PreventUpdate
        return render(backend, data)

    @app.callback(
        Output("cmp-weights-box", "hidden"), Output("cmp-weights", "children"),
        Output("cmp-weight-result", "children"), Input("cmp-state", "data"),
        prevent_initial_call=True,
    )  # fmt: skip
    def weights(data: dict[str, Any] | None) -> tuple[Any, ...]:
        if not data or data.get("page") != "compare":
            raise PreventUpdate
        chosen = all(data.get(k) for k in ("namespace", "service", "baseline", "canary"))
        if not chosen or not access.may_write(backend.capabilities().data):
            return True, [], []
        answer = backend.versions(namespace=data["namespace"], service=data["service"], window=str(data["window"]))
        base, can = data["baseline"], data["canary"]
        listed = sorted({str(v["version"]) for v in (answer.data or {}).get("versions", [])} | {base, can})
        return False, [*view.weight_form(base, can, canary_weight(answer.data, can)),
                       *view.strategy_forms(base, can, listed)], []

    @app.callback(
        Output("cmp-weight-result", "children", allow_duplicate=True),
        Input({"type": view.WEIGHT_ACTION, "action": ALL}, "n_clicks"),
        State({"type": view.WEIGHT, "id": ALL}, "value"), State({"type": view.WEIGHT_REASON, "id": ALL}, "value"),
        State("cmp-state", "data"),
        prevent_initial_call=True,
    )  # fmt: skip
    def act(_clicks: list[Any], weights: list[Any], reasons: list[Any], data: dict[str, Any] | None) -> list[Any]:
        trigger = ctx.triggered_id
        headers = access.request_headers()
        if not isinstance(trigger, Mapping) or not (ctx.triggered and ctx.triggered[0].get("value")) or not data \
                or headers is None:  # fmt: skip
            raise PreventUpdate
        action = str(trigger["action"])
        reason = str((reasons or [""])[0] or "")
        if action != "preview" and not reason.strip():
            return edit_form.result(None, "reason: required to apply (it goes to the audit log)")
        listed = backend.versions(namespace=data["namespace"], service=data["service"], window=str(data["window"]))
        versions = [str(v["version"]) for v in (listed.data or {}).get("versions", [])]
        body = traffic_body(action, data, int((weights or [0])[0] or 0), reason, versions)
        answer = backend.send("POST", f"/api/v1/traffic/{data['namespace']}/{data['service']}", body, headers)
        ids = ", ".join(f"#{i}" for i in (answer.data or {}).get("audit_ids") or [])
        note = "" if body["dry_run"] else f"Applied (audit {ids})."
        return edit_form.result(answer.data, answer.error, applied_note=note)

    @app.callback(
        Output("cmp-weight-result", "children", allow_duplicate=True),
        Output({"type": view.STRATEGY_ERROR, "name": ALL}, "children"),
        Input({"type": view.STRATEGY_ACTION, "strategy": ALL, "action": ALL}, "n_clicks"),
        State({"type": view.STRATEGY_FIELD, "name": ALL}, "value"),
        State({"type": view.STRATEGY_FIELD, "name": ALL}, "id"),
        State({"type": view.WEIGHT_REASON, "id": ALL}, "value"), State("cmp-state", "data"),
        prevent_initial_call=True,
    )  # fmt: skip
    def act_strategy(_clicks: list[Any], values: list[Any], ids: list[dict[str, str]], reasons: list[Any],
                     data: dict[str, Any] | None) -> tuple[Any, list[str]]:  # fmt: skip
        trigger = ctx.triggered_id
        headers = access.request_headers()
        if not isinstance(trigger, Mapping) or not (ctx.triggered and ctx.triggered[0].get("value")) or not data \
                or headers is None:  # fmt: skip
            raise PreventUpdate
        strategy, action = str(trigger["strategy"]), str(trigger["action"])
        names = [str(i["name"]) for i in ids]
        reason = str((reasons or [""])[0] or "")
        if action != "preview" and not reason.strip():
            return edit_form.result(None, "reason: required to apply (it goes to the audit log)"), ["" for _ in names]
        listed = backend.versions(namespace=data["namespace"], service=data["service"], window=str(data["window"]))
        versions = [str(v["version"]) for v in (listed.data or {}).get("versions", [])]
        body = strategy_body(strategy, action, dict(zip(names, values, strict=True)), reason,
                             versions or [str(data["baseline"]), str(data["canary"])])  # fmt: skip
        answer = backend.send("POST", f"/api/v1/traffic/{data['namespace']}/{data['service']}", body, headers)
        beside, rest = field_messages(strategy, names, answer.field, answer.error)
        if answer.error and not rest:
            return edit_form.result(None, "Not applied: see the message beside the field."), beside
        ids_text = ", ".join(f"#{i}" for i in (answer.data or {}).get("audit_ids") or [])
        note = "" if body["dry_run"] else f"Applied (audit {ids_text})."
        return edit_form.result(answer.data, rest or None, applied_note=note), beside
