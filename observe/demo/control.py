"""The demo mesh's control endpoint: a small JSON API (its own aiohttp app on a loopback port) to set
faults, the load and route weights while the mesh runs, and to read the load generator's counters.

    GET    /mesh                 entry URL, scrape targets, metrics path, workloads
    GET    /faults               current fault per workload
    PUT    /faults/{workload}    {"error_ratio":0.2,"error_code":500,"latency_ms":0,"down":false}
    DELETE /faults/{workload}    clear the fault
    PUT    /load                 {"rps": 20}
    GET    /weights/{service}    PUT /weights/{service} {"v1":1,"v2":1,"v3":0}
    GET    /stats                load generator counters
`{workload}` may also be an app name (e.g. `reviews`), meaning all of its versions.
Errors use the project's JSON error shape: 400 for bad input, 404 for an unknown workload or service.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from aiohttp import web

from observe.demo.faults import Fault, fault_from_wire
from observe.demo.loadgen import LoadStats
from observe.demo.sidecar import Handler
from observe.errors import BadQuery, ObserveError

MAX_BODY_BYTES = 64 * 1024


class MeshControl(Protocol):
    """What the control endpoint needs from the mesh (DemoMesh implements it)."""

    def describe(self) -> dict[str, Any]: ...
    def faults(self) -> dict[str, Fault]: ...
    def set_fault(self, workload: str, fault: Fault | None) -> None: ...
    async def settle(self) -> None: ...
    def set_rps(self, rps: float) -> None: ...
    def weights(self, service: str) -> dict[str, float]: ...
    def set_weights(self, service: str, weights: dict[str, float]) -> None: ...
    def load_stats(self) -> LoadStats: ...


MESH = web.AppKey("mesh", MeshControl)


def build_control_app(mesh: MeshControl) -> web.Application:
    app = web.Application(middlewares=[_errors], client_max_size=MAX_BODY_BYTES)
    app[MESH] = mesh
    app.router.add_get("/mesh", _describe)
    app.router.add_get("/faults", _get_faults)
    app.router.add_put("/faults/{workload}", _put_fault)
    app.router.add_delete("/faults/{workload}", _delete_fault)
    app.router.add_put("/load", _put_load)
    app.router.add_get("/weights/{service}", _get_weights)
    app.router.add_put("/weights/{service}", _put_weights)
    app.router.add_get("/stats", _get_stats)
    return app


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ObserveError as exc:
        return web.json_response(exc.to_wire(), status=exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = "not_found" if exc.status == 404 else "bad_request"
        return web.json_response({"error": {"code": code, "message": exc.reason}}, status=exc.status)


async def _json_body(request: web.Request) -> Any:
    try:
        return json.loads(await request.read())
    except ValueError as exc:
        raise BadQuery(f"request body is not valid JSON: {exc}", field="body") from exc


def _faults_wire(mesh: MeshControl) -> dict[str, Any]:
    return {"faults": {name: fault.to_wire() for name, fault in mesh.faults().items()}}


async def _describe(request: web.Request) -> web.Response:
    return web.json_response(request.app[MESH].describe())


async def _get_faults(request: web.Request) -> web.Response:
    return web.json_response(_faults_wire(request.app[MESH]))


async def _put_fault(request: web.Request) -> web.Response:
    mesh = request.app[MESH]
    fault = fault_from_wire(await _json_body(request))
    mesh.set_fault(request.match_info["workload"], fault)
    await mesh.settle()  # so the answer means the workload is really down/up
    return web.json_response(_faults_wire(mesh))


async def _delete_fault(request: web.Request) -> web.Response:
    mesh = request.app[MESH]
    mesh.set_fault(request.match_info["workload"], None)
    await mesh.settle()
    return web.json_response(_faults_wire(mesh))


async def _put_load(request: web.Request) -> web.Response:
    body = await _json_body(request)
    if not isinstance(body, dict) or set(body) != {"rps"}:
        raise BadQuery('expected {"rps": <number>}', field="rps")
    try:
        request.app[MESH].set_rps(body["rps"])
    except ValueError as exc:
        raise BadQuery(str(exc), field="rps") from exc
    return web.json_response({"rps": float(body["rps"])})


async def _get_weights(request: web.Request) -> web.Response:
    service = request.match_info["service"]
    return web.json_response({"service": service, "weights": request.app[MESH].weights(service)})


async def _put_weights(request: web.Request) -> web.Response:
    mesh = request.app[MESH]
    service = request.match_info["service"]
    body = await _json_body(request)
    if not isinstance(body, Mapping):
        raise BadQuery('expected {"<version>": <weight>, ...}', field="body")
    mesh.set_weights(service, dict(body))
    return web.json_response({"service": service, "weights": mesh.weights(service)})


async def _get_stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[MESH].load_stats().to_wire())
