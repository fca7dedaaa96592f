"""One Bookinfo workload as a real aiohttp server on loopback: the app (productpage, details, reviews or
ratings, following Bookinfo's calls and its graceful degradation), its fault knobs and its sidecar.

The listening socket is bound once to a free port and rebound to the same port when the workload comes
back up, so callers and Prometheus keep one address; while down nothing listens (connection refused).
"""

from __future__ import annotations

import asyncio
import random
import socket
from typing import Any

from aiohttp import web

from observe.demo.faults import Fault
from observe.demo.identity import WorkloadIdentity
from observe.demo.routing import Endpoint
from observe.demo.sidecar import METRICS_PATH, Handler, Sidecar

BOOK_ID = 0
SHUTDOWN_S = 1.0


def bind_socket(host: str, port: int = 0) -> socket.socket:
    """A listening TCP socket; port 0 lets the kernel choose a free one."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(512)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class Workload:
    """A workload process: app + sidecar behind one port (the app and `/stats/prometheus`)."""

    def __init__(self, sidecar: Sidecar, host: str, rng: random.Random, fault: Fault | None = None,
                 work_ms: float = 0.0, port: int = 0) -> None:  # fmt: skip
        """`work_ms`: median of the app's own work per request (log-normal, σ 0.5); 0 for none.
        `host` 0.0.0.0 listens on every interface, and the mesh still reaches the workload over loopback."""
        self.sidecar = sidecar
        self.work_ms = work_ms
        self.identity: WorkloadIdentity = sidecar.identity
        self.fault = fault or Fault()
        self._rng = rng
        self._bind_host = host
        self._sock = bind_socket(host, port)
        self.port = self._sock.getsockname()[1]
        self.host = "127.0.0.1" if host == "0.0.0.0" else host
        self._runner: web.AppRunner | None = None
        self._site: web.SockSite | None = None
        self._transition = asyncio.Lock()

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.identity, self.host, self.port)

    @property
    def is_down(self) -> bool:
        return self._site is None

    async def start(self) -> None:
        app = web.Application(middlewares=[self.sidecar.inbound, self._faults])
        app.router.add_get(METRICS_PATH, self.sidecar.metrics)
        app.router.add_get(*self._route())
        await self.sidecar.start()
        # handler_cancellation: a caller that hangs up cancels our handler, so the sidecar sees DC / code 0.
        # A short shutdown_timeout: stopping must not wait out injected latency.
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=SHUTDOWN_S)
        await self._runner.setup()
        await self._listen()

    async def stop(self) -> None:
        self.sidecar.alive = False
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._site = None
        self._sock.close()
        await self.sidecar.close()

    async def apply_fault(self) -> None:
        """Make the listener match `fault.down`: take the workload away (listener closed, open connections
        dropped, as when a pod dies) or bring it back on the same port. Reads the fault when it runs, so
        quick down/up flips settle on the latest setting."""
        async with self._transition:
            if self.fault.down and self._site is not None:
                self.sidecar.alive = False
                await self._site.stop()
                self._site = None
                assert self._runner is not None and self._runner.server is not None
                for connection in self._runner.server.connections:
                    connection.force_close()
            elif not self.fault.down and self._site is None and self._runner is not None:
                self._sock = bind_socket(self._bind_host, self.port)
                await self._listen()

    async def _listen(self) -> None:
        assert self._runner is not None
        self._site = web.SockSite(self._runner, self._sock)
        await self._site.start()
        self.sidecar.alive = True

    @web.middleware
    async def _faults(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The app misbehaving as configured: inside the server sidecar, so its metrics see it."""
        fault = self.fault
        delay_ms = fault.latency_ms + (self.work_ms * self._rng.lognormvariate(0.0, 0.5) if self.work_ms else 0.0)
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000.0)
        if fault.error_ratio > 0 and self._rng.random() < fault.error_ratio:
            return web.json_response({"error": "fault injected by the demo"}, status=fault.error_code)
        return await handler(request)

    def _route(self) -> tuple[str, Handler]:
        routes: dict[str, tuple[str, Handler]] = {
            "productpage": ("/productpage", self._productpage),
            "details": ("/details/{id}", self._details),
            "reviews": ("/reviews/{id}", self._reviews),
            "ratings": ("/ratings/{id}", self._ratings),
        }
        return routes[self.identity.app]

    async def _productpage(self, request: web.Request) -> web.Response:
        # Bookinfo's productpage degrades gracefully: a failed backend leaves a hole in the page, not a 5xx.
        details = await self.sidecar.call("details", f"/details/{BOOK_ID}", inbound=request)
        reviews = await self.sidecar.call("reviews", f"/reviews/{BOOK_ID}", inbound=request)
        page: dict[str, Any] = {
            "product": {"id": BOOK_ID, "title": "The Comedy of Errors"},
            "details": details.json() if details.ok else {"error": "Sorry, product details are currently unavailable"},
            "reviews": reviews.json() if reviews.ok else {"error": "Sorry, product reviews are currently unavailable"},
        }
        return web.json_response(page)

    async def _details(self, request: web.Request) -> web.Response:
        book_id = _book_id(request)
        return web.json_response(
            {
                "id": book_id,
                "author": "William Shakespeare",
                "year": 1595,
                "type": "paperback",
                "pages": 200,
                "publisher": "PublisherA",
                "language": "English",
                "ISBN-10": "1234567890",
            }
        )

    async def _reviews(self, request: web.Request) -> web.Response:
        book_id = _book_id(request)
        reviews: list[dict[str, Any]] = [
            {"reviewer": "Reviewer1", "text": "An extremely entertaining play by Shakespeare."},
            {"reviewer": "Reviewer2", "text": "Absolutely fun and entertaining."},
        ]
        if self.identity.version != "v1":
            ratings = await self.sidecar.call("ratings", f"/ratings/{book_id}", inbound=request)
            stars = (ratings.json() or {}).get("ratings", {}) if ratings.ok else {}
            color = "black" if self.identity.version == "v2" else "red"
            for review in reviews:
                stars_of = stars.get(review["reviewer"])
                review["rating"] = (
                    {"stars": stars_of, "color": color}
                    if stars_of
                    else {"error": "Ratings service is currently unavailable"}
                )
        return web.json_response({"id": book_id, "podname": f"{self.identity.workload}-0", "reviews": reviews})

    async def _ratings(self, request: web.Request) -> web.Response:
        return web.json_response({"id": _book_id(request), "ratings": {"Reviewer1": 5, "Reviewer2": 4}})


def _book_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise web.HTTPBadRequest(reason="please provide numeric product id") from None
