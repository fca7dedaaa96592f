"""The UI's one HTTP client against a tiny aiohttp stand-in on 127.0.0.1: errors are messages, never exceptions."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from dashboards.backend import Answer, Backend
from tests.unit.dashboards.wire import load

ServerFactory = Callable[..., Awaitable[TestServer]]


def stand_in() -> tuple[web.Application, list[web.Request]]:
    seen: list[web.Request] = []

    async def topology(request: web.Request) -> web.Response:
        seen.append(request)
        if request.query.get("window") == "15x":
            return web.json_response({"error": {"code": "bad_query", "field": "window",
                                                "message": "invalid window '15x': expected a duration like 15m"}},
                                     status=400)  # fmt: skip
        return web.json_response(load("topology_bookinfo.json"))

    async def series(request: web.Request) -> web.Response:
        seen.append(request)
        return web.json_response(load("edge_series.json"))

    async def broken(request: web.Request) -> web.Response:
        return web.Response(text="<html>proxy error</html>", status=502, content_type="text/html")

    async def not_json(request: web.Request) -> web.Response:
        return web.Response(text="hello", content_type="text/plain")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({})

    async def trace(request: web.Request) -> web.Response:
        seen.append(request)
        return web.json_response({"error": {"code": "not_found", "message": "unknown trace id"}}, status=404)

    app = web.Application()
    app.router.add_get("/api/v1/topology", topology)
    app.router.add_get("/api/v1/edges/series", series)
    app.router.add_get("/api/v1/traces", broken)
    app.router.add_get("/api/v1/nodes/series", not_json)
    app.router.add_get("/slow", slow)
    app.router.add_get("/api/v1/traces/{trace_id}", trace)
    return app, seen


@pytest.fixture
async def api(aiohttp_server: ServerFactory) -> tuple[str, list[web.Request]]:
    app, seen = stand_in()
    server = await aiohttp_server(app, host="127.0.0.1")
    return f"http://127.0.0.1:{server.port}", seen


async def call(fn: Callable[..., Answer], **kwargs: Any) -> Answer:
    # the client is synchronous (it runs in the web server's threads): keep the stand-in's loop free
    return await asyncio.to_thread(fn, **kwargs)


async def test_topology_and_parameters(api: tuple[str, list[web.Request]]) -> None:
    url, seen = api
    backend = Backend(url)
    answer = await call(backend.topology, graph="app", namespaces=("bookinfo", "shop"), window="5m", at="")
    assert answer.ok and answer.status == 200 and len(answer.data["edges"]) == 8  # type: ignore[index]
    assert dict(seen[-1].query) == {"graph": "app", "namespace": "bookinfo,shop", "window": "5m"}


async def test_series_parameters(api: tuple[str, list[web.Request]]) -> None:
    url, seen = api
    answer = await call(Backend(url).edge_series, source="a/b/v1", target="a/c/v2", graph="versioned-app",
                        window="5m", at="1795414065", step="10s")  # fmt: skip
    assert answer.ok and dict(seen[-1].query) == {"source": "a/b/v1", "target": "a/c/v2", "graph": "versioned-app",
                                                  "window": "5m", "at": "1795414065", "step": "10s"}  # fmt: skip


async def test_api_error_message_is_passed_on(api: tuple[str, list[web.Request]]) -> None:
    url, _ = api
    answer = await call(Backend(url).topology, graph="app", window="15x")
    assert not answer.ok and answer.status == 400
    assert answer.error == "invalid window '15x': expected a duration like 15m (HTTP 400)"


async def test_not_found_and_non_json(api: tuple[str, list[web.Request]]) -> None:
    url, seen = api
    backend = Backend(url)
    missing = await call(backend.trace, trace_id="4BF92F3577B34DA6A3CE929D0E0E4736")
    assert missing.status == 404 and "unknown trace id" in (missing.error or "")
    assert seen[-1].path == "/api/v1/traces/4bf92f3577b34da6a3ce929d0e0e4736"
    proxy = await call(backend.traces, service="reviews")
    assert proxy.status == 502 and proxy.error == "the observe API answered HTTP 502 Bad Gateway"
    text = await call(backend.node_series, node="a/b", graph="app", window="1m")
    assert text.error == "the observe API answered something that is not JSON"


async def test_invalid_trace_id_never_reaches_the_api(api: tuple[str, list[web.Request]]) -> None:
    url, seen = api
    answer = await call(Backend(url).trace, trace_id="../../etc/passwd")
    assert not answer.ok and "invalid trace id" in (answer.error or "") and not seen


async def test_timeout_is_a_message(api: tuple[str, list[web.Request]]) -> None:
    url, _ = api
    answer = await call(Backend(url, timeout_s=0.3).get, path="/slow", params={})
    assert answer.error == f"the observe API at {url} did not answer within 0.3 s"


def test_connection_refused_is_a_message() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    answer = Backend(f"http://127.0.0.1:{port}", timeout_s=2).topology(graph="app")
    assert not answer.ok and answer.status is None
    assert answer.error == f"the observe API at http://127.0.0.1:{port} is unreachable: Connection refused"


async def test_answers_are_cached_briefly(api: tuple[str, list[web.Request]]) -> None:
    url, seen = api
    now = [100.0]
    backend = Backend(url, cache_ttl_s=2.0, clock=lambda: now[0])
    for _ in range(3):
        await call(backend.topology, graph="app")
    assert len(seen) == 1  # the graph, the table and the panel of one refresh share one answer
    now[0] += 2.5
    await call(backend.topology, graph="app")
    assert len(seen) == 2


def test_bad_api_url_is_refused() -> None:
    with pytest.raises(ValueError, match="expected http"):
        Backend("ftp://example")
