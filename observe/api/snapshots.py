"""Incident review endpoints: diff, snapshots (create, list, read, HTML report) and annotations.

POST /api/v1/snapshots takes a JSON object {title, window?, at?, namespace?, graph?, notes?, compare?} where
`compare` is a list (at most MAX_COMPARES) of {service, baseline, canary, namespace?}; it answers 201 with the
summary and a Location header. Snapshots are off unless the server has a data dir (501 `not_enabled`, with
how to enable them). Creating one needs no write credentials (it changes nothing in the mesh) but the body must
be application/json, which a cross-site form cannot send without a CORS preflight that observe never answers;
the body is read as the edit endpoints read theirs (api/edits.py: 64 KiB, read to its end), refusals are 400.
Creations are bounded (services/snapshots.py): 429 with Retry-After past 6 a minute, 409 once the store holds
1,000 snapshots, 413 for a document over 4 MiB. The HTML report carries its Content-Security-Policy as a
header as well as in the page.
"""

from __future__ import annotations

import asyncio
from dataclasses import fields
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import MultiDict

from observe.actions.audit import AuditLog
from observe.api import keys, params
from observe.api.compare import COMPARE_SERVICE, compare_request
from observe.api.diff import diff_handler
from observe.api.edits import read_json_object
from observe.errors import BadQuery, TooManyRequests
from observe.model.durations import format_duration
from observe.model.ids import GraphType, parse_namespaces
from observe.services.compare import CompareRequest
from observe.services.report import render_stored
from observe.services.snapshot_store import SnapshotStore, SnapshotSummary
from observe.services.snapshots import SnapshotRequest, SnapshotService

SNAPSHOTS = web.AppKey("snapshots", SnapshotService)
MAX_TITLE = 200
MAX_NOTES = 10_000
MAX_COMPARES = 5
MAX_LIST = 500
DEFAULT_ANNOTATION_RANGE_S = 3600.0
BODY_FIELDS = {"title", "window", "at", "namespace", "graph", "notes", "compare"}


def _links(snapshot_id: str) -> dict[str, str]:
    base = f"/api/v1/snapshots/{snapshot_id}"
    return {"self": base, "report": f"{base}/report.html"}


def _text(body: dict[str, Any], name: str, limit: int, *, required: bool = False) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise BadQuery(f"{name} must be a string", field=name)
    value = value.strip()
    if required and not value:
        raise BadQuery(f"{name} is required", field=name)
    if len(value) > limit:
        raise BadQuery(f"{name} is longer than {limit} characters", field=name)
    return value


def _compares(body: dict[str, Any], namespaces: frozenset[str], window_s: float, at: float, now: float
              ) -> tuple[CompareRequest, ...]:  # fmt: skip
    items = body.get("compare", [])
    if not isinstance(items, list) or len(items) > MAX_COMPARES or not all(isinstance(i, dict) for i in items):
        raise BadQuery(f"compare must be a list of at most {MAX_COMPARES} objects", field="compare")
    default_ns = next(iter(namespaces)) if len(namespaces) == 1 else ""
    out = []
    for item in items:
        unknown = sorted(set(item) - {"service", "baseline", "canary", "namespace"})
        if unknown or not all(isinstance(v, str) for v in item.values()):
            raise BadQuery("compare items are {service, baseline, canary, namespace?} of strings", field="compare")
        query = MultiDict({"namespace": item.get("namespace", default_ns), "window": format_duration(window_s),
                           "at": repr(at), **{k: v for k, v in item.items() if k != "namespace"}})  # fmt: skip
        out.append(compare_request(query, now))
    return tuple(out)


def snapshot_request(body: dict[str, Any], *, default_window_s: float, now: float) -> SnapshotRequest:
    query = MultiDict({k: str(body[k]) for k in ("window", "at", "namespace", "graph") if body.get(k) is not None})
    window_s = params.window(query.get("window"), default_window_s)
    at = params.instant(query.get("at"), now)
    at = now if at is None else at  # pinned, so everything in the snapshot is of one window
    namespaces = parse_namespaces(query.get("namespace"))
    return SnapshotRequest(
        title=_text(body, "title", MAX_TITLE, required=True),
        window_s=window_s,
        at=at,
        graph=GraphType.parse(query.get("graph") or GraphType.VERSIONED_APP.value),
        namespaces=namespaces,
        notes=_text(body, "notes", MAX_NOTES),
        compares=_compares(body, namespaces, window_s, at, now),
    )


async def create(request: web.Request) -> web.Response:
    service = request.app[SNAPSHOTS]
    service.enabled_store()
    body = await read_json_object(request, BODY_FIELDS, invalid=BadQuery)
    now = request.app[keys.CLOCK]()
    query = snapshot_request(body, default_window_s=request.app[keys.SETTINGS].window_s, now=now)
    try:
        document = await service.create(query)
    except TooManyRequests as exc:
        return web.json_response(exc.to_wire(), status=exc.status,
                                 headers={"Retry-After": str(exc.extra["retry_after_s"])})  # fmt: skip
    summary = {f.name: document[f.name] for f in fields(SnapshotSummary)}
    answer = {**summary, "links": _links(document["id"]), "missing": document["missing"]}
    return web.json_response(answer, status=201, headers={"Location": _links(document["id"])["self"]})


async def listing(request: web.Request) -> web.Response:
    store = request.app[SNAPSHOTS].enabled_store()
    params.reject_unknown(request.query, {"limit"})
    raw = params.single(request.query, "limit") or "100"
    if not raw.isdecimal() or not 1 <= int(raw) <= MAX_LIST:
        raise BadQuery(f"invalid limit '{raw[:20]}': an integer from 1 to {MAX_LIST}", field="limit")
    summaries = await store.summaries(limit=int(raw))
    return web.json_response({"snapshots": [{**s.to_wire(), "links": _links(s.id)} for s in summaries]})


async def read(request: web.Request) -> web.Response:
    store = request.app[SNAPSHOTS].enabled_store()
    text = await store.document(request.match_info["snapshot_id"])
    return web.Response(text=text, content_type="application/json")


async def report(request: web.Request) -> web.Response:
    store = request.app[SNAPSHOTS].enabled_store()
    text = await store.document(request.match_info["snapshot_id"])
    page, csp = await asyncio.to_thread(render_stored, text)  # up to 4 MiB of JSON, plotly.js inlined: off the loop
    disposition = f'inline; filename="observe-snapshot-{request.match_info["snapshot_id"]}.html"'
    return web.Response(text=page, content_type="text/html",
                        headers={"Content-Disposition": disposition, "Content-Security-Policy": csp})  # fmt: skip


async def list_annotations(request: web.Request) -> web.Response:
    query = request.query
    params.reject_unknown(query, {"from", "to", "namespace"})
    now = request.app[keys.CLOCK]()
    to, since = (params.instant(params.single(query, name), now, name=name) for name in ("to", "from"))
    end = now if to is None else to
    start = end - DEFAULT_ANNOTATION_RANGE_S if since is None else since
    if not start < end:
        raise BadQuery("from must be before to", field="from")
    if end - start > params.MAX_WINDOW_S:
        raise BadQuery("from..to spans more than 30d", field="from")
    namespaces = parse_namespaces(params.single(query, "namespace"))
    return web.json_response(await request.app[SNAPSHOTS].annotations(start, end, namespaces))


def register_incident_routes(app: web.Application) -> None:
    """After the topology, series and compare services are on the app."""
    settings = app[keys.SETTINGS]
    # the audit log when edits are on, or when one was written (by `observe edit` or an earlier server)
    audit = settings.audit_db and (settings.rules_dir or settings.kube or Path(settings.audit_db).exists())
    app[SNAPSHOTS] = SnapshotService(
        topology=app[keys.TOPOLOGY],
        series=app[keys.SERIES],
        store=SnapshotStore(settings.data_dir) if settings.data_dir else None,
        compare=app.get(COMPARE_SERVICE),
        audit=AuditLog(settings.audit_db) if audit else None,
        clock=app[keys.CLOCK],
    )
    app.router.add_get("/api/v1/diff", diff_handler)
    app.router.add_get("/api/v1/annotations", list_annotations)
    app.router.add_post("/api/v1/snapshots", create)
    app.router.add_get("/api/v1/snapshots", listing)
    app.router.add_get("/api/v1/snapshots/{snapshot_id}", read)
    app.router.add_get("/api/v1/snapshots/{snapshot_id}/report.html", report)
