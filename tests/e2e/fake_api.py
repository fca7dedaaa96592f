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
        self.serve_snapshots = True
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
        self._add_review_routes(app)
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

    # ---- incident review: diff, annotations and snapshots from fixtures; snapshots kept in memory ----------
    def _add_review_routes(self, app: web.Application) -> None:
        self.snapshots = [fixture("snapshots.json")["snapshots"][0]]
        app.router.add_get("/api/v1/diff", self._diff)
        app.router.add_get("/api/v1/annotations", self._annotations)
        app.router.add_get("/api/v1/snapshots", self._snapshot_list)
        app.router.add_post("/api/v1/snapshots", self._snapshot_create)
        app.router.add_get("/api/v1/snapshots/{snapshot_id}", self._snapshot)
        app.router.add_get("/api/v1/snapshots/{snapshot_id}/report.html", self._snapshot_report)

    async def _diff(self, request: web.Request) -> web.Response:
        self.requests.append(str(request.rel_url))
        if "a_at" not in request.query:
            return _json({"error": {"code": "bad_query", "message": "parameter 'a_at' is required"}}, 400)
        return _json(fixture("diff_bookinfo.json"))

    async def _annotations(self, request: web.Request) -> web.Response:
        self.requests.append(str(request.rel_url))
        return _json(fixture("annotations.json"))

    async def _snapshot_list(self, request: web.Request) -> web.Response:
        self.requests.append(str(request.rel_url))
        if not self.serve_snapshots:
            return _json({"error": {"code": "not_enabled", "message": "snapshots are off on this server"}}, 501)
        return _json({"snapshots": sorted(self.snapshots, key=lambda s: -s["created"])})

    async def _snapshot_create(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(f"POST {request.rel_url} {json.dumps(body, sort_keys=True)}")
        summary = {**self.snapshots[0], "id": f"Fake{len(self.snapshots):012d}", "title": body["title"],
                   "created": self.snapshots[-1]["created"] + 60}  # fmt: skip
        self.snapshots.append(summary)
        return _json(summary, 201)

    def _document(self, snapshot_id: str) -> dict[str, Any] | None:
        summary = next((s for s in self.snapshots if s["id"] == snapshot_id), None)
        return {**fixture("snapshot_bookinfo.json"), **summary} if summary else None

    async def _snapshot(self, request: web.Request) -> web.Response:
        self.requests.append(str(request.rel_url))
        document = self._document(request.match_info["snapshot_id"])
        return _json(document) if document else _json({"error": {"code": "not_found", "message": "no such id"}}, 404)

    async def _snapshot_report(self, request: web.Request) -> web.Response:
        document = self._document(request.match_info["snapshot_id"])
        if document is None:
            return _json({"error": {"code": "not_found", "message": "no such id"}}, 404)
        return web.Response(text=f"<!doctype html><title>{document['title']}</title><p>report</p>",
                            content_type="text/html")  # fmt: skip

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
