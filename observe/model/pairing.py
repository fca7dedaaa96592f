"""Client/server span pairing: spans in, one PairedRequest per mesh hop out (as Tempo's service graphs).

Algorithm. A hop is a CLIENT span (the caller's sidecar or SDK) and its child SERVER span (the callee's):
`server.parent_id == client.span_id` in the same trace. PRODUCER/CONSUMER pair the same way. Spans arrive in
any order, so each waits in a bounded store keyed by (trace id, client span id): a CLIENT span under its own
id, a SERVER span under its parent's id. When the other half arrives the hop completes and is emitted at once.

- Retries: one CLIENT span may have several SERVER children (Envoy retries inside one client span). We count
  the *caller's request*: one PairedRequest per client span, latency = the client span's duration (it covers
  every attempt), error = the client's outcome, `attempts` = server spans seen so far. Its server side is
  the latest-starting child present (the attempt that answered). A SERVER child arriving after its client
  was paired is counted in `retries`, not emitted again (a completed client id is remembered for the TTL).
- Unmatched CLIENT span after `ttl_s`: a request to a virtual node named by its peer (upstream cluster host,
  peer.service, server.address …): the callee is outside the mesh, untraced, or was never reached (UH, UO).
- SERVER span without a parent: emitted at once as a request from an unknown caller (traffic entering the
  mesh, or an untraced caller). A SERVER span whose parent never arrives as a CLIENT within the TTL is the
  same. If its parent turns out to be a non-CLIENT span of the *same* service (an SDK span nested under the
  sidecar's), it is in-process, not a hop: dropped and counted as `nested`; of another service: an unknown
  caller at once (the caller made no CLIENT span).
- In-process CLIENT nesting (an SDK client span whose child is the sidecar's client span) is not a hop
  either: the outer span is dropped as `nested`; the inner one pairs with the server.
- Duplicates (same span id twice) are counted and ignored.

The store holds at most `max_items` waiting spans; when full, `add` first expires what is due, then drops
the new span and counts it in `dropped`. Expiry runs in arrival order (`now` should not go backwards; if it
does, later entries simply wait a little longer). Time is always an argument: nothing here reads a clock.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple, TypeVar

from observe.model.spans import Peer, SpanKind, SpanRecord

_CLIENT_KINDS = frozenset({SpanKind.CLIENT, SpanKind.PRODUCER})
_SERVER_KINDS = frozenset({SpanKind.SERVER, SpanKind.CONSUMER})
_Key = tuple[str, str]  # (trace id, span id)
_H = TypeVar("_H")


class PairKind(Enum):
    PAIRED = "paired"  # a client span and its server span
    VIRTUAL_PEER = "virtual_peer"  # a client span whose server never came: the callee is named by the peer
    UNKNOWN_CALLER = "unknown_caller"  # a server span with no client: the caller is unknown


class PairedRequest(NamedTuple):  # one per request on the ingest path: a NamedTuple, as SpanRecord
    kind: PairKind
    trace_id: str
    client: SpanRecord | None
    server: SpanRecord | None
    peer: Peer | None
    start_s: float
    latency_ms: float  # the client span's duration when there is one, else the server span's
    error: bool  # 5xx, Envoy's error flag, OTLP status ERROR, or no response (status 0)
    status_code: int | None
    attempts: int  # server spans seen for the client span when it was emitted (0 when none came)

    @classmethod
    def paired(cls, client: SpanRecord, servers: Sequence[SpanRecord]) -> PairedRequest:
        server = servers[0] if len(servers) == 1 else max(servers, key=lambda s: s.start_s)
        client_knows = client.status_code is not None or client.error
        return cls(
            PairKind.PAIRED, client.trace_id, client, server, client.peer, client.start_s, client.duration_ms,
            client.error if client_knows else server.error,
            client.status_code if client.status_code is not None else server.status_code,
            len(servers),
        )  # fmt: skip

    @classmethod
    def unanswered(cls, client: SpanRecord) -> PairedRequest:
        return cls(PairKind.VIRTUAL_PEER, client.trace_id, client, None, client.peer, client.start_s,
                   client.duration_ms, client.error, client.status_code, 0)  # fmt: skip

    @classmethod
    def from_unknown(cls, server: SpanRecord) -> PairedRequest:
        return cls(PairKind.UNKNOWN_CALLER, server.trace_id, None, server, None, server.start_s,
                   server.duration_ms, server.error, server.status_code, 1)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PairingCounters:
    paired: int = 0  # hops completed (client + server)
    expired_clients: int = 0  # client spans that waited out the TTL → virtual peer
    expired_servers: int = 0  # server spans that waited out the TTL → unknown caller
    roots: int = 0  # server spans without a parent (or with a non-client parent) → unknown caller at once
    retries: int = 0  # extra server spans of an already paired client span
    nested: int = 0  # in-process spans that are not hops
    duplicates: int = 0
    dropped: int = 0  # spans refused because the store was full
    ignored: int = 0  # INTERNAL / UNSPECIFIED spans
    pending: int = 0  # spans waiting now


class _Waiting:
    __slots__ = ("deadline", "spans")

    def __init__(self, deadline: float, span: SpanRecord) -> None:
        self.deadline = deadline
        self.spans = [span]


class Pairer:
    def __init__(self, ttl_s: float = 10.0, max_items: int = 10_000) -> None:
        if ttl_s <= 0 or max_items <= 0:
            raise ValueError("ttl_s and max_items must be positive")
        self.ttl_s = ttl_s
        self.max_items = max_items
        self._clients: OrderedDict[_Key, tuple[float, SpanRecord]] = OrderedDict()
        self._servers: OrderedDict[_Key, _Waiting] = OrderedDict()  # keyed by the parent (client) id
        self._done: OrderedDict[_Key, tuple[float, set[str]]] = OrderedDict()  # paired client → server ids
        self._locals: OrderedDict[_Key, tuple[float, str, str]] = OrderedDict()  # non-client span → service
        self._wrapped: OrderedDict[_Key, float] = OrderedDict()  # parents of client spans
        self._pending = 0
        self._counts: dict[str, int] = dict.fromkeys(PairingCounters.__dataclass_fields__, 0)

    @property
    def counters(self) -> PairingCounters:
        return PairingCounters(**{**self._counts, "pending": self._pending})

    def add(self, span: SpanRecord, now: float) -> list[PairedRequest]:
        """Feed one span; returns the requests it completes (and any that expired to make room)."""
        out = self.expire(now) if self._pending >= self.max_items else []
        deadline = now + self.ttl_s
        if span.kind in _CLIENT_KINDS:
            self._add_client(span, deadline, out)
        else:
            self._note_local(span, deadline, out)
            if span.kind in _SERVER_KINDS:
                self._add_server(span, deadline, out)
            else:
                self._count("ignored")
        return out

    def add_many(self, spans: Sequence[SpanRecord], now: float) -> list[PairedRequest]:
        out: list[PairedRequest] = []
        for span in spans:
            out.extend(self.add(span, now))
        return out

    def expire(self, now: float) -> list[PairedRequest]:
        """Emit what waited out the TTL: clients → virtual peers, servers → unknown callers."""
        out: list[PairedRequest] = []
        while self._clients and self._clients[next(iter(self._clients))][0] <= now:
            _, (_, client) = self._clients.popitem(last=False)
            self._pending -= 1
            self._count("expired_clients")
            out.append(PairedRequest.unanswered(client))
        while self._servers and self._servers[next(iter(self._servers))].deadline <= now:
            _, waiting = self._servers.popitem(last=False)
            self._pending -= len(waiting.spans)
            self._count("expired_servers", len(waiting.spans))
            out.extend(PairedRequest.from_unknown(s) for s in waiting.spans)
        for hints in (self._done, self._locals, self._wrapped):
            while hints and _deadline(hints[next(iter(hints))]) <= now:
                hints.popitem(last=False)
        return out

    def _add_client(self, client: SpanRecord, deadline: float, out: list[PairedRequest]) -> None:
        key = (client.trace_id, client.span_id)
        if key in self._clients or key in self._done:
            self._count("duplicates")
            return
        if client.parent_id is not None:
            self._mark_wrapper((client.trace_id, client.parent_id), deadline)
        if key in self._wrapped:
            self._count("nested")  # a client span already arrived as this span's child
            return
        waiting = self._servers.pop(key, None)
        if waiting is not None:
            self._pending -= len(waiting.spans)
            self._complete(client, waiting.spans, deadline, out)
        elif self._has_room():
            self._clients[key] = (deadline, client)
            self._pending += 1

    def _add_server(self, server: SpanRecord, deadline: float, out: list[PairedRequest]) -> None:
        if server.parent_id is None:
            self._count("roots")
            out.append(PairedRequest.from_unknown(server))
            return
        key = (server.trace_id, server.parent_id)
        if key in self._done:
            seen = self._done[key][1]
            self._count("duplicates" if server.span_id in seen else "retries")
            seen.add(server.span_id)
        elif key in self._clients:
            _, client = self._clients.pop(key)
            self._pending -= 1
            self._complete(client, [server], deadline, out)
        elif key in self._locals:
            self._resolve_local_parent(server, self._locals[key], out)
        elif key in self._servers:
            waiting = self._servers[key]
            if any(s.span_id == server.span_id for s in waiting.spans):
                self._count("duplicates")
            elif self._has_room():
                waiting.spans.append(server)
                self._pending += 1
        elif self._has_room():
            self._servers[key] = _Waiting(deadline, server)
            self._pending += 1

    def _complete(self, client: SpanRecord, servers: list[SpanRecord], deadline: float,
                  out: list[PairedRequest]) -> None:  # fmt: skip
        self._count("paired")
        self._count("retries", len(servers) - 1)
        out.append(PairedRequest.paired(client, servers))
        self._remember(self._done, (client.trace_id, client.span_id), (deadline, {s.span_id for s in servers}))

    def _note_local(self, span: SpanRecord, deadline: float, out: list[PairedRequest]) -> None:
        """A non-client span may be the in-process parent of SERVER spans: remember it, settle waiters."""
        key = (span.trace_id, span.span_id)
        local = (deadline, span.service, span.namespace)
        self._remember(self._locals, key, local)
        waiting = self._servers.pop(key, None)
        if waiting is not None:
            self._pending -= len(waiting.spans)
            for server in waiting.spans:
                self._resolve_local_parent(server, local, out)

    def _resolve_local_parent(self, server: SpanRecord, parent: tuple[float, str, str],
                              out: list[PairedRequest]) -> None:  # fmt: skip
        if (server.service, server.namespace) == parent[1:]:
            self._count("nested")
        else:
            self._count("roots")
            out.append(PairedRequest.from_unknown(server))

    def _mark_wrapper(self, parent: _Key, deadline: float) -> None:
        if self._clients.pop(parent, None) is not None:
            self._pending -= 1
            self._count("nested")
        else:
            self._remember(self._wrapped, parent, deadline)

    def _has_room(self) -> bool:
        if self._pending < self.max_items:
            return True
        self._count("dropped")
        return False

    def _remember(self, hints: OrderedDict[_Key, _H], key: _Key, value: _H) -> None:
        hints[key] = value
        if len(hints) > self.max_items:
            hints.popitem(last=False)

    def _count(self, name: str, n: int = 1) -> None:
        self._counts[name] += n


def _deadline(hint: tuple[float, set[str]] | tuple[float, str, str] | float) -> float:
    return hint[0] if isinstance(hint, tuple) else hint
