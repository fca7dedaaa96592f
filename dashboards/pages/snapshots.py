"""The snapshots page `/snapshots`: saved snapshots, newest first, each with a link that reopens it and its
downloads (the self-contained HTML report, the JSON document).

Reopening shows the snapshot's stored topology (`/?snapshot=<id>&at=…`), not a new query: it looks the same
after Prometheus has forgotten the window. Downloads go through this server (`/snapshots/<id>/report.html`,
`/snapshots/<id>.json`), because the browser may not reach the API; they are sent as attachments, so the
report's inline scripts never run under this origin.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import flask
from dash import Dash, Input, Output, html
from dash.exceptions import PreventUpdate

from dashboards.backend import Answer, Backend
from dashboards.figures.replay import window_name
from dashboards.pages.shell import page_of
from dashboards.state import DEFAULT, ViewState, normalise, to_query

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
COLUMNS = ("Title", "Instant (UTC)", "Window", "Graph", "Namespaces", "Saved", "")


def layout() -> html.Div:
    return html.Div(
        [html.H1("Snapshots"), html.Div(id="snapshots-status", role="status"), html.Div(id="snapshots-table")],
        id="page-snapshots", hidden=True,
    )  # fmt: skip


def _when(seconds: Any) -> str:
    try:
        return datetime.fromtimestamp(float(seconds), tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError, OverflowError):
        return "–"


def reopen_href(summary: Mapping[str, Any]) -> str:
    """The topology page showing the snapshot's stored topology, with its instant, window, graph, namespaces.
    The instant stays in Unix seconds, exactly: the snapshot's own mark on the charts is at that instant."""
    state = normalise(ViewState(snapshot=str(summary.get("id", "")), at=repr(float(summary.get("at") or 0)),
                                window=window_name(float(summary.get("window_s") or 60)),
                                graph=str(summary.get("graph") or DEFAULT.graph),
                                namespaces=tuple(summary.get("namespaces") or ())))  # fmt: skip
    return "/" + to_query(state)


def _row(summary: Mapping[str, Any]) -> html.Tr:
    sid = str(summary.get("id", ""))
    links: list[Any] = [html.A("open", href=reopen_href(summary), className="snap-open"), " · ",
             html.A("report (HTML)", href=f"/snapshots/{sid}/report.html", download=f"snapshot-{sid}.html"), " · ",
             html.A("JSON", href=f"/snapshots/{sid}.json", download=f"snapshot-{sid}.json")]  # fmt: skip
    cells = [str(summary.get("title") or "(untitled)"), _when(summary.get("at")),
             window_name(float(summary.get("window_s") or 60)), str(summary.get("graph") or ""),
             ", ".join(summary.get("namespaces") or []) or "all", _when(summary.get("created"))]  # fmt: skip
    return html.Tr([*[html.Td(c) for c in cells], html.Td(links)])


def snapshot_table(answer: Answer) -> tuple[Any, Any]:
    """(status, table) for the list answer: the API's reason when snapshots are off or the call failed."""
    if not answer.ok:
        kind = "info" if answer.status == 501 else "error"  # 501: off on this server, the message says how to enable
        return html.Div(f"✖ {answer.error}", className=f"banner {kind}"), []
    rows = sorted(answer.data.get("snapshots") or [], key=lambda s: -float(s.get("at") or 0)) if answer.data else []
    if not rows:
        return "No snapshots yet: save one from the topology page (◉ Save snapshot).", []
    head = html.Thead(html.Tr([html.Th(c, scope="col") for c in COLUMNS]))
    table = html.Table([html.Caption(f"{len(rows)} snapshots"), head, html.Tbody([_row(s) for s in rows])],
                       className="edge-table snapshot-table")  # fmt: skip
    return "", table


def _download(backend: Backend, path: str, name: str, content_type: str) -> flask.Response:
    got = backend.download(path)
    if isinstance(got, Answer):
        body = json.dumps({"error": {"code": "upstream", "message": got.error}})
        return flask.Response(body, status=got.status or 502, mimetype="application/json")
    response = flask.Response(got[0], mimetype=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def register(app: Dash, backend: Backend) -> None:
    @app.callback(
        Output("snapshots-status", "children"), Output("snapshots-table", "children"),
        Input("view-state", "data"), prevent_initial_call=True,
    )  # fmt: skip
    def render(view: dict[str, Any] | None) -> tuple[Any, Any]:
        if not view or view.get("page") != "snapshots":
            raise PreventUpdate
        return snapshot_table(backend.snapshots())

    @app.callback(Output("page-snapshots", "hidden"), Input("url", "pathname"))
    def show_page(pathname: str | None) -> bool:
        return page_of(pathname) != "snapshots"

    server: flask.Flask = app.server

    @server.route("/snapshots/<snapshot_id>/report.html")
    def report(snapshot_id: str) -> flask.Response:
        if not _ID.match(snapshot_id):
            flask.abort(404)
        return _download(backend, f"/api/v1/snapshots/{snapshot_id}/report.html", f"snapshot-{snapshot_id}.html",
                         "text/html")  # fmt: skip

    @server.route("/snapshots/<snapshot_id>.json")
    def document(snapshot_id: str) -> flask.Response:
        if not _ID.match(snapshot_id):
            flask.abort(404)
        return _download(backend, f"/api/v1/snapshots/{snapshot_id}", f"snapshot-{snapshot_id}.json",
                         "application/json")  # fmt: skip
