"""Diff use case: two past instants of the same (graph, namespaces, window) → the ranked diff (model.diff).

Both topologies are read through the TopologyService (so the history cache and its single-flight apply) at
the same time. A source that fails for one side does not fail the answer: its errors are listed in `missing`
with the side, and that side counts as incomplete (see model.diff) when its rates could not be read.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from observe.model.diff import diff_to_wire, diff_topologies
from observe.model.ids import GraphType
from observe.model.topology import Topology
from observe.services.topology import TopologyRequest, TopologyService


@dataclass(frozen=True, slots=True)
class DiffRequest:
    graph: GraphType
    namespaces: frozenset[str]
    window_s: float
    a_at: float
    b_at: float


def rates_read(topology: Topology) -> bool:
    """False when the side's rates query failed (its topology is then empty, not a mesh without traffic)."""
    # MissingSource (model/topology.py) has no field saying which query failed; services/refresh.py `_missing`
    # names it as the error's prefix ("rates: ..."), the contract read here. A structured field would be
    # cleaner but changes the model and the refresh loop for this one reader.
    return not any(m.error.startswith("rates") for m in topology.missing)


async def diff(service: TopologyService, request: DiffRequest) -> dict[str, Any]:
    a, b = await asyncio.gather(*(
        service.topology(TopologyRequest(request.graph, request.namespaces, request.window_s, at))
        for at in (request.a_at, request.b_at)
    ))  # fmt: skip
    result = diff_topologies(a, b, a_complete=rates_read(a), b_complete=rates_read(b))
    missing = [{"side": side, "source": m.source, "error": m.error} for side, t in (("a", a), ("b", b))
               for m in t.missing]  # fmt: skip
    return {
        "graph": request.graph.value,
        "window_s": request.window_s,
        "namespaces": sorted(request.namespaces),
        "a": {"at": request.a_at, "as_of": a.as_of, "complete": rates_read(a)},
        "b": {"at": request.b_at, "as_of": b.as_of, "complete": rates_read(b)},
        "missing": missing,
        **diff_to_wire(result),
    }
