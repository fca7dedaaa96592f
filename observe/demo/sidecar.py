"""The Envoy-like layer of a demo workload: an inbound middleware (the server sidecar, reporter=destination)
and an outbound client (the client sidecar, reporter=source) that exchange peer metadata, record Istio's
standard metrics, emit spans and map transport failures to Envoy's response codes and flags.

Every outbound call goes through `Sidecar._dispatch`, the one place where a DestinationRule traffic policy
applies: `TrafficPolicy.admit` may reject locally (connection-pool overflow → 503 + UO), `choose` may skip
ejected endpoints (none left → 503 + UH) and `report` feeds outlier detection with each outcome.

Routing (`Routes.route`) sees the outbound path and headers; the app forwards Bookinfo's user headers from its
inbound request (`PROPAGATED_HEADERS`), so a VirtualService can match them. A mirrored copy is sent
fire-and-forget with `-shadow` appended to its Host, its response dropped and, as in Istio, reported by the
destination only (reporter="destination", destination_service `<fqdn>-shadow`; the server span carries the
shadow host as `server.address`): the caller's sidecar records neither metrics nor a span for it. At most
`MAX_SHADOWS` copies are in flight per sidecar; beyond that a copy is skipped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from aiohttp import web
from opentelemetry.context import Context

from observe.demo.identity import REQUEST_ID_HEADER, SERVICE_PORT, WorkloadIdentity, peer_headers, read_peer
from observe.demo.istio_metrics import NO_FLAGS, IstioStats, destination_labels, source_labels
from observe.demo.routing import Cluster, Endpoint, Routes
from observe.demo.tracing import WorkloadTracer
from observe.demo.virtual_services import SHADOW_SUFFIX, is_shadow, shadow_authority

log = logging.getLogger(__name__)

METRICS_PATH = "/stats/prometheus"
TRACE_CONTEXT = web.RequestKey("observe.demo.trace_context", Context)
REQUEST_ID = web.RequestKey("observe.demo.request_id", str)
# Like Prometheus's own client; Prometheus 2.x only understands the 0.0.4 text format and OpenMetrics.
EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UPSTREAM_RESET_BODY = b"upstream connect error or disconnect/reset before headers"
PROPAGATED_HEADERS = ("end-user", "cookie", "user-agent")  # forwarded by Bookinfo's productpage
MAX_SHADOWS = 64
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Outcome:
    """What the client sidecar hands back to the app for one outbound call."""

    status: int
    flags: str = NO_FLAGS
    body: bytes = b""
    peer: WorkloadIdentity | None = None  # callee identity from the MX response header
    peer_principal: str | None = None  # identity proven at connection time (None: never connected)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 400

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class TrafficPolicy(Protocol):
    """DestinationRule trafficPolicy for outbound calls, per destination cluster."""

    def admit(self, cluster: Cluster) -> AbstractAsyncContextManager[str | None]:
        """Held for the whole call; yields None to proceed or a response flag (e.g. "UO") to reject locally."""
        ...

    def choose(self, cluster: Cluster, endpoints: Sequence[Endpoint]) -> Endpoint | None:
        """The endpoint to use among those not ejected; None when no healthy host remains (UH)."""
        ...

    def report(self, cluster: Cluster, endpoint: Endpoint, outcome: Outcome) -> None:
        """Every finished attempt, for outlier detection."""
        ...


class OpenTrafficPolicy:
    """No connection-pool limits and no outlier detection: Istio's behaviour without a DestinationRule."""

    @asynccontextmanager
    async def admit(self, cluster: Cluster) -> AsyncIterator[str | None]:
        yield None

    def choose(self, cluster: Cluster, endpoints: Sequence[Endpoint]) -> Endpoint | None:
        return endpoints[0] if endpoints else None

    def report(self, cluster: Cluster, endpoint: Endpoint, outcome: Outcome) -> None:
        return None


class Sidecar:
    """One workload's proxy. `alive` is False while the workload is down (a dead pod reports nothing)."""

    def __init__(
        self,
        identity: WorkloadIdentity,
        routes: Routes,
        *,
        rng: random.Random,
        tracer: WorkloadTracer | None = None,
        policy: TrafficPolicy | None = None,
        route_timeout_s: float = 3.0,
    ) -> None:
        self.identity = identity
        self.routes = routes
        self.stats = IstioStats()
        self.tracer = tracer
        self.policy: TrafficPolicy = policy or OpenTrafficPolicy()
        self.route_timeout_s = route_timeout_s
        self.alive = True
        self._rng = rng
        self._session: aiohttp.ClientSession | None = None
        self._shadows: set[asyncio.Task[Outcome]] = set()

    async def start(self) -> None:
        # Bounded pool: large enough never to be the bottleneck, unlike a hidden 100-connection default.
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1024), auto_decompress=False)

    async def close(self) -> None:
        for task in list(self._shadows):
            task.cancel()
        await asyncio.gather(*self._shadows, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def metrics(self, request: web.Request) -> web.Response:
        """`/stats/prometheus`, like the sidecar's :15090 endpoint."""
        return web.Response(body=self.stats.exposition(), headers={"Content-Type": EXPOSITION_CONTENT_TYPE})

    @web.middleware
    async def inbound(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == METRICS_PATH:
            return await handler(request)
        peer = read_peer(request.headers)
        shadow = is_shadow(request.host)
        request[REQUEST_ID] = request.headers.get(REQUEST_ID_HEADER) or str(uuid.uuid4())
        span = None
        if self.tracer is not None:
            attrs = {
                "http.request.method": request.method,
                "url.path": request.path,
                "upstream_cluster": f"inbound|{SERVICE_PORT}||",
                "guid:x-request-id": request[REQUEST_ID],
            }
            if shadow:
                attrs["server.address"] = request.host.rsplit(":", 1)[0]
            span, request[TRACE_CONTEXT] = self.tracer.start_server(self._span_name(), request.headers, attrs)
        started = time.perf_counter()
        status, flags = 0, "DC"  # stays so if the caller disconnects before we answer
        try:
            response = await _run_app(handler, request)
            status, flags = response.status, NO_FLAGS
        finally:
            if self.alive:
                elapsed_ms = (time.perf_counter() - started) * 1000.0
                labels = destination_labels(self.identity, peer, str(status), flags)
                if shadow:
                    labels["destination_service"] += SHADOW_SUFFIX
                self.stats.record(labels, elapsed_ms)
            if span is not None:
                WorkloadTracer.finish(span, status, flags)
        response.headers.update(peer_headers(self.identity))
        return response

    async def call(self, service: str, path: str, inbound: web.Request | None = None) -> Outcome:
        """GET `path` on `service` (e.g. "reviews") through this sidecar."""
        headers = peer_headers(self.identity)
        if inbound is not None and REQUEST_ID in inbound:
            headers[REQUEST_ID_HEADER] = inbound[REQUEST_ID]
        if inbound is not None:
            headers.update({h: inbound.headers[h] for h in PROPAGATED_HEADERS if h in inbound.headers})
        pick = self.routes.route(service, self._rng, path, {k.lower(): v for k, v in headers.items()})
        cluster = pick.cluster
        if pick.mirror is not None:
            self._shadow(pick.mirror, path, headers)
        span = None
        if self.tracer is not None:
            parent = inbound.get(TRACE_CONTEXT) if inbound is not None else None
            span, ctx = self.tracer.start_client(self._span_name(cluster), parent, self._client_attrs(cluster, path))
            WorkloadTracer.inject(ctx, headers)
        started = time.perf_counter()
        outcome = Outcome(0, "DC")  # kept if our own caller goes away and cancels this call
        try:
            outcome = await self._dispatch(cluster, path, headers) if pick.flag is None else _no_route(pick.flag)
        finally:
            if self.alive:
                elapsed_ms = (time.perf_counter() - started) * 1000.0
                labels = source_labels(
                    self.identity,
                    cluster.service,
                    outcome.peer,
                    outcome.peer_principal,
                    str(outcome.status),
                    outcome.flags,
                )
                self.stats.record(labels, elapsed_ms)
            if span is not None:
                WorkloadTracer.finish(span, outcome.status, outcome.flags)
        return outcome

    def _shadow(self, cluster: Cluster, path: str, headers: dict[str, str]) -> None:
        """Send a mirrored copy in the background; its outcome is dropped (Envoy's request mirroring)."""
        endpoints = self.routes.endpoints(cluster)
        if not endpoints or len(self._shadows) >= MAX_SHADOWS or self._session is None:
            return
        copy = {**headers, "Host": shadow_authority(cluster.service.fqdn, SERVICE_PORT)}
        task = asyncio.get_running_loop().create_task(self._send(endpoints[0], path, copy))
        self._shadows.add(task)
        task.add_done_callback(self._shadows.discard)

    async def _dispatch(self, cluster: Cluster, path: str, headers: dict[str, str]) -> Outcome:
        async with self.policy.admit(cluster) as rejection:
            if rejection is not None:
                return Outcome(503, rejection, b"upstream connect error or disconnect/reset before headers. overflow")
            endpoint = self.policy.choose(cluster, self.routes.endpoints(cluster))
            if endpoint is None:
                return Outcome(503, "UH", b"no healthy upstream")
            outcome = await self._send(endpoint, path, headers)
            self.policy.report(cluster, endpoint, outcome)
            return outcome

    async def _send(self, endpoint: Endpoint, path: str, headers: dict[str, str]) -> Outcome:
        if self._session is None:
            raise RuntimeError("sidecar not started")
        principal = endpoint.identity.principal
        try:
            timeout = aiohttp.ClientTimeout(total=self.route_timeout_s)
            async with self._session.get(endpoint.url(path), headers=headers, timeout=timeout) as resp:
                body = await resp.read()
                return Outcome(resp.status, NO_FLAGS, body, read_peer(resp.headers), principal)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError):
            return Outcome(503, "UF", UPSTREAM_RESET_BODY + b". reset reason: connection failure")
        except TimeoutError:
            return Outcome(504, "UT", b"upstream request timeout", peer_principal=principal)
        except aiohttp.ClientError:
            return Outcome(503, "UC", UPSTREAM_RESET_BODY + b". reset reason: connection termination", None, principal)

    def _span_name(self, cluster: Cluster | None = None) -> str:
        service = cluster.service if cluster is not None else self.identity.service
        return f"{service.fqdn}:{SERVICE_PORT}/*"

    def _client_attrs(self, cluster: Cluster, path: str) -> dict[str, str]:
        return {
            "http.request.method": "GET",
            "url.full": f"http://{cluster.service.fqdn}:{SERVICE_PORT}{path}",
            "server.address": cluster.service.fqdn,
            "peer.service": cluster.service.name,
            "upstream_cluster": cluster.name,
        }


def _no_route(flag: str) -> Outcome:
    """A request the caller's routes cannot place: no route (404 NR) or an undefined subset (503 NC)."""
    return Outcome(404 if flag == "NR" else 503, flag)


async def _run_app(handler: Handler, request: web.Request) -> web.StreamResponse:
    """The application behind the sidecar; its exceptions become the status codes a client would see."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        return web.json_response({"error": exc.reason}, status=exc.status)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("demo app %s failed", request.path)
        return web.json_response({"error": "internal error"}, status=500)
