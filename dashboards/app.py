"""`create_app(api_url)`: the Dash app, its pages and callbacks, and the Flask server's security policy.

Security: every asset is served by this server (no CDN), a Content-Security-Policy allows only this origin's
scripts plus the hashes of Dash's own inline scripts, framing is refused unless `frame_ancestors` allows it
(kiosk walls that embed the page), and callback POSTs from another origin are refused (Dash sends a CSRF
cookie but never checks it; the UI only reads, but a foreign page should not drive it either).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import flask
from dash import Dash

from dashboards.backend import Backend
from dashboards.components import compare_view
from dashboards.config import UiConfig
from dashboards.health import Thresholds
from dashboards.pages import compare, diff, edits, panel, review, shell, snapshots, topology, traces
from dashboards.writes import WriteAccess

ASSETS = Path(__file__).parent / "assets"


def content_security_policy(script_hashes: list[str], frame_ancestors: str) -> str:
    # style 'unsafe-inline': React and plotly set inline styles; scripts stay locked to this origin + hashes
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' " + " ".join(script_hashes),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ])  # fmt: skip


def security_headers(csp: str, frame_ancestors: str) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }
    if frame_ancestors.strip() == "'none'":
        headers["X-Frame-Options"] = "DENY"  # for browsers that predate CSP frame-ancestors
    return headers


def _same_origin(request: flask.Request) -> bool:
    origin = request.headers.get("Origin")
    if not origin:  # browsers send Origin on every cross-origin POST; its absence means same origin or no browser
        return True
    hosts = {request.host, request.headers.get("X-Forwarded-Host", "")}
    return urlsplit(origin).netloc in hosts


def _install_security(app: Dash, frame_ancestors: str) -> None:
    headers = security_headers(content_security_policy(list(app.csp_hashes()), frame_ancestors), frame_ancestors)
    server: flask.Flask = app.server

    @server.before_request
    def refuse_cross_origin_posts() -> Any:
        if flask.request.method not in ("GET", "HEAD", "OPTIONS") and not _same_origin(flask.request):
            return flask.Response("cross-origin request refused", status=403, mimetype="text/plain")
        return None

    @server.after_request
    def add_headers(response: flask.Response) -> flask.Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response


def create_app(
    api_url: str,
    *,
    healthy: float = 0.99,
    degraded: float = 0.95,
    frame_ancestors: str = "'none'",
    timeout_s: float = 10.0,
    backend: Backend | None = None,
    title: str = "observe",
    write_token: str = "",
    forward_user_header: str = "",
) -> Dash:
    """The UI for the observe API at `api_url`; thresholds are success-rate ratios (0.99 = 99 %). `write_token`
    (kept in this process) or a forwarded proxy user header lets callers edit (see dashboards.writes)."""
    config = UiConfig(api_url, Thresholds(healthy, degraded), frame_ancestors, timeout_s)
    client = backend or Backend(api_url, timeout_s=timeout_s)
    app = Dash(
        __name__, title=title, update_title="", serve_locally=True, assets_folder=str(ASSETS),
        suppress_callback_exceptions=False, compress=False,
    )  # fmt: skip
    app.layout = shell.shell_layout([topology.layout(config), traces.layout(), diff.layout(), snapshots.layout(),
                                     compare_view.layout()])  # fmt: skip
    shell.register(app)
    topology.register(app, client, config)
    panel.register(app, client, config)
    traces.register(app, client)
    review.register(app, client, config)
    diff.register(app, client, config)
    snapshots.register(app, client)
    access = WriteAccess(write_token, forward_user_header)
    compare.register(app, client, access)
    edits.register(app, client, access)
    _install_security(app, frame_ancestors)
    return app
