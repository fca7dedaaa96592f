"""The control endpoint: faults, load, weights and stats over HTTP, with 400/404 on bad input."""

from __future__ import annotations

from typing import Any

import aiohttp

from observe.demo.faults import Fault
from tests.unit.demo.conftest import MeshFactory, total


async def _call(method: str, url: str, body: Any = None, raw: bytes | None = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        kwargs: dict[str, Any] = {"data": raw} if raw is not None else {"json": body}
        async with session.request(method, url, **kwargs) as resp:
            return resp.status, await resp.json()


async def test_faults_get_put_delete(make_mesh: MeshFactory) -> None:
    mesh = await make_mesh()
    url = mesh.control_url
    status, body = await _call("GET", f"{url}/faults")
    assert status == 200
    assert set(body["faults"]) == {
        "productpage-v1",
        "details-v1",
        "reviews-v1",
        "reviews-v2",
        "reviews-v3",
        "ratings-v1",
    }
    assert body["faults"]["ratings-v1"] == {"error_ratio": 0.0, "error_code": 500, "latency_ms": 0.0, "down": False}

    fault = {"error_ratio": 0.2, "error_code": 503, "latency_ms": 5, "down": False}
    status, body = await _call("PUT", f"{url}/faults/reviews-v2", fault)
    assert status == 200
    assert body["faults"]["reviews-v2"] == fault
    assert mesh.faults()["reviews-v2"] == Fault(error_ratio=0.2, error_code=503, latency_ms=5)

    status, body = await _call("DELETE", f"{url}/faults/reviews-v2")
    assert status == 200
    assert mesh.faults()["reviews-v2"] == Fault()


async def test_put_down_is_in_effect_when_answered(make_mesh: MeshFactory) -> None:
    mesh = await make_mesh()
    status, _ = await _call("PUT", f"{mesh.control_url}/faults/details-v1", {"down": True})
    assert status == 200
    assert mesh.workload("details-v1").is_down
    outcome = await mesh.workload("productpage-v1").sidecar.call("details", "/details/0")
    assert (outcome.status, outcome.flags) == (503, "UF")
    status, _ = await _call("DELETE", f"{mesh.control_url}/faults/details-v1")
    assert status == 200 and not mesh.workload("details-v1").is_down


async def test_bad_input_is_400_and_unknown_names_404(make_mesh: MeshFactory) -> None:
    mesh = await make_mesh()
    url = mesh.control_url
    bad_requests = [
        ("PUT", "/faults/reviews-v2", None, b"{not json"),
        ("PUT", "/faults/reviews-v2", {"error_ratio": 3}, None),
        ("PUT", "/faults/reviews-v2", {"error_rate": 0.1}, None),
        ("PUT", "/faults/reviews-v2", [1, 2], None),
        ("PUT", "/load", {"rps": -5}, None),
        ("PUT", "/load", {"rps": "fast"}, None),
        ("PUT", "/load", {"qps": 5}, None),
        ("PUT", "/weights/reviews", {"v9": 1}, None),
        ("PUT", "/weights/reviews", {"v1": 0, "v2": 0, "v3": 0}, None),
        ("PUT", "/weights/reviews", [1], None),
    ]
    for method, path, body, raw in bad_requests:
        status, answer = await _call(method, url + path, body, raw)
        assert status == 400, (path, body, raw)
        assert answer["error"]["code"] == "bad_query" and answer["error"]["message"]
    for method, path, body in [
        ("PUT", "/faults/nope-v1", {"error_ratio": 0.1}),
        ("DELETE", "/faults/nope-v1", None),
        ("PUT", "/weights/nope", {"v1": 1}),
        ("GET", "/weights/nope", None),
    ]:
        status, answer = await _call(method, url + path, body)
        assert status == 404, path
        assert answer["error"]["code"] == "not_found"
    assert mesh.faults()["reviews-v2"] == Fault()
    assert mesh.weights("reviews") == {"v1": 1.0, "v2": 1.0, "v3": 1.0}


async def test_weights_steer_reviews_traffic(make_mesh: MeshFactory) -> None:
    mesh = await make_mesh()
    status, body = await _call("PUT", f"{mesh.control_url}/weights/reviews", {"v1": 1, "v2": 1, "v3": 0})
    assert status == 200 and body["weights"] == {"v1": 1.0, "v2": 1.0, "v3": 0.0}
    caller = mesh.workload("productpage-v1").sidecar
    for _ in range(30):
        await caller.call("reviews", "/reviews/0")
    assert total(mesh.istio_stats("reviews-v3")) == 0
    assert total(mesh.istio_stats("reviews-v1"), reporter="destination") > 0
    assert total(mesh.istio_stats("reviews-v2"), reporter="destination") > 0
    status, body = await _call("GET", f"{mesh.control_url}/weights/reviews")
    assert body["weights"]["v3"] == 0.0


async def test_load_and_stats(make_mesh: MeshFactory) -> None:
    mesh = await make_mesh()
    status, body = await _call("PUT", f"{mesh.control_url}/load", {"rps": 20})
    assert (status, body) == (200, {"rps": 20.0})
    assert mesh.load_stats().target_rps == 20.0
    status, stats = await _call("GET", f"{mesh.control_url}/stats")
    assert status == 200
    assert stats["target_rps"] == 20.0
    assert {"sent", "by_code", "errors", "started_at", "elapsed_s", "achieved_rps", "skipped"} <= set(stats)
    status, described = await _call("GET", f"{mesh.control_url}/mesh")
    assert described["scrape_targets"] == mesh.scrape_targets and described["entry_url"] == mesh.entry_url
