"""The OpenAPI document against the app's real router: every route is described, every described route exists."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from openapi_schema_validator import OAS30Validator

from observe.api.app import create_app
from observe.api.openapi import document
from observe.settings import Settings
from tests.fakes.metrics import FakeMetricsSource
from tests.unit.api.test_api import ClientFactory

METHODS = {"get", "post", "put", "patch", "delete"}


def full_settings(tmp_path: Path) -> Settings:
    """Every optional feature on (edits, writes, snapshots, Jaeger), so every route is registered."""
    wanted: dict[str, Any] = {"rules_dir": str(tmp_path / "rules"), "data_dir": str(tmp_path / "data"),
                              "audit_db": str(tmp_path / "audit.sqlite3"), "allow_writes": True,
                              "write_token": "t0ken", "jaeger_url": "http://127.0.0.1:9"}  # fmt: skip
    names = {f.name for f in dataclasses.fields(Settings)}
    return Settings(**{k: v for k, v in wanted.items() if k in names})


def documented() -> set[tuple[str, str]]:
    return {(m.upper(), path) for path, item in document()["paths"].items() for m in item if m in METHODS}


def test_every_route_is_documented_and_every_documented_route_exists(tmp_path: Path) -> None:
    app = create_app(full_settings(tmp_path), metrics_source=FakeMetricsSource())
    routed = {(r.method, r.resource.canonical) for r in app.router.routes() if r.resource and r.method != "HEAD"}
    assert routed - documented() == set(), "routes missing from observe/api/openapi.yaml"
    assert documented() - routed == set(), "observe/api/openapi.yaml describes routes that do not exist"


def test_document_is_valid_openapi_with_resolvable_schemas() -> None:
    doc = document()
    assert doc["openapi"].startswith("3.0")
    for schema in doc["components"]["schemas"].values():
        OAS30Validator.check_schema(schema)


async def test_served_as_json(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    client: TestClient = await aiohttp_client(create_app(Settings(), metrics_source=FakeMetricsSource()))  # type: ignore[type-arg]
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200 and response.content_type == "application/json"
    assert (await response.json())["paths"]["/api/v1/topology"]["get"]["parameters"]
