"""Mesh security endpoint: the effective PeerAuthentication mode of namespaces (read-only).

`GET /api/v1/mesh/security?namespace=a,b` → `{"root_namespace": "istio-system", "namespaces": [{namespace, mode,
source, policy, exceptions}]}` (see actions/peer_authentication.py for the rules). The PeerAuthentications are
read through the edit applier — the Kubernetes API or the rules directory — one list per namespace asked for plus
the root namespace, concurrently; without `namespace`, one cluster-wide list and every namespace that holds a
policy. Without an applier (neither --rules-dir nor --kube) the answer is 501 `not_enabled`, saying how to
enable it. Reading needs no write credentials: it changes nothing.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from observe.actions.peer_authentication import ROOT_NAMESPACE, resolve
from observe.actions.ports import Applier
from observe.actions.resources import PEER_AUTHENTICATION, Obj
from observe.api.params import reject_unknown, single
from observe.errors import BadQuery, NotEnabled
from observe.model.ids import parse_namespaces

MAX_NAMESPACES = 50  # each is one list call to the Kubernetes API
ENABLE_HINT = ("PeerAuthentication modes are read where edits go, which is off on this server: start it with "
               "--rules-dir DIR or --kube (or OBSERVE_RULES_DIR / OBSERVE_KUBE) to enable them")  # fmt: skip


async def read_policies(applier: Applier, namespaces: frozenset[str]) -> list[Obj]:
    if not namespaces:
        return await applier.list(PEER_AUTHENTICATION, None)
    wanted = sorted(namespaces | {ROOT_NAMESPACE})
    lists = await asyncio.gather(*(applier.list(PEER_AUTHENTICATION, namespace) for namespace in wanted))
    return [obj for found in lists for obj in found]


def register_security_routes(app: web.Application, applier: Applier | None) -> None:
    async def mesh_security(request: web.Request) -> web.Response:
        reject_unknown(request.query, {"namespace"})
        namespaces = parse_namespaces(single(request.query, "namespace"))
        if len(namespaces) > MAX_NAMESPACES:
            raise BadQuery(f"at most {MAX_NAMESPACES} namespaces, got {len(namespaces)}", field="namespace")
        if applier is None:
            raise NotEnabled(ENABLE_HINT, field="applier")
        policies = await read_policies(applier, namespaces)
        holding = {str((p.get("metadata") or {}).get("namespace", "")) for p in policies}
        wanted = namespaces or holding | {ROOT_NAMESPACE}
        resolved = resolve(policies, wanted)
        return web.json_response({"root_namespace": ROOT_NAMESPACE, "namespaces": [r.to_wire() for r in resolved]})

    app.router.add_get("/api/v1/mesh/security", mesh_security)
