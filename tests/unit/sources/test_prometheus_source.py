"""PrometheusSource through prometheus-api-client against a loopback HTTP stand-in (FakePrometheusHTTP) for
the answers a real Prometheus gives only under load or failure: 503 timeout, 400 bad_data, slowness."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from observe.errors import QueryRejected, SourceUnavailable
from observe.sources.istio_queries import (
    parse_quantiles,
    parse_rates,
    quantile_head,
    quantiles_from_rows,
    rate_head,
    rates_from_rows,
)
from observe.sources.prometheus import ParsedSeries, PrometheusSource, decode_vector, describe_api_error, redact_url

FIXTURES = Path(__file__).parents[2] / "fixtures" / "prometheus"


class FakePrometheusHTTP:
    """Serves /api/v1/query with a canned status and body; records the parameters it was sent."""

    def __init__(self, status: int = 200, body: Any = None, delay_s: float = 0.0) -> None:
        self.status, self.body, self.delay_s = status, body, delay_s
        self.params: list[dict[str, str]] = []
        self.encodings: list[str | None] = []  # each query's Accept-Encoding

    async def handle(self, request: web.Request) -> web.Response:
        self.params.append(dict(request.query))
        self.encodings.append(request.headers.get("Accept-Encoding"))
        await asyncio.sleep(self.delay_s)
        response = web.json_response(self.body, status=self.status)
        response.enable_compression()  # as Prometheus: gzip when the client accepts it
        return response

    async def ready(self, request: web.Request) -> web.Response:
        return web.Response(text="Prometheus Server is Ready.")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v1/query", self.handle)
        app.router.add_get("/-/ready", self.ready)
        return app


@contextlib.asynccontextmanager
async def serving(
    fake: FakePrometheusHTTP, on_answer: Callable[[float], None] | None = None, gzip: bool = False
) -> AsyncIterator[PrometheusSource]:
    """A PrometheusSource pointed at `fake`, served on loopback; both closed on the way out."""
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    source = PrometheusSource(str(server.make_url("")), on_answer=on_answer, gzip=gzip)
    try:
        yield source
    finally:
        await source.close()
        await server.close()


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


async def test_query_sends_time_and_server_timeout_and_parses() -> None:
    fake = FakePrometheusHTTP(body=fixture("rates-vector.json"), delay_s=0.05)
    answered: list[float] = []
    async with serving(fake, answered.append) as source:
        samples = await source.query("up", at=1795414065.25, timeout_s=5)
        assert await source.ready(1)
    assert fake.params == [{"query": "up", "time": "1795414065.250", "timeout": "5s"}]
    assert samples and all(s.labels.get("reporter") in ("source", "destination") for s in samples)
    assert len(answered) == 1 and 0.05 <= answered[0] < 5  # the answer time (the fake waits 50 ms)


@pytest.mark.parametrize("gzip", [False, True])
async def test_answers_come_plain_unless_gzip_is_asked_for(gzip: bool) -> None:
    fake = FakePrometheusHTTP(body=fixture("rates-vector.json"))
    async with serving(fake, gzip=gzip) as source:
        samples = await source.query("up", at=1795414065.25, timeout_s=5)
    assert fake.encodings == ["gzip" if gzip else "identity"]
    assert len(samples) == len(fixture("rates-vector.json")["data"]["result"])


@pytest.mark.parametrize(("status", "body", "words"), [
    (503, {"status": "error", "errorType": "timeout", "error": "query timed out in expression evaluation"},
     "HTTP 503 (timeout): query timed out in expression evaluation"),
    (422, {"status": "error", "errorType": "execution", "error": "query processing would load too many samples"},
     "HTTP 422 (execution): query processing would load too many samples"),
])  # fmt: skip
async def test_prometheus_errors_are_reported_in_words_without_retry(status: int, body: Any, words: str) -> None:
    fake = FakePrometheusHTTP(status=status, body=body)
    async with serving(fake) as source:
        with pytest.raises(SourceUnavailable) as err:
            await source.query("up", at=1.0, timeout_s=5)
    assert err.value.source == "prometheus" and words in err.value.message
    assert len(fake.params) == 1  # the client's default would have retried a timed-out query 3 times


async def test_slow_prometheus_times_out() -> None:
    async with serving(FakePrometheusHTTP(body=fixture("rates-vector.json"), delay_s=3)) as source:
        with pytest.raises(SourceUnavailable, match=r"timeout after 0\.5s"):
            await source.query("up", at=1.0, timeout_s=0.5)


async def test_dead_prometheus_is_named() -> None:
    source = PrometheusSource("http://127.0.0.1:9")
    try:
        with pytest.raises(SourceUnavailable, match=r"cannot connect to http://127\.0\.0\.1:9"):
            await source.query("up", at=1.0, timeout_s=2)
        assert not await source.ready(1)
    finally:
        await source.close()


def test_real_answers_parse_into_typed_samples() -> None:
    rates = parse_rates(decode_vector((FIXTURES / "rates-vector.json").read_bytes()))
    assert {r.reporter.value for r in rates} == {"destination", "source"}
    assert all(r.rps >= 0 and r.response_code.isdigit() for r in rates)
    quantiles = decode_vector((FIXTURES / "quantiles-vector.json").read_bytes())
    assert {s.labels["quantile"] for s in quantiles} == {"0.5", "0.95", "0.99"}
    assert any(math.isnan(s.value) for s in quantiles) or all(s.value > 0 for s in quantiles)


def test_parsed_series_give_the_same_samples_as_parsing_each() -> None:
    series = ParsedSeries()
    rates, quantiles = (FIXTURES / "rates-vector.json").read_bytes(), (FIXTURES / "quantiles-vector.json").read_bytes()
    expected_rates, expected_quantiles = parse_rates(decode_vector(rates)), parse_quantiles(decode_vector(quantiles))
    assert expected_rates and expected_quantiles
    for _ in range(2):  # the second time from the memo; repr: NaN ≠ NaN
        assert repr(rates_from_rows(series.rows(rates, rate_head))) == repr(expected_rates)
        assert repr(quantiles_from_rows(series.rows(quantiles, quantile_head))) == repr(expected_quantiles)


def _vector(*samples: tuple[dict[str, str], str]) -> bytes:
    result = [{"metric": labels, "value": [1795414065.0, value]} for labels, value in samples]
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()


PARSED: list[dict[str, str]] = []


def _counting_head(labels: dict[str, str]) -> str | None:
    """Records each call; leaves out series labelled drop."""
    PARSED.append(labels)
    return None if "drop" in labels else labels["name"]


def test_each_series_is_parsed_once_and_a_left_out_one_stays_out() -> None:
    PARSED.clear()
    series = ParsedSeries()
    body = _vector(({"name": "a"}, "1.5"), ({"name": "b", "drop": "1"}, "2"), ({"name": "c"}, "3"))
    assert series.rows(body, _counting_head) == (["a", "c"], [1.5, 3.0])
    assert len(PARSED) == 3
    again = _vector(({"name": "c"}, "4"), ({"name": "b", "drop": "1"}, "5"), ({"name": "d"}, "6"))
    assert series.rows(again, _counting_head) == (["c", "d"], [4.0, 6.0])
    assert PARSED[3:] == [{"name": "d"}]  # only the new series


def test_rows_keep_the_order_their_series_were_first_seen_in() -> None:
    """Prometheus promises no order (over recording rules it changes between evaluations); the model's plan
    is reused only for samples in the same order."""
    series = ParsedSeries()
    assert series.rows(_vector(({"name": "a"}, "1"), ({"name": "b"}, "2")), _counting_head) == (["a", "b"], [1, 2])
    shuffled = _vector(({"name": "c"}, "3"), ({"name": "b", "drop": "1"}, "0"), ({"name": "b"}, "4"),
                       ({"name": "a"}, "5"))  # fmt: skip
    assert series.rows(shuffled, _counting_head) == (["a", "b", "c"], [5.0, 4.0, 3.0])


def test_the_memo_is_bounded() -> None:
    PARSED.clear()
    series = ParsedSeries()
    series.MAX_SERIES = 2
    body = _vector(*(({"name": n}, "1") for n in "abc"))
    series.rows(body, _counting_head)
    series.rows(body, _counting_head)  # over the bound: cleared, every series parsed again
    assert len(PARSED) == 6


def test_values_prometheus_writes_as_text_are_read() -> None:
    """Prometheus writes non-finite values as "NaN", "+Inf" and "-Inf"."""
    body = _vector(({"name": "a"}, "NaN"), ({"name": "b"}, "+Inf"), ({"name": "c"}, "-Inf"), ({"name": "d"}, "1e-3"))
    names, values = ParsedSeries().rows(body, _counting_head)
    assert names == ["a", "b", "c", "d"]
    assert math.isnan(values[0]) and values[1:] == [math.inf, -math.inf, 0.001]
    assert [s.value for s in decode_vector(body)][1:] == [math.inf, -math.inf, 0.001]


async def test_an_answer_that_is_not_a_vector_is_unexpected() -> None:
    for body in ({"status": "success", "data": {"resultType": "scalar", "result": [1.0, "2"]}}, {"data": {}}):
        async with serving(FakePrometheusHTTP(body=body)) as source:
            with pytest.raises(SourceUnavailable, match="unexpected answer"):
                await source.query("up", at=1.0, timeout_s=5)
            with pytest.raises(SourceUnavailable, match="unexpected answer"):
                await source.query_parsed("up", at=1.0, timeout_s=5, parse=_counting_head)


def test_describe_api_error_falls_back_to_the_message() -> None:
    assert describe_api_error("boom") == "boom"
    assert describe_api_error("HTTP Status Code 502 (b'<html>bad gateway</html>')") == "Prometheus answered HTTP 502"


@pytest.mark.parametrize(("status", "body", "rejected", "hint"), [
    (503, {"status": "error", "errorType": "timeout", "error": "query timed out in expression evaluation"},
     False, "ran longer than its timeout"),
    (422, {"status": "error", "errorType": "execution",
           "error": "query processing would load too many samples into memory in query execution"},
     True, "--query.max-samples"),
    (400, {"status": "error", "errorType": "bad_data", "error": "invalid parameter \"query\""}, True, None),
])  # fmt: skip
async def test_a_refused_query_is_told_apart_from_a_failing_prometheus(
    status: int, body: Any, rejected: bool, hint: str | None
) -> None:
    """4xx: Prometheus is up and refused this query (QueryRejected, no backoff); 5xx: it is failing."""
    async with serving(FakePrometheusHTTP(status=status, body=body)) as source:
        with pytest.raises(SourceUnavailable) as err:
            await source.query("up", at=1.0, timeout_s=5)
    assert isinstance(err.value, QueryRejected) is rejected
    assert hint is None or hint in err.value.message


def test_credentials_in_the_url_never_reach_a_message() -> None:
    assert redact_url("http://user:s3cret@prom:9090/x") == "http://prom:9090/x"
    assert redact_url("http://prom:9090") == "http://prom:9090"
