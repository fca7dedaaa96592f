"""Jaeger query adapter: the TraceSource port over Jaeger's HTTP APIs (aiohttp).

Which API: on first use `GET {base}/api/v3/services` decides. 200 → API v3 from then on (services and search
via `/api/v3/…`, OTLP/JSON answers, 404 = no match); 404 → the v1 JSON API (`/api/services`, `/api/traces` with
µs times, `/api/traces/{id}`), which Jaeger before v2 (and Istio's addon) serve. Jaeger main after v2.20 drops
v1 search, hence v3 first. The base URL may carry a path prefix (`http://tracing.istio-system/jaeger`).

Every call has an explicit timeout covering all the requests it makes; failures become
SourceUnavailable("jaeger", reason in words: "timeout after 5s (GET /api/v3/traces)", "HTTP 500 from
/api/traces: …", "cannot connect to …"). Answers are parsed and decoded off the event loop. A search without
a service searches each service (a few at a time) and keeps the `limit` most recent traces.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

import aiohttp

from observe.errors import BadQuery, NotFound, SourceUnavailable
from observe.model.spans import SpanRecord, normalize_trace_id
from observe.sources.jaeger_json import decode_v1, decode_v3, error_message, services_v1, services_v3
from observe.sources.span_decoding import DecodeResult

T = TypeVar("T")
_Params = Mapping[str, str] | None


class ApiVersion(Enum):
    V3 = "v3"
    V1 = "v1"


class JaegerSource:
    name = "jaeger"

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        api: ApiVersion | None = None,
        parallel_searches: int = 4,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = dict(headers or {})
        self._api = api
        self._parallel = max(1, parallel_searches)
        self._session: aiohttp.ClientSession | None = None
        self.rejected_spans = 0  # spans in Jaeger's answers that could not be decoded

    @property
    def api_version(self) -> ApiVersion | None:
        return self._api

    async def services(self, timeout_s: float) -> list[str]:
        async with _deadline(timeout_s, "GET services"):
            if await self._version(timeout_s) is ApiVersion.V3:
                return services_v3(await self._ok("/api/v3/services", None, timeout_s))
            return services_v1(await self._ok("/api/services", None, timeout_s))

    async def find_traces(
        self, service: str | None, start_s: float, end_s: float, limit: int, timeout_s: float
    ) -> list[SpanRecord]:
        if limit <= 0 or end_s < start_s:
            raise BadQuery("trace search needs limit > 0 and start <= end", field="limit")
        async with _deadline(timeout_s, "trace search"):
            if service is not None:
                return await self._search(service, start_s, end_s, limit, timeout_s)
            names = await self.services(timeout_s)
            gate = asyncio.Semaphore(self._parallel)

            async def one(name: str) -> list[SpanRecord]:
                async with gate:
                    return await self._search(name, start_s, end_s, limit, timeout_s)

            found = await asyncio.gather(*(one(name) for name in names))
            return _latest_traces([span for spans in found for span in spans], limit)

    async def get_trace(self, trace_id: str, timeout_s: float) -> list[SpanRecord]:
        normalized = normalize_trace_id(trace_id.strip())
        if normalized is None:
            raise BadQuery(f"invalid trace id '{trace_id}': expected 16 or 32 hex characters", field="trace_id")
        async with _deadline(timeout_s, "GET trace"):
            v3 = await self._version(timeout_s) is ApiVersion.V3
            path = f"/api/v3/traces/{normalized}" if v3 else f"/api/traces/{normalized}"
            status, document = await self._get(path, None, timeout_s)
            if status == 404:
                raise NotFound(f"trace {normalized} not found in jaeger", field="trace_id")
            self._check(status, path, document)
            spans = await self._decode(decode_v3 if v3 else decode_v1, document)
            if not spans:
                raise NotFound(f"trace {normalized} not found in jaeger", field="trace_id")
            return spans

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _search(self, service: str, start_s: float, end_s: float, limit: int,
                      timeout_s: float) -> list[SpanRecord]:  # fmt: skip
        if await self._version(timeout_s) is ApiVersion.V3:
            path = "/api/v3/traces"
            params = {
                "query.service_name": service,
                "query.start_time_min": rfc3339_nano(start_s),
                "query.start_time_max": rfc3339_nano(end_s),
                "query.search_depth": str(limit),
                "query.num_traces": str(limit),  # the name before Jaeger v2.20
            }
            status, document = await self._get(path, params, timeout_s)
            if status == 404:
                return []  # v3: no match
            self._check(status, path, document)
            return await self._decode(decode_v3, document)
        path = "/api/traces"
        params = {"service": service, "start": str(int(start_s * 1e6)), "end": str(int(end_s * 1e6)),
                  "limit": str(limit)}  # fmt: skip
        return await self._decode(decode_v1, await self._ok(path, params, timeout_s))

    async def _version(self, timeout_s: float) -> ApiVersion:
        if self._api is None:
            status, document = await self._get("/api/v3/services", None, timeout_s)
            if status == 404:
                self._api = ApiVersion.V1
            else:
                self._check(status, "/api/v3/services", document)
                self._api = ApiVersion.V3
        return self._api

    async def _ok(self, path: str, params: _Params, timeout_s: float) -> Any:
        status, document = await self._get(path, params, timeout_s)
        self._check(status, path, document)
        return document

    async def _get(self, path: str, params: _Params, timeout_s: float) -> tuple[int, Any]:
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self._headers)
        url = self.base_url + path
        try:
            timeout = aiohttp.ClientTimeout(total=timeout_s)
            async with self._session.get(url, params=params, timeout=timeout) as response:
                body = await response.read()
                status = response.status
        except TimeoutError:
            raise SourceUnavailable(self.name, f"timeout after {timeout_s:g}s (GET {path})") from None
        except aiohttp.ClientConnectionError as exc:
            raise SourceUnavailable(self.name, f"cannot connect to {self.base_url}: {exc}") from None
        except aiohttp.ClientError as exc:
            raise SourceUnavailable(self.name, f"GET {path} failed: {exc}") from None
        return status, await asyncio.to_thread(_parse_json, body)

    def _check(self, status: int, path: str, document: Any) -> None:
        if status != 200:
            detail = error_message(document) if not isinstance(document, _NotJson) else document.text
            suffix = f": {detail}" if detail else ""
            raise SourceUnavailable(self.name, f"HTTP {status} from {path}{suffix}")
        if isinstance(document, _NotJson):
            raise SourceUnavailable(self.name, f"invalid JSON from {path}: {document.text}")

    async def _decode(self, decoder: Callable[[Any], DecodeResult], document: Any) -> list[SpanRecord]:
        try:
            result = await asyncio.to_thread(decoder, document)
        except BadQuery as exc:
            raise SourceUnavailable(self.name, f"unexpected answer: {exc.message}") from None
        self.rejected_spans += result.rejected
        return result.spans


class _NotJson:
    """A body that is not JSON (Jaeger writes some errors as text/plain), kept for the error message."""

    def __init__(self, text: str) -> None:
        self.text = text


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else None
    except (ValueError, UnicodeDecodeError):
        return _NotJson(body[:200].decode("utf-8", "replace").strip())


@asynccontextmanager
async def _deadline(timeout_s: float, what: str) -> AsyncIterator[None]:
    """One timeout over every request a call makes, reported as SourceUnavailable."""
    try:
        async with asyncio.timeout(timeout_s):
            yield
    except TimeoutError:
        raise SourceUnavailable("jaeger", f"timeout after {timeout_s:g}s ({what})") from None


def rfc3339_nano(unix_s: float) -> str:
    """`2023-12-05T12:37:56.570888000Z`: the RFC 3339 form Jaeger's v3 API parses (time.RFC3339Nano). A float
    of unix seconds holds about 0.2 µs today, so the time is rounded to the microsecond."""
    seconds, micros = divmod(round(unix_s * 1e6), 1_000_000)
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S}.{micros * 1000:09d}Z"


def _latest_traces(spans: list[SpanRecord], limit: int) -> list[SpanRecord]:
    """Deduplicated spans of the `limit` traces that started last."""
    unique = {(s.trace_id, s.span_id): s for s in spans}
    starts: dict[str, float] = {}
    for span in unique.values():
        starts[span.trace_id] = min(starts.get(span.trace_id, span.start_s), span.start_s)
    keep = set(sorted(starts, key=lambda trace: starts[trace], reverse=True)[:limit])
    return [span for span in unique.values() if span.trace_id in keep]
