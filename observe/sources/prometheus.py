"""Prometheus adapter: prometheus-api-client behind the MetricsSource port.

The client is blocking (requests), so each call runs in a small dedicated thread pool, never on the event
loop. The client's defaults are unsafe for a live screen (no timeout; three retries on 503, which re-runs a
query that already timed out), so retries are off and every call carries an explicit timeout, passed both to
the HTTP request and to Prometheus itself (`timeout=` parameter) so the server stops the work too.

Instant queries (the refresh path) are sent on the client's session and decoded with msgspec rather than the
client's `response.json()`: a large mesh's answer is megabytes, which msgspec decodes into typed structs
several times faster, keeping each series' labels as the raw bytes Prometheus sent, so that a series seen
before is not decoded or parsed again (ParsedSeries).
"""

from __future__ import annotations

import ast
import asyncio
import json
import operator
import re
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import msgspec
import requests
import urllib3
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from observe.errors import QueryRejected, SourceUnavailable
from observe.model.durations import format_duration
from observe.model.samples import RangeSeries, Rows, VectorSample

T = TypeVar("T")
H = TypeVar("H")
V = TypeVar("V", float, str)
_STATUS = re.compile(r"HTTP Status Code (\d+) \((b['\"].*['\"])\)$", re.DOTALL)
_STATUS_4XX = re.compile(r"HTTP Status Code 4\d\d ")
# What the usual refusals mean, in words an operator can act on.
_HINTS = (
    ("timeout", "the query ran longer than its timeout in Prometheus; a shorter window, fewer namespaces or the "
                "recording rules in deploy/prometheus make it cheaper"),
    ("too many samples", "the query would load more samples than Prometheus allows (--query.max-samples); a "
                         "shorter window or the recording rules make it smaller"),
)  # fmt: skip


class PrometheusSource:
    name = "prometheus"

    def __init__(
        self, url: str, *, max_workers: int = 4, headers: dict[str, str] | None = None, gzip: bool = False,
        on_answer: Callable[[float], None] | None = None,
    ) -> None:  # fmt: skip
        """`on_answer` is told the seconds each instant query took, from sending it to its body read. `gzip`:
        ask for compressed answers. Off by default: a large mesh's rates answer (6 MB at 10,000 edges)
        shrinks ~17×, but Prometheus spends ~40 ms compressing it and we ~10-15 ms inflating it, more than
        sending it plain takes in a cluster's network; worth it only across a slow link."""
        self.url = url.rstrip("/")
        self._shown = redact_url(self.url)  # in messages that reach the API: never credentials in the URL
        self._session = requests.Session()
        self._session.headers["Accept-Encoding"] = "gzip" if gzip else "identity"
        self._session.headers.update(headers or {})
        self._client = PrometheusConnect(url=self.url, session=self._session, retry=Retry(total=0))
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="prometheus")
        self.queries_issued = 0
        self._parsed = ParsedSeries()
        self._on_answer = on_answer

    async def _call(self, fn: Callable[[], T], timeout_s: float) -> T:
        loop = asyncio.get_running_loop()
        try:
            # The HTTP timeout bounds the thread; the outer one guards against a stuck pool.
            return await asyncio.wait_for(loop.run_in_executor(self._pool, fn), timeout_s + 1.0)
        except (TimeoutError, requests.Timeout):
            raise SourceUnavailable(self.name, f"timeout after {timeout_s:g}s") from None
        except requests.ConnectionError as exc:
            # With retries off, urllib3 reports a read timeout as a ConnectionError wrapping MaxRetryError.
            if _is_timeout(exc):
                raise SourceUnavailable(self.name, f"timeout after {timeout_s:g}s") from None
            raise SourceUnavailable(self.name, f"cannot connect to {self._shown}: {_root_cause(exc)}") from None
        except requests.RequestException as exc:
            raise SourceUnavailable(self.name, f"request to {self._shown} failed: {exc}") from None
        except PrometheusApiClientException as exc:
            words = describe_api_error(str(exc))
            if _STATUS_4XX.search(str(exc)):  # Prometheus is up and refused this query: no backoff
                raise QueryRejected(self.name, words) from None
            raise SourceUnavailable(self.name, words) from None
        except (ValueError, KeyError) as exc:
            raise SourceUnavailable(self.name, f"unexpected answer from {self._shown}: {exc}") from None

    def _instant(self, promql: str, at: float, timeout_s: float) -> bytes:
        """The body of an instant query's answer; errors as prometheus-api-client raises them (see _call)."""
        params = {"query": promql, "time": f"{at:.3f}", "timeout": format_duration(timeout_s)}
        begin = time.perf_counter()
        response = self._session.get(f"{self.url}/api/v1/query", params=params, timeout=timeout_s)
        body = response.content
        if self._on_answer is not None:
            self._on_answer(time.perf_counter() - begin)
        if response.status_code != 200:
            raise PrometheusApiClientException(f"HTTP Status Code {response.status_code} ({body!r})")
        return body

    async def query(self, promql: str, at: float, timeout_s: float) -> list[VectorSample]:
        self.queries_issued += 1
        return await self._call(lambda: decode_vector(self._instant(promql, at, timeout_s)), timeout_s)

    async def query_parsed(
        self, promql: str, at: float, timeout_s: float, parse: Callable[[dict[str, str]], H | None]
    ) -> Rows[H]:
        self.queries_issued += 1
        return await self._call(lambda: self._parsed.rows(self._instant(promql, at, timeout_s), parse), timeout_s)

    async def query_range(
        self, promql: str, start: float, end: float, step_s: float, timeout_s: float
    ) -> list[RangeSeries]:
        self.queries_issued += 1
        result: list[dict[str, Any]] = await self._call(
            lambda: self._client.custom_query_range(
                promql,
                start_time=datetime.fromtimestamp(start, UTC),
                end_time=datetime.fromtimestamp(end, UTC),
                step=format_duration(step_s),
                params={"timeout": format_duration(timeout_s)},
                timeout=timeout_s,
            ),
            timeout_s,
        )
        return [
            RangeSeries(dict(r["metric"]), tuple((float(t), float(v)) for t, v in r["values"])) for r in result
        ]

    async def ready(self, timeout_s: float) -> bool:
        def probe() -> bool:
            return self._session.get(f"{self.url}/-/ready", timeout=timeout_s).ok

        try:
            return await self._call(probe, timeout_s)
        except SourceUnavailable:
            return False

    async def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()


def redact_url(url: str) -> str:
    """`url` without a user name or password (http://user:secret@host → http://host)."""
    parts = urllib.parse.urlsplit(url)
    if not (parts.username or parts.password):
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


# An instant-vector answer: {"data": {"result": [{"metric": {...}, "value": [t, "v"]}, ...]}}. Values are
# strings; msgspec's lax mode reads them as floats in C ("NaN", "Inf" and "-Inf" too, but not Prometheus's
# "+Inf": an answer holding one is decoded again with string values). gc=False: these structs hold nothing that
# could form a cycle, and untracked objects cost the garbage collector nothing (an answer has one per series;
# a tuple for the [t, "v"] pair would be tracked: at 40,000 samples, two young collections per answer).
class _Point(msgspec.Struct, Generic[V], array_like=True, gc=False):
    time: float
    value: V


class _Sample(msgspec.Struct, Generic[V], gc=False):
    metric: msgspec.Raw
    value: _Point[V]


class _Result(msgspec.Struct, Generic[V], gc=False):
    result: list[_Sample[V]]


class _Answer(msgspec.Struct, Generic[V], gc=False):
    data: _Result[V]


_ANSWER = msgspec.json.Decoder(_Answer[float], strict=False)
_TEXT_ANSWER = msgspec.json.Decoder(_Answer[str])
_LABELS = msgspec.json.Decoder(dict[str, str])
_DROPPED = object()  # memoised: `parse` left this series out
_RANK, _HEAD = operator.itemgetter(0), operator.itemgetter(1)


def _series(body: bytes) -> tuple[list[bytes], list[float]]:
    """Each sample's labels as Prometheus encoded them, and its value."""
    try:
        result = _ANSWER.decode(body).data.result
        return [bytes(s.metric) for s in result], [s.value.value for s in result]
    except msgspec.ValidationError:
        text = _TEXT_ANSWER.decode(body).data.result
        return [bytes(s.metric) for s in text], [float(s.value.value) for s in text]


def decode_vector(body: bytes) -> list[VectorSample]:
    """The samples of an instant-vector answer, each with fresh labels."""
    keys, values = _series(body)
    return [VectorSample(_LABELS.decode(k), v) for k, v in zip(keys, values, strict=True)]


class ParsedSeries:
    """Instant-vector answers parsed per series, memoised by the series' labels as Prometheus encodes them.

    A live refresh of a steady mesh returns the same series every time with new values, so each distinct label
    set is decoded and parsed once, and a refresh costs one decode of the answer plus a dict lookup per sample.
    Rows come in the order their series were first seen, whatever the answer's order: Prometheus promises none
    (an aggregation over recording rules returns its groups in a different order from one evaluation to the
    next), and a steady order lets the model reuse its plan (model.topology).
    `parse` must be a pure, module-level function of the labels (its identity keys the memo); it returns None
    for a sample to leave out. Each memo is cleared when it outgrows MAX_SERIES, so memory stays bounded by
    the series actually seen; threads may share it (a lost race only parses a series twice).
    """

    MAX_SERIES = 262_144

    def __init__(self) -> None:
        self._memos: dict[Callable[[dict[str, str]], object], dict[bytes, tuple[int, object]]] = {}

    def rows(self, body: bytes, parse: Callable[[dict[str, str]], H | None]) -> Rows[H]:
        memo = self._memos.setdefault(parse, {})
        if len(memo) > self.MAX_SERIES:
            memo.clear()
        keys, values = _series(body)  # the keys are bytes: msgspec's Raw is not hashable
        # (first-seen rank, head) per sample: one C call for the whole answer; None where not seen yet
        entries: list[Any] = list(map(memo.get, keys))
        if None in entries:
            for i, entry in enumerate(entries):
                if entry is None:
                    parsed = parse(_LABELS.decode(keys[i]))
                    entries[i] = memo[keys[i]] = (len(memo), _DROPPED if parsed is None else parsed)
        ranks = list(map(_RANK, entries))
        if ranks != sorted(ranks):  # C calls only, and linear when the answer keeps its order
            order = sorted(range(len(ranks)), key=ranks.__getitem__)
            entries, values = list(map(entries.__getitem__, order)), list(map(values.__getitem__, order))
        heads: list[Any] = list(map(_HEAD, entries))
        if _DROPPED in heads:
            kept = [i for i, head in enumerate(heads) if head is not _DROPPED]
            heads, values = [heads[i] for i in kept], [values[i] for i in kept]
        return Rows(heads, values)


def describe_api_error(message: str) -> str:
    """Prometheus's own words from 'HTTP Status Code 503 (b'{"errorType":"timeout",…}')'."""
    match = _STATUS.search(message)
    if not match:
        return message
    status = match.group(1)
    try:
        body = json.loads(ast.literal_eval(match.group(2)))
        kind, error = str(body.get("errorType", "error")), str(body.get("error", ""))
    except (ValueError, SyntaxError, AttributeError):
        return f"Prometheus answered HTTP {status}"
    words = f"Prometheus answered HTTP {status} ({kind}): {error}"
    hint = next((h for needle, h in _HINTS if needle in kind or needle in error), None)
    return f"{words} — {hint}" if hint else words


def _is_timeout(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, urllib3.exceptions.NewConnectionError):
            return False  # urllib3 files "connection refused" under ConnectTimeoutError
        if isinstance(seen, TimeoutError | urllib3.exceptions.TimeoutError):
            return True
        reason = getattr(seen, "reason", None)
        nested = reason if isinstance(reason, BaseException) else None
        seen = nested or (seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None)
    return False


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return str(exc) or type(exc).__name__
