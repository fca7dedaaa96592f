"""Incident review on the topology page: the time picker, the replay slider and player, the diff link, and
saving a snapshot.

Everything is in the URL: the picker and the slider write `at`, the replay writes `replay_from` and
`replay_step`, and the shell's sync takes it from there (the graph keeps its positions, see figures.replay).
Play is a dcc.Interval bounded by `max_intervals` (the frames left), each tick moving `at` one frame; the
last frame stops it. `fill` and `act` are pure (unit-tested); the callbacks only wire them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from dash import Dash, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from dashboards.backend import Answer, Backend
from dashboards.config import UiConfig
from dashboards.figures.replay import REPLAY_SPAN_S, frame_index, frames, instant_seconds, rfc3339
from dashboards.state import REPLAY_STEPS, ViewState, from_dict, to_query, with_changes

_TIME = re.compile(r"^\d\d:\d\d:\d\d$")
MAX_MARKS = 7  # slider labels: a few times, not one per frame
SNAPSHOTS_OFF = (404, 501)  # the API has no snapshot store: no save button


def _minute(seconds: float) -> float:
    return seconds - seconds % 60


def _frames(state: ViewState) -> list[float]:
    start = instant_seconds(state.replay_from)
    return frames(start, REPLAY_STEPS[state.replay_step]) if start is not None else []


def diff_href(state: ViewState, now: float) -> str:
    """The diff of this view's window against the hour before, with both instants written out (a link that
    means the same thing tomorrow)."""
    b = instant_seconds(state.at) or _minute(now)
    target = ViewState(graph=state.graph, namespaces=state.namespaces, window=state.window, at=rfc3339(b),
                       diff=rfc3339(b - REPLAY_SPAN_S))  # fmt: skip
    return "/diff" + to_query(target)


def fill(state: ViewState, now: float) -> dict[str, Any]:
    """What the review bar shows for a state."""
    at_s = instant_seconds(state.at)
    when = datetime.fromtimestamp(at_s if at_s is not None else _minute(now), tz=UTC)
    instants = _frames(state)
    index = frame_index(instants, at_s)
    every = max(1, -(-len(instants) // MAX_MARKS))
    marks = {i: datetime.fromtimestamp(t, tz=UTC).strftime("%H:%M") for i, t in enumerate(instants) if i % every == 0}
    ended = not instants or index >= len(instants) - 1
    return {
        "date": when.strftime("%Y-%m-%d"), "time": when.strftime("%H:%M:%S"), "step": state.replay_step,
        "replaying": bool(instants), "slider_max": max(len(instants) - 1, 1), "marks": marks, "index": index,
        "compare": diff_href(state, now), "ended": ended,
    }  # fmt: skip


def _picked(date: str | None, time: str | None) -> str:
    """RFC 3339 of the picker's date and time (UTC), '' when they do not make an instant."""
    time = (time or "00:00:00").strip()
    time = time + ":00" if len(time) == 5 else time
    seconds = instant_seconds(f"{date[:10]}T{time}Z") if date and _TIME.match(time) else None
    return rfc3339(seconds) if seconds is not None else ""


def act(state: ViewState, trigger: str, values: dict[str, Any], now: float) -> ViewState | None:
    """The state after a review control was used (None: nothing to change)."""
    if trigger == "at-go":
        at = _picked(values.get("date"), values.get("time"))
        return with_changes(state, at=at, replay_from="", snapshot="") if at else None
    if trigger == "at-now":
        return with_changes(state, at="", replay_from="", snapshot="")
    if trigger == "replay-start":  # moving in time leaves a snapshot: other instants are asked of the API
        end = instant_seconds(state.at) or _minute(now)
        start = rfc3339(end - REPLAY_SPAN_S)
        return with_changes(state, replay_from=start, at=start, snapshot="")
    if trigger == "replay-stop":
        return with_changes(state, replay_from="")
    if trigger == "replay-step":  # a replay keeps its period; `at` moves to the nearest frame of the new step
        moved = with_changes(state, replay_step=str(values.get("step") or state.replay_step))
        after = _frames(moved)
        return with_changes(moved, at=rfc3339(after[frame_index(after, instant_seconds(state.at))])) if after else moved
    instants = _frames(state)
    if not instants:
        return None
    if trigger == "replay-slider":
        index = min(max(int(values.get("slider") or 0), 0), len(instants) - 1)
        return with_changes(state, at=rfc3339(instants[index]))
    if trigger == "replay-tick":
        index = frame_index(instants, instant_seconds(state.at))
        return with_changes(state, at=rfc3339(instants[index + 1])) if index + 1 < len(instants) else None
    return None


def replay_key(state: ViewState) -> str:
    """What one replay's remembered layout belongs to ('' when not replaying)."""
    return f"{state.replay_from}|{state.graph}|{','.join(state.namespaces)}" if state.replay_from else ""


def snapshot_answer(backend: Backend, snapshot_id: str) -> tuple[Answer, list[html.Div]]:
    """A snapshot's stored topology as if the API had answered it, and a banner that says whose it is."""
    answer = backend.snapshot(snapshot_id)
    if not answer.ok or not isinstance((answer.data or {}).get("topology"), dict):
        return Answer(None, f"snapshot {snapshot_id}: {answer.error or 'no stored topology'}", answer.status), []
    data = answer.data or {}
    when = datetime.fromtimestamp(float(data.get("created") or 0), tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = f"◉ Snapshot “{data.get('title') or snapshot_id}” (saved {when}): the stored topology, not a new query."
    notes = [html.Div(text, className="banner info snapshot-banner")]
    if data.get("notes"):
        notes.append(html.Div(f"Notes: {data['notes']}", className="banner info snapshot-notes"))
    return Answer(data["topology"], None, answer.status), notes


def snapshot_series(backend: Backend, snapshot_id: str, source: str, target: str) -> Answer | None:
    """The edge's series stored in the snapshot (None: not stored — the busiest edges only — ask the API)."""
    stored = (backend.snapshot(snapshot_id).data or {}).get("series") or []
    found = next((s for s in stored if (s.get("source"), s.get("target")) == (source, target)), None)
    return Answer(found, None, 200) if isinstance(found, dict) else None


def snapshot_body(state: ViewState, title: str, notes: str) -> dict[str, Any]:
    body: dict[str, Any] = {"title": title.strip(), "window": state.window, "graph": state.graph}
    if state.at:
        body["at"] = state.at
    if state.namespaces:
        body["namespace"] = ",".join(state.namespaces)
    if notes.strip():
        body["notes"] = notes.strip()
    return body


def register(app: Dash, backend: Backend, config: UiConfig) -> None:
    @app.callback(
        Output("at-date", "date"), Output("at-time", "value"), Output("replay-step", "value"),
        Output("replay-box", "hidden"), Output("replay-play", "hidden"), Output("replay-stop", "hidden"),
        Output("replay-slider", "max"), Output("replay-slider", "marks"), Output("replay-slider", "value"),
        Output("compare-link", "href"), Output("replay-tick", "disabled"), Output("replay-play", "children"),
        Input("view-state", "data"), Input("tick", "n_intervals"), State("replay-tick", "disabled"),
        prevent_initial_call=True,
    )  # fmt: skip
    def show(view: dict[str, Any] | None, _tick: int | None, paused: bool | None) -> tuple[Any, ...]:
        if not view or view.get("page") != "topology":
            raise PreventUpdate
        out = fill(from_dict(view), config.clock())
        hidden = not out["replaying"]
        stop = out["ended"] or paused is not False  # the last frame ends a play
        # a live view's refresh only moves the diff link: the picker may be half typed
        picked = (no_update, no_update) if ctx.triggered_id == "tick" else (out["date"], out["time"])
        return (*picked, out["step"], hidden, hidden, hidden, out["slider_max"], out["marks"],
                out["index"], out["compare"], stop, "▶ Play" if stop else "‖ Pause")  # fmt: skip

    @app.callback(
        Output("replay-tick", "disabled", allow_duplicate=True), Output("replay-tick", "max_intervals"),
        Output("replay-tick", "n_intervals"), Output("replay-play", "children", allow_duplicate=True),
        Input("replay-play", "n_clicks"), State("replay-tick", "disabled"), State("view-state", "data"),
        prevent_initial_call=True,
    )  # fmt: skip
    def play(clicks: int | None, paused: bool | None, view: dict[str, Any] | None) -> tuple[Any, ...]:
        if not clicks:
            raise PreventUpdate
        if paused is False:
            return True, no_update, no_update, "▶ Play"
        state = from_dict(view)
        instants = _frames(state)
        left = len(instants) - 1 - frame_index(instants, instant_seconds(state.at))
        if left <= 0:
            raise PreventUpdate
        return False, left, 0, "‖ Pause"  # bounded: at most the frames left, then the interval stops by itself

    @app.callback(
        Output("url", "search", allow_duplicate=True), Output("review-error", "children"),
        Input("at-go", "n_clicks"), Input("at-now", "n_clicks"), Input("replay-start", "n_clicks"),
        Input("replay-stop", "n_clicks"), Input("replay-step", "value"), Input("replay-slider", "value"),
        Input("replay-tick", "n_intervals"), Input("at-time", "n_submit"),
        State("at-date", "date"), State("at-time", "value"), State("view-state", "data"),
        prevent_initial_call=True,
    )  # fmt: skip
    def on_review(*args: Any) -> tuple[Any, str]:
        trigger = ctx.triggered_id if isinstance(ctx.triggered_id, str) else ""
        trigger = "at-go" if trigger == "at-time" else trigger  # Enter in the time field
        value = ctx.triggered[0].get("value") if ctx.triggered else None
        if trigger in ("at-go", "at-now", "replay-start", "replay-stop", "replay-tick") and not value:
            raise PreventUpdate  # a button or timer that was just mounted: not a click
        state = from_dict(args[-1])
        values = {"date": args[-3], "time": args[-2], "step": args[4], "slider": args[5]}
        new = act(state, trigger, values, config.clock())
        if trigger == "at-go" and new is None:
            return no_update, "Pick a date and a time (UTC) first."
        if new is None or new == state:
            raise PreventUpdate
        return to_query(new), ""

    @app.callback(Output("snap-box", "hidden"), Input("url", "pathname"))
    def offer_snapshots(_path: str | None) -> bool:
        return backend.snapshots().status in SNAPSHOTS_OFF

    @app.callback(
        Output("snap-status", "children"), Input("snap-save", "n_clicks"),
        State("snap-title", "value"), State("snap-notes", "value"), State("view-state", "data"),
        prevent_initial_call=True,
    )  # fmt: skip
    def save(clicks: int | None, title: str | None, notes: str | None, view: dict[str, Any] | None) -> Any:
        if not clicks:
            raise PreventUpdate
        if not (title or "").strip():
            return html.Span("A snapshot needs a title.", className="filter-error")
        answer = backend.create_snapshot(snapshot_body(from_dict(view), title or "", notes or ""))
        if not answer.ok:
            return html.Span(f"Not saved: {answer.error}", className="filter-error")
        snapshot_id = str((answer.data or {}).get("id", ""))
        return ["✔ Saved. ", html.A("All snapshots →", href="/snapshots", title=snapshot_id)]
