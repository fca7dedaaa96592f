"""Request ids in and out and on every log line of a request; credentials never reach a log or the audit log."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from observe.api.app import create_app
from observe.api.middleware import RequestIdFilter
from observe.cli.serve import _JsonFormatter
from observe.settings import Settings
from tests.fakes.metrics import FakeMetricsSource
from tests.unit.api.test_api import ClientFactory
from tests.unit.bookinfo_samples import bookinfo_rates

TOKEN = "s3cret-T0KEN-value"
log = logging.getLogger("observe.test")


async def logs_in_handler_and_thread(request: web.Request) -> web.Response:
    log.info("in the handler")
    await asyncio.to_thread(log.info, "in a worker thread")
    return web.json_response({})


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.DEBUG)
    return caplog


async def test_request_id_is_echoed_and_on_every_log_line_of_the_request(
    aiohttp_client: ClientFactory, captured: pytest.LogCaptureFixture
) -> None:
    app = create_app(Settings(), metrics_source=FakeMetricsSource(rates=bookinfo_rates()))
    app.router.add_get("/test/log", logs_in_handler_and_thread)
    client: TestClient = await aiohttp_client(app)  # type: ignore[type-arg]
    response = await client.get("/test/log", headers={"X-Request-Id": "abc-123"})
    assert response.headers["X-Request-Id"] == "abc-123"
    lines = [r for r in captured.records if r.name.startswith("observe")]
    assert {r.getMessage().split(" ")[0] for r in lines} >= {"in", "GET"}  # handler, thread and access line
    assert {r.request_id for r in lines} == {"abc-123"}  # type: ignore[attr-defined]
    forged = await client.get("/api/v1/topology", headers={"X-Request-Id": "x INFO forged line"})
    fresh = forged.headers["X-Request-Id"]
    assert len(fresh) == 16 and " " not in fresh  # replaced: an id cannot carry spaces (or line breaks)
    other = await client.get("/api/v1/topology")
    assert other.headers["X-Request-Id"] not in (fresh, "abc-123")


def test_json_log_lines_carry_the_request_id() -> None:
    record = logging.LogRecord("observe.api", logging.INFO, __file__, 1, "GET %s", ("/x",), None)
    RequestIdFilter().filter(record)
    assert json.loads(_JsonFormatter().format(record))["request_id"] == "-"  # outside a request


async def test_tokens_are_never_logged_nor_audited(
    aiohttp_client: ClientFactory, captured: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    settings = Settings(rules_dir=str(tmp_path / "rules"), audit_db=str(tmp_path / "audit.sqlite3"),
                        allow_writes=True, write_token=TOKEN)  # fmt: skip
    client: TestClient = await aiohttp_client(create_app(settings, metrics_source=FakeMetricsSource()))  # type: ignore[type-arg]
    url = "/api/v1/destination-rules/bookinfo/reviews"
    for token in (TOKEN, TOKEN + "-wrong", TOKEN[:-1]):
        for csrf in ({"X-Requested-By": "observe"}, {}):
            headers = {"Authorization": f"Bearer {token}", **csrf, "X-Request-Id": "t"}
            await client.post(url, json={"preset": "no-such-preset", "dry_run": True}, headers=headers)
            await client.post(url, data=b"{not json", headers={**headers, "Content-Type": "application/json"})
    assert len((await (await client.get("/api/v1/audit")).json())["entries"]) >= 8  # the denials were audited
    formatter = _JsonFormatter()
    text = "\n".join(formatter.format(r) for r in captured.records) + repr(settings)
    assert captured.records and TOKEN[:-1] not in text
    stored = await asyncio.to_thread(lambda: b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()))
    assert TOKEN[:-1].encode() not in stored  # the audit names the caller ("token"), never the credential
