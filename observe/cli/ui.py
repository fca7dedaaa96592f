"""`observe ui`: serve the Dash web UI (topology, traces, compare, kiosk screens) for an observe API.

The UI is a separate process that reads the API over HTTP only, so it scales and restarts on its own. It is
served by waitress (a production WSGI server) when installed, else by Werkzeug's threaded server.

Edits: with `--write-token` (a file path, or OBSERVE_WRITE_TOKEN) the UI server adds the API's bearer token to
the writes it forwards; the token stays in this process (never logged, never sent to a browser). With
`--forward-user-header NAME` it passes an authenticating proxy's user header through instead, so the audit
names the person (the API must list this UI's address in its trusted proxies). Without either, no write control
is rendered.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from observe.cli.serve import add_settings_flags, configure_logging, settings_from_args
from observe.errors import BadQuery

# The health thresholds are the API's settings (flag > OBSERVE_* variable > --config file > default), so the
# screen and the API agree unless told otherwise.
THRESHOLD_FLAGS = ("healthy_success_rate", "degraded_success_rate")
log = logging.getLogger("observe.ui")


def _api_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"invalid API URL '{raw}': expected http(s)://host:port")
    return raw.rstrip("/")


def register(commands: Any) -> None:
    parser = commands.add_parser("ui", help="serve the web UI for an observe API")
    parser.add_argument("--api-url", type=_api_url, default="http://127.0.0.1:8080",
                        help="base URL of the observe API (default http://127.0.0.1:8080)")  # fmt: skip
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8050, help="listen port (default 8050; 0 picks a free one)")
    parser.add_argument("--frame-ancestors", default="'none'",
                        help="CSP frame-ancestors: who may embed the UI in a frame (default 'none')")  # fmt: skip
    parser.add_argument("--api-timeout", type=float, default=10.0, help="seconds to wait for one API answer")
    parser.add_argument("--threads", type=int, default=8, help="worker threads serving callbacks (default 8)")
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    parser.add_argument("--write-token", metavar="FILE", default=None,
                        help="file holding the API's write token (default: OBSERVE_WRITE_TOKEN; none: read-only)")
    parser.add_argument("--forward-user-header", metavar="NAME", default="",
                        help="pass this header (set by an authenticating proxy) to the API on writes")  # fmt: skip
    add_settings_flags(parser, THRESHOLD_FLAGS)
    parser.set_defaults(run=run)


def _serve(app: Any, host: str, port: int, threads: int) -> None:
    try:
        from waitress import create_server
    except ImportError:  # a development install without waitress
        log.warning("waitress is not installed: serving with Werkzeug's development server")
        app.run(host=host, port=port, debug=False, threaded=True)
        return
    server = create_server(app.server, host=host, port=port, threads=threads, ident="observe-ui")
    log.info("observe ui on http://%s:%s", host, server.effective_port)
    try:
        server.run()
    finally:
        server.close()


def write_token(path: str | None, environ: dict[str, str] | None = None) -> str:
    """The token from the file at `path`, else from OBSERVE_WRITE_TOKEN; "" when neither (a read-only UI)."""
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise BadQuery(f"cannot read the write token file {path!r}: {exc.strerror}", field="write-token") from None
    return (environ if environ is not None else dict(os.environ)).get("OBSERVE_WRITE_TOKEN", "").strip()


def run(args: argparse.Namespace) -> int:
    configure_logging(args.log_format)
    settings = settings_from_args(args, THRESHOLD_FLAGS)
    token = write_token(args.write_token)
    try:
        from dashboards.app import create_app
    except ImportError as exc:
        raise BadQuery(f"the UI needs the 'ui' extra (pip install 'observe[ui]'): {exc}", field="ui") from None
    app = create_app(args.api_url, healthy=settings.healthy_success_rate, degraded=settings.degraded_success_rate,
                     frame_ancestors=args.frame_ancestors, timeout_s=args.api_timeout, write_token=token,
                     forward_user_header=args.forward_user_header)  # fmt: skip
    credentials = [f"user header {args.forward_user_header}"] * bool(args.forward_user_header) + ["token"] * bool(token)
    log.info("reading the observe API at %s; writes with: %s", args.api_url, ", ".join(credentials) or "nothing")
    _serve(app, args.host, args.port, args.threads)
    return 0
