"""A bounded schemathesis run against the API on loopback: no answer is a 5xx, and every answer matches the
OpenAPI document (status code, content type, body schema).

The API runs with every optional feature on (edits with writes and a token the fuzzer does not have, snapshots)
and a FakeMetricsSource holding the Bookinfo topology, so the run is about the API's input handling, not about
Prometheus. Bounds: a few examples per operation, no shrinking phase, no deadline per example.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from observe.api.app import create_app
from observe.api.openapi import document
from observe.cli.serve import start_site
from tests.fakes.metrics import FakeMetricsSource
from tests.unit.api.test_openapi import full_settings
from tests.unit.bookinfo_samples import bookinfo_rates

EXAMPLES_PER_OPERATION = 12
# Protobuf bodies are not generated (schemathesis has no strategy for them); the JSON ones are.
pytestmark = pytest.mark.filterwarnings("ignore:Skipped test cases with unsupported payload media types")
schema = schemathesis.openapi.from_dict(document())


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fuzzed-api", daemon=True)
    thread.start()
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    app = create_app(full_settings(tmp), metrics_source=FakeMetricsSource(rates=bookinfo_rates()))
    runner, port = asyncio.run_coroutine_threadsafe(start_site(app, "127.0.0.1", 0), loop).result(30)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))  # fmt: skip
def test_api_conforms_and_never_answers_5xx(case: schemathesis.Case, api_url: str) -> None:
    case.call_and_validate(base_url=api_url, timeout=10, checks=[content_type_conformance, status_code_conformance,
                                                                 response_schema_conformance])  # fmt: skip
