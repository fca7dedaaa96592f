"""Incident records: snapshots of a window (saved, immutable) and the annotations every time series can show.

A snapshot pins its instant (`at`; the API passes now when none is given) so everything in it describes the same window:
the topology there, the time series of its busiest edges over the window (at most MAX_SERIES_EDGES, by rps;
the rest are counted in `series_omitted`), the canary comparisons asked for, the audit entries whose time
falls in the window (when an audit log is configured; null otherwise) and the user's notes. Sources that fail
leave a `missing` entry instead of failing the snapshot. Annotations list the applied edits and reverts of
the audit log and the saved snapshots whose instant lies in a time range, oldest first. Audit entries are read
by time (`AuditLog.entries_between`, indexed), at most MAX_AUDIT_ENTRIES per window.

Creating a snapshot needs no credentials but costs Prometheus queries and disk, so it is bounded: at most
MAX_CREATIONS_PER_MINUTE creations in any 60 s (in this process; 429 with the seconds to wait), besides the
store's own caps on document size and count (services/snapshot_store.py).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from observe.actions.audit import AuditEntry, AuditLog, Result
from observe.errors import NotEnabled, NotFound, ObserveError, TooManyRequests
from observe.model.ids import GraphType
from observe.model.topology import Topology
from observe.model.wire import topology_to_wire
from observe.services.compare import CompareRequest, CompareService
from observe.services.series import SeriesRequest, SeriesService
from observe.services.snapshot_store import SnapshotStore, SnapshotSummary, new_id
from observe.services.topology import TopologyRequest, TopologyService

FORMAT_VERSION = 1
MAX_SERIES_EDGES = 40
SERIES_CONCURRENCY = 4
MAX_AUDIT_ENTRIES = 1000  # audit entries (and snapshots) listed per window
MAX_CREATIONS_PER_MINUTE = 6
RATE_WINDOW_S = 60.0
ENABLE_HINT = "snapshots are off on this server: start it with --data-dir DIR (or OBSERVE_DATA_DIR) to enable them"


@dataclass(frozen=True, slots=True)
class SnapshotRequest:
    title: str
    window_s: float
    at: float  # the window's end, pinned by the caller
    graph: GraphType = GraphType.VERSIONED_APP
    namespaces: frozenset[str] = frozenset()
    notes: str = ""
    compares: tuple[CompareRequest, ...] = ()


def audit_namespace(target: str) -> str:
    """Audit targets are Kind/namespace/name."""
    parts = target.split("/")
    return parts[1] if len(parts) == 3 else ""


def _in_scope(entry: AuditEntry, namespaces: frozenset[str]) -> bool:
    return not namespaces or audit_namespace(entry.target) in namespaces


@dataclass
class SnapshotService:
    topology: TopologyService
    series: SeriesService
    store: SnapshotStore | None = None
    compare: CompareService | None = None
    audit: AuditLog | None = None
    clock: Callable[[], float] = time.time
    _series_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(SERIES_CONCURRENCY))
    _created: deque[float] = field(default_factory=deque)  # when the creations of the last RATE_WINDOW_S began

    def enabled_store(self) -> SnapshotStore:
        if self.store is None:
            raise NotEnabled(ENABLE_HINT, field="data_dir")
        return self.store

    async def create(self, request: SnapshotRequest) -> dict[str, Any]:
        """Build, save and return the document."""
        store = self.enabled_store()
        self._admit()
        at = request.at
        topo = await self.topology.topology(TopologyRequest(request.graph, request.namespaces, request.window_s, at))
        series, omitted, missing = await self._series(request, topo)
        summary = SnapshotSummary(new_id(), self.clock(), at, request.window_s, request.title, request.graph.value,
                                  sorted(request.namespaces))  # fmt: skip
        document = {
            **summary.to_wire(),
            "version": FORMAT_VERSION,
            "notes": request.notes,
            "topology": topology_to_wire(topo),
            "series": series,
            "series_omitted": omitted,
            "compare": await self._compares(request.compares),
            "audit": await self._audit(at - request.window_s, at, request.namespaces),
            "missing": [{"source": m.source, "error": m.error} for m in topo.missing] + missing,
        }
        await store.save(summary, document)
        return document

    def _admit(self) -> None:
        """Count one creation, or refuse it when MAX_CREATIONS_PER_MINUTE began in the last RATE_WINDOW_S."""
        now = self.clock()
        while self._created and self._created[0] <= now - RATE_WINDOW_S:
            self._created.popleft()
        if len(self._created) >= MAX_CREATIONS_PER_MINUTE:
            wait = max(1, math.ceil(self._created[0] + RATE_WINDOW_S - now))
            raise TooManyRequests(f"at most {MAX_CREATIONS_PER_MINUTE} snapshots a minute: retry in {wait}s",
                                  field="snapshots", extra={"retry_after_s": wait})  # fmt: skip
        self._created.append(now)

    async def _series(self, request: SnapshotRequest, topo: Topology
                      ) -> tuple[list[dict[str, Any]], int, list[dict[str, str]]]:  # fmt: skip
        edges = sorted(topo.graph.edges, key=lambda e: (-topo.edge_stats(*e).rps, e))
        chosen = edges[:MAX_SERIES_EDGES]

        async def one(source: str, target: str) -> dict[str, Any]:
            query = SeriesRequest(request.graph, request.window_s, request.at, None,
                                  source=topo.node_key(source), target=topo.node_key(target))  # fmt: skip
            async with self._series_slots:
                try:
                    return await self.series.series(query)
                except NotFound:  # no requests on it over the window (only at its end): no chart, nothing missing
                    return {}
                except ObserveError as exc:  # Prometheus failed: recorded, not fatal
                    return {"source": source, "target": target, "error": exc.message}

        answers = await asyncio.gather(*(one(s, t) for s, t in chosen))
        missing = [{"source": "prometheus", "error": f"series {a['source']} -> {a['target']}: {a['error']}"}
                   for a in answers if "error" in a]  # fmt: skip
        return [a for a in answers if "series" in a], len(edges) - len(chosen), missing

    async def _compares(self, requests: tuple[CompareRequest, ...]) -> list[dict[str, Any]]:
        if self.compare is None:
            return []
        out = []
        for request in requests:
            try:
                out.append(await self.compare.compare(request))
            except ObserveError as exc:
                out.append({"namespace": request.namespace, "service": request.service, "error": exc.message})
        return out

    async def _audit(self, start: float, end: float, namespaces: frozenset[str]) -> list[dict[str, Any]] | None:
        if self.audit is None:
            return None
        entries = await self.audit.entries_between(start, end, limit=MAX_AUDIT_ENTRIES)
        return [e.to_wire() for e in reversed(entries) if _in_scope(e, namespaces)]

    async def annotations(self, start: float, end: float, namespaces: frozenset[str]) -> dict[str, Any]:
        notes: list[dict[str, Any]] = []
        if self.audit is not None:
            for e in await self.audit.entries_between(start, end, limit=MAX_AUDIT_ENTRIES):
                if e.result is Result.APPLIED and _in_scope(e, namespaces):
                    notes.append({"time": e.ts, "kind": e.action, "title": f"{e.action} {e.target} by {e.actor}",
                                  "target": e.target, "id": e.id, "link": f"/api/v1/audit?target={e.target}"},
                                 )  # fmt: skip
        if self.store is not None:
            for s in await self.store.summaries(start=start, end=end, limit=MAX_AUDIT_ENTRIES):
                if not namespaces or not s.namespaces or namespaces & set(s.namespaces):
                    notes.append({"time": s.at, "kind": "snapshot", "title": s.title, "target": ",".join(s.namespaces),
                                  "id": s.id, "link": f"/api/v1/snapshots/{s.id}"})  # fmt: skip
        notes.sort(key=lambda n: (n["time"], n["kind"], str(n["id"])))
        return {"from": start, "to": end, "namespaces": sorted(namespaces), "annotations": notes,
                "sources": {"audit": self.audit is not None, "snapshots": self.store is not None}}  # fmt: skip
