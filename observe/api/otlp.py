"""OTLP/HTTP trace receiver (`POST /v1/traces`), as the OTLP specification asks.

Accepts `application/x-protobuf` and `application/json`, plain or gzip. Bounds: the body as sent
(`max_body_bytes`, else 413) and once decompressed (`max_decompressed_bytes`, streamed through zlib with a
cap, so a gzip bomb costs at most the cap); the server runs with aiohttp's auto_decompress off
(observe.api.app.RUNNER_OPTIONS), so this capped gunzip is the only one. Decoding runs off the event loop.
Success answers an ExportTraceServiceResponse in the request's encoding, with `partial_success` counting
rejected spans; failures answer a google.rpc.Status in the request's encoding (400 malformed, 413 too
large, 415 unsupported).

Load shedding: each listener admits at most `max_inflight_requests` requests and `max_inflight_bytes` of
declared body (a body without Content-Length reserves `max_body_bytes`) at once; a request beyond that is
answered 429 with Retry-After before its body is read, which the OTLP specification makes retryable (SDKs and
Collectors back off and resend). So a flood costs at most the admitted requests' bodies plus their capped
decompression, never an unbounded queue.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from observe.errors import BadQuery, ObserveError, PayloadTooLarge, UnsupportedMediaType
from observe.services.telemetry import SelfMetrics
from observe.services.traces import TraceService
from observe.sources.otlp import JSON, PROTOBUF, decode_traces

_INVALID_ARGUMENT, _RESOURCE_EXHAUSTED = 3, 8


@dataclass(frozen=True)
class ReceiverLimits:
    max_body_bytes: int = 8 * 1024 * 1024
    max_decompressed_bytes: int = 32 * 1024 * 1024
    max_inflight_requests: int = 8
    max_inflight_bytes: int = 32 * 1024 * 1024
    retry_after_s: int = 1


@dataclass
class Admission:
    """Requests and body bytes being handled now; only touched on the event loop."""

    limits: ReceiverLimits
    requests: int = 0
    bytes: int = 0

    def reserve(self, request: web.Request) -> int | None:
        """The bytes reserved for `request`, or None when admitting it would exceed a bound."""
        size = min(request.content_length or self.limits.max_body_bytes, self.limits.max_body_bytes)
        if self.requests >= self.limits.max_inflight_requests or (
            self.requests and self.bytes + size > self.limits.max_inflight_bytes
        ):
            return None
        self.requests, self.bytes = self.requests + 1, self.bytes + size
        return size

    def release(self, size: int) -> None:
        self.requests, self.bytes = self.requests - 1, self.bytes - size


def gunzip(body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit)
        if inflater.unconsumed_tail:
            raise PayloadTooLarge(f"decompressed body exceeds {limit} bytes", field="body")
        if not inflater.eof:
            raise BadQuery("truncated gzip body", field="body")
    except zlib.error as exc:
        raise BadQuery(f"invalid gzip body: {exc}", field="body") from None
    return out


def _media(request: web.Request) -> str:
    media = request.content_type.lower()
    if media in (PROTOBUF, "application/protobuf", JSON):
        return media
    raise UnsupportedMediaType(f"unsupported content type '{request.content_type}': expected {PROTOBUF} or {JSON}",
                               field="Content-Type")  # fmt: skip


async def _body(request: web.Request, limits: ReceiverLimits) -> bytes:
    if request.content_length is not None and request.content_length > limits.max_body_bytes:
        raise PayloadTooLarge(f"body of {request.content_length} bytes exceeds {limits.max_body_bytes}", field="body")
    # StreamReader.read(n) returns what has arrived so far, not n bytes: read to the end, counting.
    chunks, size = [], 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limits.max_body_bytes:
            raise PayloadTooLarge(f"body exceeds {limits.max_body_bytes} bytes", field="body")
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding == "gzip":
        return gunzip(body, limits.max_decompressed_bytes)
    if encoding not in ("identity", ""):
        raise UnsupportedMediaType(f"unsupported content encoding '{encoding}': expected gzip or none",
                                   field="Content-Encoding")  # fmt: skip
    return body


def _answer(media: str, status: int, message: trace_service_pb2.ExportTraceServiceResponse | status_pb2.Status,
            as_json: dict[str, object]) -> web.Response:  # fmt: skip
    if media == JSON:
        return web.Response(status=status, text=json.dumps(as_json), content_type=JSON)
    return web.Response(status=status, body=message.SerializeToString(), content_type=PROTOBUF)


def _failure(media: str, exc: ObserveError) -> web.Response:
    code = _RESOURCE_EXHAUSTED if exc.status == 413 else _INVALID_ARGUMENT
    status = status_pb2.Status(code=code, message=exc.message)
    return _answer(media, exc.status, status, {"code": code, "message": exc.message})


def _busy(media: str, admission: Admission) -> web.Response:
    message = (f"receiver busy ({admission.requests} requests, {admission.bytes} bytes in flight): "
               f"retry after {admission.limits.retry_after_s}s")  # fmt: skip
    response = _answer(media, 429, status_pb2.Status(code=_RESOURCE_EXHAUSTED, message=message),
                       {"code": _RESOURCE_EXHAUSTED, "message": message})  # fmt: skip
    response.headers["Retry-After"] = str(admission.limits.retry_after_s)
    return response


def handler(
    traces: TraceService, metrics: SelfMetrics, limits: ReceiverLimits
) -> Callable[[web.Request], Awaitable[web.Response]]:
    admission = Admission(limits)

    async def receive(request: web.Request) -> web.Response:
        media = JSON if request.content_type.lower() == JSON else PROTOBUF
        reserved = admission.reserve(request)
        if reserved is None:
            metrics.otlp_shed.inc()
            return _busy(media, admission)
        metrics.otlp_inflight.set(admission.bytes)
        try:
            media = _media(request)
            body = await _body(request, limits)
            result = await asyncio.to_thread(decode_traces, body, media)
        except ObserveError as exc:
            metrics.spans_rejected.labels(exc.code).inc()
            return _failure(media, exc)
        finally:
            admission.release(reserved)
            metrics.otlp_inflight.set(admission.bytes)
        traces.ingest(result.spans, origin="otlp")
        if result.rejected:
            metrics.spans_rejected.labels("invalid_span").inc(result.rejected)
        partial = trace_service_pb2.ExportTracePartialSuccess(
            rejected_spans=result.rejected, error_message="; ".join(result.errors)
        )
        response = trace_service_pb2.ExportTraceServiceResponse(partial_success=partial if result.rejected else None)
        as_json: dict[str, object] = (
            {"partialSuccess": {"rejectedSpans": str(result.rejected), "errorMessage": partial.error_message}}
            if result.rejected else {}
        )  # fmt: skip
        return _answer(media, 200, response, as_json)

    return receive
