"""The Jaeger path gives the same edges as the OTLP path for the same spans.

The spans the demo mesh sent over OTLP are served back by FakeJaegerQuery in Jaeger's own formats (API v3 and,
with v3 off, v1); a fresh TraceService polls it through JaegerSource, pairs them, and must find the same edges
with the same request counts as the service fed by OTLP."""

from __future__ import annotations

import math
import time

import pytest

from observe.api import keys
from observe.model.ids import GraphType
from observe.model.spans import SpanRecord
from observe.model.trace_store import TraceQuery
from observe.services.traces import JaegerPolling, TraceService
from observe.sources.jaeger import JaegerSource
from tests.fakes.jaeger import FakeJaegerQuery
from tests.integration.stack import Stack

SLOT_S = 10


def stored_spans(stack: Stack, start: float, end: float) -> list[SpanRecord]:
    """Every span of the traces that lie wholly inside [start, end), as the OTLP path stored them."""

    async def read() -> list[SpanRecord]:  # on the stack's loop, where the trace state lives
        store = stack.app[keys.TRACES].store
        spans: list[SpanRecord] = []
        for summary in store.search(TraceQuery(start, end, limit=1_000_000)):
            if start <= summary.start_s and summary.start_s + summary.duration_ms / 1000 < end:
                spans.extend(store.get(summary.trace_id) or [])
        return spans

    return stack.run(read())


@pytest.mark.parametrize("v3", [True, False])
async def test_jaeger_and_otlp_paths_agree(stack: Stack, v3: bool) -> None:
    end = math.floor((time.time() - 15) / SLOT_S) * SLOT_S
    start = end - 20
    spans = stored_spans(stack, start, end)
    assert len(spans) > 500
    otlp_side = stack.app[keys.TRACES]  # read-only, from this thread: a dict snapshot is enough
    async with FakeJaegerQuery(spans, v3=v3, base_path="/jaeger") as jaeger:
        source = JaegerSource(jaeger.url)  # the fake serves under /jaeger, as Istio's addon does
        polled = TraceService(clock=lambda: end + 5)
        try:
            added = await polled.poll(source, JaegerPolling(lag_s=5, limit=100_000, first_window_s=30))
        finally:
            await source.close()
        polled.expire()
    assert added == len(spans) and polled.source_errors == {}
    for graph in (GraphType.VERSIONED_APP, GraphType.SERVICE):
        got = {k: (v.count, v.errors) for k, v in polled.edge_stats(graph, start, end).items()}
        assert got == _replayed(spans, graph, start, end), graph
        assert set(got) <= set(otlp_side.edge_stats(graph, start, end))


def _replayed(spans: list[SpanRecord], graph: GraphType, start: float, end: float) -> dict[object, tuple[int, int]]:
    """The OTLP side's answer for exactly these traces: the same spans fed straight to a trace service."""
    replay = TraceService(clock=lambda: end + 5)
    replay.ingest(spans, origin="otlp")
    replay.expire()
    return {k: (v.count, v.errors) for k, v in replay.edge_stats(graph, start, end).items()}
