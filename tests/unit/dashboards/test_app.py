"""The Dash app as a server: security headers, no remote assets, callbacks wired; and the `observe ui` command."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest
from dash import Dash

from dashboards.app import create_app
from observe.cli import ui


@pytest.fixture(scope="module")
def app() -> Dash:
    return create_app("http://127.0.0.1:9", healthy=0.995, degraded=0.9)


def test_index_has_security_headers_and_no_remote_assets(app: Dash) -> None:
    response = app.server.test_client().get("/")
    assert response.status_code == 200
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self' 'sha256-" in csp and "'unsafe-eval'" not in csp
    html = response.get_data(as_text=True)
    assert "https://" not in html and "http://" not in html.replace("http://www.w3.org", "")  # no CDN
    assert headers["Content-Security-Policy"] == app.server.test_client().get("/traces").headers[
        "Content-Security-Policy"]  # fmt: skip


def test_frame_ancestors_for_an_embedding_wall() -> None:
    embedded = create_app("http://127.0.0.1:9", frame_ancestors="https://wall.example.com")
    headers = embedded.server.test_client().get("/").headers
    assert "frame-ancestors https://wall.example.com" in headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in headers


def test_cross_origin_callback_posts_are_refused(app: Dash) -> None:
    client = app.server.test_client()
    body = {"output": "x.children", "outputs": {"id": "x", "property": "children"}, "inputs": [], "changedPropIds": []}
    refused = client.post("/_dash-update-component", json=body, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    allowed = client.post("/_dash-update-component", json=body, headers={"Origin": "http://localhost"})
    assert allowed.status_code != 403


def test_layout_never_renders_raw_html(app: Dash) -> None:
    layout = json.dumps(app.layout.to_plotly_json(), default=lambda o: o.to_plotly_json())
    assert "dangerously_allow_html" not in layout and "DangerouslySetInnerHTML" not in layout


def test_callbacks_are_wired(app: Dash) -> None:
    outputs = " ".join(app.callback_map)
    for needed in ("graph.elements", "edge-table.children", "url.search", "waterfall.figure", "panel-rps.figure",
                   "kiosk-tiles.children", "traces-results.children"):  # fmt: skip
        assert needed in outputs


def test_legend_uses_the_configured_thresholds(app: Dash) -> None:
    layout = json.dumps(app.layout.to_plotly_json(), default=lambda o: o.to_plotly_json())
    assert "success \\u2265 99.5%" in layout and "success < 90%" in layout


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    ui.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["ui", *argv])


def test_ui_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    args = parse(["--api-url", "http://127.0.0.1:8080/", "--port", "0", "--healthy-success-rate", "0.999",
                  "--degraded-success-rate", "0.9"])  # fmt: skip
    assert args.api_url == "http://127.0.0.1:8080" and args.host == "127.0.0.1" and args.port == 0
    served: dict[str, Any] = {}
    monkeypatch.setattr(ui, "configure_logging", lambda fmt: None)  # leave pytest's log capture alone
    monkeypatch.setattr(ui, "_serve", lambda app, host, port, threads: served.update(app=app, port=port))
    assert args.run(args) == 0
    layout = json.dumps(served["app"].layout.to_plotly_json(), default=lambda o: o.to_plotly_json())
    assert "99.9%" in layout and served["port"] == 0


def test_ui_refuses_a_bad_api_url(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse(["--api-url", "javascript:alert(1)"])
    assert "invalid API URL" in capsys.readouterr().err
