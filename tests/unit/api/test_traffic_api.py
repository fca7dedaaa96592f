"""The traffic endpoints: strategies through the edit pipeline, reads open, writes behind WriteAuth."""

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from observe.actions.audit import AuditLog, Result
from observe.actions.files import RulesDirectory
from observe.api.app import create_app
from observe.api.auth import WriteAuth
from observe.api.edits import register_edit_routes
from observe.api.traffic import register_traffic_routes
from observe.services.edits import EditService
from observe.services.traffic import TrafficService
from observe.settings import Settings
from tests.fakes.metrics import FakeMetricsSource

ClientFactory = Callable[[Any], Awaitable[TestClient]]  # type: ignore[type-arg]
TOKEN = "s3cret-token-for-tests"
GOOD = {"Authorization": f"Bearer {TOKEN}", "X-Requested-By": "observe"}
URL = "/api/v1/traffic/bookinfo/reviews"
VS_URL = "/api/v1/virtual-services/bookinfo/reviews"
SPLIT = {"strategy": "weights", "weights": {"v1": 80, "v2": 20}, "versions": ["v1", "v2", "v3"], "reason": "canary"}


async def client_for(aiohttp_client: ClientFactory, tmp_path: Path, auth: WriteAuth) -> tuple[TestClient, EditService]:  # type: ignore[type-arg]
    service = EditService(RulesDirectory(tmp_path / "rules"), AuditLog(tmp_path / "audit.sqlite3"))
    app = create_app(Settings(), metrics_source=FakeMetricsSource())
    register_edit_routes(app, service, auth)
    register_traffic_routes(app, TrafficService(service), auth)
    return await aiohttp_client(app), service


@pytest.fixture
async def client(aiohttp_client: ClientFactory, tmp_path: Path) -> TestClient:  # type: ignore[type-arg]
    return (await client_for(aiohttp_client, tmp_path, WriteAuth(enabled=True, token=TOKEN)))[0]


async def test_split_then_read_then_revert(client: TestClient) -> None:  # type: ignore[type-arg]
    assert (await client.get(VS_URL)).status == 404
    response = await client.post(URL, json=SPLIT, headers=GOOD)
    body = await response.json()
    assert response.status == 200 and body["applied"] and body["strategy"] == "weights"
    assert set(body["objects"]) == {"VirtualService", "DestinationRule"} and len(body["audit_ids"]) == 2
    assert "weight: 80" in body["diff"] and "name: v2" in body["diff"]
    live = await (await client.get(VS_URL)).json()
    assert live["object"]["spec"]["http"][0]["route"][0]["weight"] == 80
    assert [s["name"] for s in live["destination_rule"]["spec"]["subsets"]] == ["v1", "v2"]
    for audit_id in body["revert_order"]:
        assert (await client.post(f"/api/v1/audit/{audit_id}/revert", headers=GOOD)).status == 200
    assert (await client.get(VS_URL)).status == 404


@pytest.mark.parametrize("payload", [
    {"strategy": "take-over", "version": "v2", "versions": ["v1", "v2"]},
    {"strategy": "roll-back", "versions": ["v1", "v2"]},
    {"strategy": "blue-green", "version": "v2", "versions": ["v1", "v2"]},
    {"strategy": "match", "version": "v2", "versions": ["v1", "v2"],
     "match": {"kind": "cookie", "name": "user", "value": "jason"}},
    {"strategy": "match", "version": "v2", "versions": ["v1", "v2"], "match": {"kind": "uri", "value": "/v2/"}},
])  # fmt: skip
async def test_every_strategy_previews_without_writing(client: TestClient, payload: dict[str, Any]) -> None:  # type: ignore[type-arg]
    response = await client.post(URL, json={**payload, "dry_run": True}, headers=GOOD)
    body = await response.json()
    assert response.status == 200 and body["dry_run"] and not body["applied"] and body["audit_ids"] == []
    assert body["objects"]["VirtualService"]["kind"] == "VirtualService"
    assert (await client.get(VS_URL)).status == 404


async def test_mirror_after_a_split(client: TestClient) -> None:  # type: ignore[type-arg]
    await client.post(URL, json=SPLIT, headers=GOOD)
    response = await client.post(URL, json={"strategy": "mirror", "version": "v3", "mirror_percent": 10,
                                            "versions": ["v3"]}, headers=GOOD)  # fmt: skip
    body = await response.json()
    assert response.status == 200 and len(body["audit_ids"]) == 2  # the new v3 subset, then the route
    assert body["objects"]["VirtualService"]["spec"]["http"][0]["mirrorPercentage"] == {"value": 10.0}


@pytest.mark.parametrize(("payload", "field"), [
    ({**SPLIT, "weights": {"v1": 80, "v2": 30}}, "weights"),
    ({**SPLIT, "weights": {"v1": 80, "v9": 20}}, "weights.v9"),
    ({"strategy": "take-over", "version": "v2"}, "version"),
    ({"strategy": "mirror", "version": "v1", "mirror_percent": 10, "versions": ["v1"]}, "version"),
    ({"strategy": "mirror", "version": "v2", "mirror_percent": True}, "mirror_percent"),
    ({"strategy": "match", "version": "v2", "match": {"kind": "header", "name": "end-user", "op": "regex",
                                                      "value": "(a)\\1"}}, "match.value"),
    ({"strategy": "match", "version": "v2", "match": {"kind": "header", "colour": "x"}}, "match.colour"),
    ({"strategy": "fast"}, "strategy"),
    ({**SPLIT, "preset": "balanced"}, "preset"),
    ({**SPLIT, "versions": "v1"}, "versions"),
])  # fmt: skip
async def test_refusals_answer_422_naming_the_field(client: TestClient, payload: Any, field: str) -> None:  # type: ignore[type-arg]
    response = await client.post(URL, json=payload, headers=GOOD)
    error = (await response.json())["error"]
    assert response.status == 422 and error["field"] == field, error


@pytest.mark.parametrize(("auth", "headers", "status"), [
    (WriteAuth(enabled=False, token=TOKEN), GOOD, 403),
    (WriteAuth(enabled=True, token=TOKEN), {"X-Requested-By": "observe"}, 401),
    (WriteAuth(enabled=True, token=TOKEN), {"Authorization": f"Bearer {TOKEN}"}, 403),
])  # fmt: skip
async def test_denied_writes_write_nothing_and_are_audited(aiohttp_client: ClientFactory, tmp_path: Path,
                                                           auth: WriteAuth, headers: dict[str, str],
                                                           status: int) -> None:  # fmt: skip
    client, service = await client_for(aiohttp_client, tmp_path, auth)
    response = await client.post(URL, json=SPLIT, headers=headers)
    assert response.status == status
    assert not (tmp_path / "rules" / "virtualservices").exists()
    entry = (await service.history())[0]
    assert entry.result is Result.DENIED and entry.target == "VirtualService/bookinfo/reviews"
