"""Traffic-edit endpoints of /api/v1: a service's VirtualService and DestinationRule, and release strategies.

`GET /api/v1/virtual-services/{namespace}/{host}` → `{"object": VirtualService, "destination_rule": DR | null}`
(404 when there is no VirtualService). `POST /api/v1/traffic/{namespace}/{service}` with
`{"strategy": "weights" | "take-over" | "roll-back" | "blue-green" | "mirror" | "match", ...}`:
- weights: `"weights": {"v1": 80, "v2": 20}` (integers summing to 100);
- take-over, blue-green: `"version": "v2"`; roll-back: optional `"version"` (the baseline);
- mirror: `"version": "v3", "mirror_percent": 10` (0 turns mirroring off);
- match: `"version": "v2", "match": {"kind": "header" | "cookie" | "uri", "name": "end-user",
  "op": "exact" | "prefix" | "regex", "value": "jason"}`;
plus `versions` (the service's version labels, when the DestinationRule does not list them all), `dry_run`
and `reason`. The answer: strategy, dry_run, applied, objects (by kind), diff (both objects), audit_ids,
revert_order and the per-object edits (see services/traffic.py). Writes pass the same WriteAuth as
DestinationRule writes, denials audited, bodies read as in edits.py.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from observe.actions.audit import Actor
from observe.actions.traffic import TrafficChange
from observe.actions.traffic_match import RequestMatch
from observe.api.auth import WriteAuth
from observe.api.edits import EditHandlers, read_json_object, typed, write_options
from observe.errors import InvalidEdit, NotFound
from observe.services.traffic import TrafficService

TRAFFIC_FIELDS = {"strategy", "weights", "version", "mirror_percent", "match", "versions", "dry_run", "reason"}
MATCH_FIELDS = {"kind", "name", "op", "value"}


def traffic_change(body: dict[str, Any]) -> TrafficChange:
    weights = typed(body, "weights", dict, None) or {}
    versions = typed(body, "versions", list, None) or []
    if not all(isinstance(v, str) for v in versions):
        raise InvalidEdit("versions: a list of version labels", field="versions")
    match = typed(body, "match", dict, None)
    if match is not None:
        for name in match:
            if name not in MATCH_FIELDS:
                raise InvalidEdit(f"match.{name}: unknown field; allowed are {', '.join(sorted(MATCH_FIELDS))}",
                                  field=f"match.{name}")  # fmt: skip
        parts = {k: typed(match, k, str, None) for k in MATCH_FIELDS}
        match = RequestMatch(kind=parts["kind"] or "", value=parts["value"] or "", name=parts["name"] or "",
                             op=parts["op"] or ("prefix" if parts["kind"] == "uri" else "exact"))  # fmt: skip
    return TrafficChange(strategy=typed(body, "strategy", str, None) or "", weights=weights,
                         version=typed(body, "version", str, None),
                         mirror_percent=typed(body, "mirror_percent", (int, float), None), match=match,
                         versions=tuple(versions))  # fmt: skip


class TrafficHandlers:
    def __init__(self, service: TrafficService) -> None:
        self.service = service

    async def get_virtual_service(self, request: web.Request) -> web.Response:
        ns, host = request.match_info["namespace"], request.match_info["host"]
        objects = await self.service.get(ns, host)
        if objects["VirtualService"] is None:
            raise NotFound(f"no VirtualService for {host!r} in namespace {ns!r}", field="host")
        return web.json_response({"object": objects["VirtualService"], "destination_rule": objects["DestinationRule"]})

    async def post_traffic(self, request: web.Request, actor: Actor) -> web.Response:
        body = await read_json_object(request, TRAFFIC_FIELDS)
        result = await self.service.edit(
            request.match_info["namespace"], request.match_info["service"], traffic_change(body), actor,
            **write_options(body),
        )  # fmt: skip
        return web.json_response(result.to_wire())


def register_traffic_routes(app: web.Application, service: TrafficService, auth: WriteAuth) -> None:
    handlers = TrafficHandlers(service)
    guard = EditHandlers(service.edits, auth)

    def target(r: web.Request) -> str:
        return f"VirtualService/{r.match_info['namespace'][:63]}/{r.match_info['service'][:253]}"

    app.router.add_get("/api/v1/virtual-services/{namespace}/{host}", handlers.get_virtual_service)
    app.router.add_post("/api/v1/traffic/{namespace}/{service}", guard.write(handlers.post_traffic, target))
