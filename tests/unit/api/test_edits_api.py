"""The edit endpoints: reads open, writes behind auth + CSRF, denials audited, errors as JSON."""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient

from observe.actions.audit import AuditLog, Result
from observe.actions.files import RulesDirectory
from observe.api.app import create_app
from observe.api.auth import WriteAuth
from observe.api.edits import register_edit_routes
from observe.services.edits import EditService
from observe.settings import Settings
from tests.fakes.metrics import FakeMetricsSource

ClientFactory = Callable[[Any], Awaitable[TestClient]]  # type: ignore[type-arg]
TOKEN = "s3cret-token-for-tests"
GOOD = {"Authorization": f"Bearer {TOKEN}", "X-Requested-By": "observe"}
URL = "/api/v1/destination-rules/bookinfo/reviews"
POOL = {"spec": {"connectionPool": {"tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 1}}},
        "reason": "load test"}  # fmt: skip


def service_for(tmp_path: Path) -> EditService:
    return EditService(RulesDirectory(tmp_path / "rules"), AuditLog(tmp_path / "audit.sqlite3"))


async def client_for(aiohttp_client: ClientFactory, service: EditService, auth: WriteAuth) -> TestClient:  # type: ignore[type-arg]
    app = create_app(Settings(), metrics_source=FakeMetricsSource())
    register_edit_routes(app, service, auth)
    return await aiohttp_client(app)


@pytest.fixture
def service(tmp_path: Path) -> EditService:
    return service_for(tmp_path)


@pytest.fixture
async def client(aiohttp_client: ClientFactory, service: EditService) -> TestClient:  # type: ignore[type-arg]
    return await client_for(aiohttp_client, service, WriteAuth(enabled=True, token=TOKEN))


def rule_file(service: EditService) -> Path:
    assert isinstance(service.applier, RulesDirectory)
    return service.applier.root / "destinationrules/bookinfo/reviews.yaml"


async def test_edit_then_read_then_audit_then_revert(client: TestClient, service: EditService) -> None:  # type: ignore[type-arg]
    missing = await client.get(URL)
    assert missing.status == 404 and "no DestinationRule 'reviews'" in (await missing.json())["error"]["message"]
    response = await client.post(URL, json=POOL, headers=GOOD)
    body = await response.json()
    assert response.status == 200 and body["applied"] and not body["dry_run"] and "maxConnections: 1" in body["diff"]
    live = await (await client.get(URL)).json()
    assert live["object"]["spec"]["trafficPolicy"]["connectionPool"]["tcp"]["maxConnections"] == 1
    audit = await (await client.get("/api/v1/audit?limit=5&target=DestinationRule/bookinfo/reviews")).json()
    assert audit["entries"][0]["id"] == body["audit_id"] and audit["entries"][0]["actor"] == "token"
    reverted = await client.post(f"/api/v1/audit/{body['audit_id']}/revert", headers=GOOD)
    assert reverted.status == 200 and not rule_file(service).exists()


async def test_dry_run_writes_nothing(client: TestClient, service: EditService) -> None:  # type: ignore[type-arg]
    response = await client.post(URL, json={"preset": "balanced", "dry_run": True}, headers=GOOD)
    body = await response.json()
    assert body["dry_run"] and not body["applied"] and body["audit_id"] is None
    assert body["object"]["spec"]["host"] == "reviews" and not rule_file(service).exists()


@pytest.mark.parametrize(("payload", "field"), [
    ({"spec": {"outlierDetection": {"maxEjectionPercent": 101}}},
     "spec.trafficPolicy.outlierDetection.maxEjectionPercent"),
    ({"preset": "wild"}, "preset"),
    ({"preset": "balanced", "colour": "red"}, "colour"),
    ({"preset": "balanced", "dry_run": "yes"}, "dry_run"),
    ([1, 2], "body"),
])  # fmt: skip
async def test_invalid_edits_answer_422(client: TestClient, service: EditService, payload: Any, field: str) -> None:  # type: ignore[type-arg]
    response = await client.post(URL, json=payload, headers=GOOD)
    error = (await response.json())["error"]
    assert response.status == 422 and error["code"] == "invalid_edit" and error["field"] == field
    assert not rule_file(service).exists()


async def test_body_cap_and_media_type(client: TestClient) -> None:  # type: ignore[type-arg]
    big = await client.post(URL, data=b"{" + b" " * 70_000 + b"}", headers={**GOOD, "Content-Type": "application/json"})
    assert big.status == 413
    form = await client.post(URL, data=b"preset=balanced", headers={**GOOD, "Content-Type": "text/plain"})
    assert form.status == 415


async def test_conflict_answers_409_with_the_fresh_object(client: TestClient, service: EditService) -> None:  # type: ignore[type-arg]
    await client.post(URL, json=POOL, headers=GOOD)
    first = (await (await client.get("/api/v1/audit")).json())["entries"][0]["id"]
    await client.post(URL, json={"preset": "balanced"}, headers=GOOD)
    response = await client.post(f"/api/v1/audit/{first}/revert", headers=GOOD)
    error = (await response.json())["error"]
    assert response.status == 409 and error["code"] == "conflict"
    assert error["object"]["spec"]["trafficPolicy"]["connectionPool"]["tcp"]["maxConnections"] == 100


@pytest.mark.parametrize(("auth", "headers", "status"), [
    (WriteAuth(enabled=False, token=TOKEN), GOOD, 403),
    (WriteAuth(enabled=True, token=TOKEN), {"X-Requested-By": "observe"}, 401),
    (WriteAuth(enabled=True, token=TOKEN), {**GOOD, "Authorization": "Bearer wrong"}, 401),
    (WriteAuth(enabled=True, token=TOKEN), {"Authorization": f"Bearer {TOKEN}"}, 403),
    (WriteAuth(enabled=True, token=TOKEN), {**GOOD, "Origin": "https://evil.example"}, 403),
    (WriteAuth(enabled=True, user_header="X-Forwarded-User", trusted_proxies=("10.0.0.0/8",)),
     {"X-Requested-By": "observe", "X-Forwarded-User": "mallory"}, 401),
])  # fmt: skip
async def test_denied_writes_write_nothing_and_are_audited(
    aiohttp_client: ClientFactory, tmp_path: Path, auth: WriteAuth, headers: dict[str, str], status: int
) -> None:
    service = service_for(tmp_path)
    client = await client_for(aiohttp_client, service, auth)
    response = await client.post(URL, json=POOL, headers=headers)
    assert response.status == status
    assert not rule_file(service).exists()
    entry = (await service.history())[0]
    assert entry.result is Result.DENIED and entry.target == "DestinationRule/bookinfo/reviews" and entry.detail
    assert TOKEN not in str(entry) and TOKEN not in await response.text()
    viewer = await client.get("/api/v1/audit")  # a viewer (no credentials) can still read
    assert viewer.status == 200


async def test_trusted_proxy_header_identifies_the_user(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    service = service_for(tmp_path)
    auth = WriteAuth(enabled=True, user_header="X-Forwarded-User")  # loopback proxies trusted by default
    client = await client_for(aiohttp_client, service, auth)
    response = await client.post(URL, json=POOL, headers={"X-Requested-By": "observe", "X-Forwarded-User": "carol"})
    assert response.status == 200
    entry = (await service.history())[0]
    assert (entry.actor, entry.strategy, entry.result) == ("carol", "header", Result.APPLIED)
    assert yaml.safe_load(rule_file(service).read_text())["spec"]["host"] == "reviews"


async def test_audit_limit_is_checked(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/api/v1/audit?limit=0")
    assert response.status == 400 and (await response.json())["error"]["field"] == "limit"


async def in_pieces(*pieces: bytes) -> AsyncIterator[bytes]:
    """A chunked body sent in separate writes, a pause between them, as a slow network delivers it."""
    for piece in pieces:
        yield piece
        await asyncio.sleep(0.02)


async def test_a_body_arriving_in_pieces_is_read_whole(client: TestClient, service: EditService) -> None:  # type: ignore[type-arg]
    raw = json.dumps(POOL).encode()
    response = await client.post(URL, data=in_pieces(raw[:10], raw[10:30], raw[30:]),
                                 headers={**GOOD, "Content-Type": "application/json"})  # fmt: skip
    assert response.status == 200, await response.text()
    assert "maxConnections: 1" in rule_file(service).read_text()


async def test_a_chunked_body_over_the_cap_is_413(client: TestClient) -> None:  # type: ignore[type-arg]
    piece = b" " * (40 * 1024)  # no Content-Length: only counting what arrives can refuse it
    response = await client.post(URL, data=in_pieces(piece, piece, b"{}"),
                                 headers={**GOOD, "Content-Type": "application/json"})  # fmt: skip
    assert response.status == 413 and (await response.json())["error"]["field"] == "body"


async def test_deeply_nested_json_is_422_not_500(client: TestClient) -> None:  # type: ignore[type-arg]
    deep = '{"spec": ' + "[" * 20_000 + "]" * 20_000 + "}"
    response = await client.post(URL, data=deep, headers={**GOOD, "Content-Type": "application/json"})
    error = (await response.json())["error"]
    assert response.status == 422 and error["field"] == "body" and "nested" in error["message"]


async def test_superscript_digits_in_ids_and_limits_are_400_not_500(client: TestClient) -> None:  # type: ignore[type-arg]
    assert (await client.get("/api/v1/audit", params={"limit": "²"})).status == 400  # "²".isdigit(); int("²") fails
    assert (await client.post("/api/v1/audit/²/revert", headers=GOOD)).status == 400
