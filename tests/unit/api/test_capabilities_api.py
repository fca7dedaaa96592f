"""GET /api/v1/capabilities: what a UI may render (edit endpoints, writes), the presets; never credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from observe.api.app import create_app
from observe.settings import Settings
from tests.fakes.metrics import FakeMetricsSource

ClientFactory = Any


@pytest.mark.parametrize(("rules", "writes", "expected"), [
    (False, False, {"enabled": False, "writes": False}),
    (True, False, {"enabled": True, "writes": False}),
    (True, True, {"enabled": True, "writes": True}),
    (False, True, {"enabled": False, "writes": False}),  # no edit endpoints: nothing to write to
])  # fmt: skip
async def test_capabilities_say_whether_edits_and_writes_are_on(
    aiohttp_client: ClientFactory, tmp_path: Path, rules: bool, writes: bool, expected: dict[str, bool]
) -> None:
    settings = Settings(rules_dir=str(tmp_path) if rules else "", audit_db=str(tmp_path / "audit.sqlite3"),
                        allow_writes=writes, write_token="secret-token")  # fmt: skip
    client: TestClient = await aiohttp_client(create_app(settings, metrics_source=FakeMetricsSource()))  # type: ignore[type-arg]
    response = await client.get("/api/v1/capabilities")
    assert response.status == 200
    body = await response.json()
    assert body["edits"] == expected
    assert set(body["presets"]) == {"conservative", "balanced", "aggressive"}
    assert body["presets"]["balanced"]["connectionPool"]["tcp"]["maxConnections"] == 100
    assert "secret-token" not in await response.text()
