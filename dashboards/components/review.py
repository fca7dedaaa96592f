"""The topology page's incident-review bar: time picker, replay, "compare with the hour before", save snapshot.

Static frame; `pages.review` fills it from the URL and turns its buttons into URL changes.
"""

from __future__ import annotations

from dash import dcc, html

from dashboards.components.a11y import aria
from dashboards.state import REPLAY_STEPS


def review_bar() -> html.Div:
    picker = html.Div(
        [
            html.Label("Date and time (UTC)", htmlFor="at-time"),
            html.Div([
                dcc.DatePickerSingle(id="at-date", display_format="YYYY-MM-DD", clearable=False,
                                     className="at-date"),
                dcc.Input(id="at-time", type="text", debounce=True, placeholder="HH:MM:SS", maxLength=8,
                          spellCheck=False, pattern="[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?", className="at-time"),
                html.Span("UTC", className="utc"),
                html.Button("Go", id="at-go", className="pager", title="show the window ending at this instant"),
                html.Button("Now", id="at-now", className="pager", title="back to the live view"),
            ], className="review-row"),
        ],
        className="control",
    )  # fmt: skip
    replay = html.Div(
        [
            html.Label("Replay", htmlFor="replay-start"),
            html.Div([
                html.Button("↺ Replay the hour before", id="replay-start", className="pager",
                            title="step through the hour before this instant"),
                dcc.RadioItems(id="replay-step", inline=True, className="review-step",
                               options=[{"label": f" every {s}", "value": s} for s in REPLAY_STEPS]),
                html.Button("▶ Play", id="replay-play", className="pager", hidden=True),
                html.Button("■ Stop", id="replay-stop", className="pager", hidden=True, title="leave the replay"),
            ], className="review-row"),
        ],
        className="control",
    )  # fmt: skip
    snapshot = html.Details(
        [
            html.Summary("◉ Save snapshot"),
            html.Div([
                html.Label("Title", htmlFor="snap-title"),
                dcc.Input(id="snap-title", type="text", maxLength=200, placeholder="e.g. reviews-v2 error spike"),
                html.Label("Notes", htmlFor="snap-notes"),
                dcc.Textarea(id="snap-notes", maxLength=10_000, rows=3),
                html.Button("Save", id="snap-save", className="pager"),
                html.Div(id="snap-status", role="status", **aria(live="polite")),
            ], className="snapshot-form"),
        ],
        id="snap-box", className="snapshot-box", hidden=True,
    )  # fmt: skip
    return html.Div(
        [
            picker,
            replay,
            html.Div(html.A("⇄ Compare with the hour before", id="compare-link", href="/diff"),
                     className="control review-link"),
            snapshot,
            html.Div(
                [dcc.Slider(id="replay-slider", min=0, max=1, step=1, value=0, updatemode="mouseup", included=False,
                            allow_direct_input=False),
                 dcc.Interval(id="replay-tick", interval=2_000, disabled=True, max_intervals=0),
                 dcc.Store(id="replay-layout")],  # the replay's nodes and edges so far: figures.replay.remember
                id="replay-box", className="replay-box", hidden=True,
            ),
            html.Div(id="review-error", className="filter-error", role="alert"),
        ],
        id="review-bar",
        className="controls review",
    )
