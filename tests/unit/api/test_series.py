from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from observe.api.app import create_app
from observe.model.samples import RangeSeries
from observe.settings import Settings
from tests.fakes.metrics import FakeMetricsSource
from tests.unit.bookinfo_samples import bookinfo_rates

NOW = 1_800_000_000.0
T0, T1 = NOW - 60, NOW - 30
ClientFactory = Callable[[Any], Awaitable[TestClient]]  # type: ignore[type-arg]


def ranged() -> list[RangeSeries]:
    """The Bookinfo vectors at T0, and at T1 with reviews-v2's 500s gone."""
    out = []
    for sample in bookinfo_rates():
        later = 0.0 if sample.labels["response_code"] == "500" else sample.value
        out.append(RangeSeries(sample.labels, ((T0, sample.value), (T1, later))))
    return out


@pytest.fixture
async def client(aiohttp_client: ClientFactory) -> TestClient:  # type: ignore[type-arg]
    quantile_labels = {"source_workload_namespace": "bookinfo", "source_canonical_service": "productpage",
                       "source_canonical_revision": "v1", "destination_workload_namespace": "bookinfo",
                       "destination_canonical_service": "reviews", "destination_canonical_revision": "v2"}  # fmt: skip
    source = FakeMetricsSource(
        range_rates=ranged(),
        range_quantiles=[RangeSeries({**quantile_labels, "quantile": "0.99"}, ((T0, 88.0), (T1, float("nan"))))],
    )
    return await aiohttp_client(create_app(Settings(), metrics_source=source, clock=lambda: NOW))


async def test_edge_series_points_follow_the_topology_rules(client: TestClient) -> None:  # type: ignore[type-arg]
    edge = {"source": "bookinfo/productpage/v1", "target": "bookinfo/reviews/v2"}
    response = await client.get("/api/v1/edges/series", params={**edge, "window": "1m", "step": "30s"})
    assert response.status == 200
    body = await response.json()
    assert (body["source"], body["target"], body["step_s"], body["end"]) == (
        "bookinfo/productpage/v1", "bookinfo/reviews/v2", 30.0, NOW)
    assert body["series"]["rps"] == [[T0, 3.0], [T1, 2.4]]
    assert body["series"]["success_rate"] == [[T0, 0.8], [T1, 1.0]]
    assert body["series"]["p99_ms"] == [[T0, 88.0], [T1, None]]
    assert body["responses"]["500"] == [[T0, 0.6], [T1, 0.0]]
    assert body["missing"] == []


async def test_node_series_sums_inbound_edges(client: TestClient) -> None:  # type: ignore[type-arg]
    body = await (await client.get("/api/v1/nodes/series", params={"node": "bookinfo/svc/reviews"})).json()
    assert body["node"] == "bookinfo/svc/reviews"
    assert body["series"]["rps"][0] == [T0, 0.5] and body["flags"]["UO"][0] == [T0, 0.5]


@pytest.mark.parametrize(("query", "status", "field"), [
    ({"source": "bookinfo/productpage/v1"}, 400, "target"),
    ({"source": "Bad/x", "target": "bookinfo/reviews"}, 400, "source"),
    ({"source": "a/b/c/d", "target": "bookinfo/reviews"}, 400, "source"),
    ({"source": "bookinfo/productpage/v1", "target": "bookinfo/nope/v9"}, 404, "source"),
    ({"source": "bookinfo/productpage/v1", "target": "bookinfo/reviews/v2", "step": "0s"}, 400, "step"),
    ({"source": "bookinfo/productpage/v1", "target": "bookinfo/reviews/v2", "window": "1d", "step": "1s"}, 400,
     "step"),
])  # fmt: skip
async def test_series_errors(client: TestClient, query: dict[str, str], status: int, field: str) -> None:  # type: ignore[type-arg]
    response = await client.get("/api/v1/edges/series", params=query)
    assert response.status == status
    assert (await response.json())["error"]["field"] == field
