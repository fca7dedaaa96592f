"""The app shell: URL, stores, timer, navigation, and the one callback that keeps URL and controls in step.

The URL is the source of truth. `sync` reads it on load and on back/forward, sets the controls and the stores;
when a control changes, it writes the URL (pushState, no reload). Clicks that change the selection or the sort
write the URL too, and `sync` takes it from there. Stores are only written when their part of the state changed,
so selecting an edge does not reload the graph. Pages switch with a full load (plain links): each page's
components are mounted once, the graph always in a visible container.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dash import Dash, Input, Output, State, ctx, dcc, html, no_update

from dashboards.components.controls import CONTROL_IDS
from dashboards.state import ViewState, from_dict, normalise, parse_query, to_dict, to_query

TRACE_CONTROL_IDS = {"service": "tr-service", "edge": "tr-edge", "min_duration": "tr-min-duration",
                     "errors": "tr-errors", "trace_window": "tr-window"}  # fmt: skip
TOPOLOGY_KEYS = ("graph", "namespaces", "window", "at", "filter", "label", "sort", "table_page", "kiosk", "watch",
                 "refresh", "snapshot", "replay_from")  # refresh: the kiosk status line says it
SELECTION_KEYS = ("edge", "node", "graph", "namespaces", "window", "at", "snapshot")
TRACES_KEYS = ("service", "edge", "graph", "min_duration", "errors", "window", "at", "trace")


PAGES = ("traces", "diff", "snapshots", "compare")  # by the last path segment; anything else is the topology


def page_of(pathname: str | None) -> str:
    last = (pathname or "/").rstrip("/").rsplit("/", 1)[-1]
    return last if last in PAGES else "topology"


def shell_layout(pages: list[Any]) -> html.Div:
    nav = html.Nav([html.Span("observe", className="brand"),
                    html.A("Topology", href="/", className="nav-link"),
                    html.A("Traces", href="/traces", className="nav-link"),
                    html.A("Compare", href="/compare", className="nav-link"),
                    html.A("Snapshots", href="/snapshots", className="nav-link")],
                   id="nav", className="nav")  # fmt: skip
    stores = [dcc.Store(id=name) for name in ("view-state", "topology-state", "selection-state", "traces-state")]
    return html.Div(
        [dcc.Location(id="url", refresh=False), *stores, dcc.Interval(id="tick", interval=10_000, disabled=True),
         nav, html.Main(pages, id="main")],
        id="app-root",
        className="app",
    )  # fmt: skip


def _part(state: ViewState, keys: tuple[str, ...], page: str) -> dict[str, Any]:
    full = to_dict(state)
    return {"page": page, **{k: full[k] for k in keys}}


def _control_value(field: str, value: Any) -> Any:
    if field == "namespaces":
        return tuple(value or ())
    if field == "errors":
        return bool(value)
    return value or ""


def _from_control(previous: ViewState, trigger: str, value: Any) -> ViewState:
    """The state after one control changed."""
    field = next((f for f, i in {**CONTROL_IDS, **TRACE_CONTROL_IDS}.items() if i == trigger), None)
    if field is None:
        return previous
    name = "window" if field == "trace_window" else field
    state = replace(previous, **{name: _control_value(name, value)})
    if name == "graph" and state.graph != previous.graph:
        state = replace(state, edge="", node="")  # node ids differ between graph types
    if name in ("graph", "namespaces", "filter", "window"):
        state = replace(state, table_page=1)  # another set of rows: page 1 of it
    if name == "edge" or (name in ("service", "min_duration", "errors") and previous.trace):
        state = replace(state, trace="")  # a new search: the open trace belongs to the old one
    return normalise(state)


def _control_outputs(state: ViewState) -> dict[str, Any]:
    values = to_dict(state)
    out: dict[str, Any] = {f: values[f] for f in CONTROL_IDS}
    out.update({f: values["window" if f == "trace_window" else f] for f in TRACE_CONTROL_IDS})
    out["errors"] = ["errors"] if state.errors else []
    out["service"] = state.service or None  # an empty dropdown is None, not "" (which shows a clear button)
    return out


def _options(state: ViewState) -> dict[str, list[dict[str, str]]]:
    """Dropdown options that hold the values being set: Dash 4's Dropdown drops a value missing from its options
    (and would write that back to the URL). The pages' callbacks then set the full lists."""
    return {"namespaces": [{"label": n, "value": n} for n in state.namespaces],
            "service": [{"label": state.service, "value": state.service}] if state.service else []}  # fmt: skip


def sync(pathname: str | None, search: str | None, controls: dict[str, Any], previous: dict[str, Any] | None,
         trigger: str | None) -> dict[str, Any]:  # fmt: skip
    """Pure core of the sync callback (unit-tested): outputs for a trigger ('url', a control id, or None)."""
    page = page_of(pathname)
    old = from_dict(previous) if previous else None
    new_search: Any = no_update
    if trigger in (None, "url") or old is None:
        state = parse_query(search)
    else:
        state = _from_control(old, trigger, controls.get(trigger))
        if state != old:
            new_search = to_query(state)
    first = old is None or (previous or {}).get("page") != page

    def changed(keys: tuple[str, ...]) -> Any:
        part = _part(state, keys, page)
        return part if first or part != _part(old or state, keys, page) else no_update

    refresh_ms = max(state.refresh_s, 1) * 1000
    set_controls = trigger in (None, "url") or first
    return {
        "search": new_search,
        "view": {**to_dict(state), "page": page} if first or state != old else no_update,
        "topology": changed(TOPOLOGY_KEYS), "selection": changed(SELECTION_KEYS), "traces": changed(TRACES_KEYS),
        "controls": _control_outputs(state) if set_controls else {k: no_update for k in _control_outputs(state)},
        "options": _options(state) if set_controls else {"namespaces": no_update, "service": no_update},
        "interval": refresh_ms, "disabled": state.refresh_s == 0 or page != "topology",
        "hide_topology": page != "topology", "hide_traces": page != "traces",
        "root_class": "app kiosk" if state.kiosk and page == "topology" else "app",
    }  # fmt: skip


def register(app: Dash) -> None:
    control_ids = {**CONTROL_IDS, **TRACE_CONTROL_IDS}
    control_inputs = {i: Input(i, "value") for i in control_ids.values()}

    @app.callback(
        output={
            "search": Output("url", "search"), "view": Output("view-state", "data"),
            "topology": Output("topology-state", "data"), "selection": Output("selection-state", "data"),
            "traces": Output("traces-state", "data"),
            "controls": {f: Output(i, "value") for f, i in control_ids.items()},
            "options": {"namespaces": Output("ctl-namespaces", "options"), "service": Output("tr-service", "options")},
            "interval": Output("tick", "interval"), "disabled": Output("tick", "disabled"),
            "hide_topology": Output("page-topology", "hidden"), "hide_traces": Output("page-traces", "hidden"),
            "root_class": Output("app-root", "className"),
        },
        inputs={"pathname": Input("url", "pathname"), "search": Input("url", "search"), "controls": control_inputs},
        state={"previous": State("view-state", "data")},
    )  # fmt: skip
    def _sync(pathname: str | None, search: str | None, controls: dict[str, Any],
              previous: dict[str, Any] | None) -> dict[str, Any]:  # fmt: skip
        trigger = ctx.triggered_id if isinstance(ctx.triggered_id, str) else None
        return sync(pathname, search, controls, previous, trigger)
