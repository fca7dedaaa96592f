"""A stand-in observe API on 127.0.0.1 that answers from the wire fixtures (or a given topology), in a thread.

For UI tests that must not depend on the demo mesh: layout, security headers, kiosk, the 300-node topology.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

FIXTURES = Path(__file__).parent.parent / "fixtures" / "wire"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


class FakeApi:
    """Serves `topology` (a callable, so a test can change it between refreshes) and the fixture series/traces."""

    def __init__(self, topology: Callable[[], dict[str, Any]] | None = None, *, traces: bool = True) -> None:
        self.topology = topology or (lambda: fixture("topology_bookinfo.json"))
        self.serve_traces = traces
        self.requests: list[str] = []
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-api", daemon=True)
        self._runner: web.AppRunner | None = None

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v1/topology", self._topology)
        app.router.add_get("/api/v1/edges/series", self._series)
        app.router.add_get("/api/v1/nodes/series", self._series)
        app.router.add_get("/api/v1/traces", self._traces)
        app.router.add_get("/api/v1/traces/{trace_id}", self._trace)
        return app

    async def _topology(self, request: web.Request) -> web.Response:
        self.requests.append(str(request.rel_url))
        answer = copy.deepcopy(self.topology())
        answer["graph"] = request.query.get("graph", answer.get("graph", "versioned-app"))
        return _json(answer)

    async def _series(self, request: web.Request) -> web.Response:
        self.requests.append(str(request.rel_url))
        answer = fixture("edge_series.json")
        answer.update({k: v for k, v in request.query.items() if k in ("source", "target", "node", "graph")})
        return _json(answer)

    async def _traces(self, request: web.Request) -> web.Response:
        self.requests.append(str(request.rel_url))
        if not self.serve_traces:
            return _json({"error": {"code": "not_found", "message": "no such route"}}, 404)
        return _json(fixture("traces.json"))

    async def _trace(self, request: web.Request) -> web.Response:
        self.requests.append(str(request.rel_url))
        trace = fixture("trace.json")
        if not self.serve_traces or request.match_info["trace_id"] != trace["trace_id"]:
            return _json({"error": {"code": "not_found", "message": "unknown trace id"}}, 404)
        return _json(trace)

    def start(self) -> FakeApi:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        self._runner = web.AppRunner(self._app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
