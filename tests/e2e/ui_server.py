"""Run a Dash app's Flask server on a free loopback port in a background thread (Werkzeug, threaded)."""

from __future__ import annotations

import threading
from typing import Any

from dash import Dash
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # one line per callback is noise in test output
        return None


class UiServer:
    def __init__(self, app: Dash) -> None:
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, app.server, threaded=True,
                                                   request_handler=_QuietHandler)  # fmt: skip
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="ui", daemon=True)

    def start(self) -> UiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(10)
