"""Istio series recorded by the running demo mesh (real HTTP on loopback), and its fault knobs."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import time

import aiohttp
import pytest

from observe.demo.faults import Fault
from observe.demo.identity import bookinfo_edges
from observe.demo.istio_metrics import LABEL_NAMES, envoy_le
from observe.demo.mesh import DemoMesh, MeshConfig
from observe.errors import BadQuery, NotFound
from tests.unit.demo.conftest import MeshFactory, series, total


async def _get(url: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        await resp.read()
        return resp.status


async def test_every_edge_is_reported_by_both_sidecars(make_mesh: MeshFactory) -> None:
    mesh = await make_mesh()
    for _ in range(30):  # enough for every reviews version at equal weights (seeded)
        assert await _get(mesh.entry_url) == 200

    for src, dst in bookinfo_edges():
        sent = total(mesh.istio_stats(src), reporter="source", destination_workload=dst, response_code="200")
        received = total(mesh.istio_stats(dst), reporter="destination", source_workload=src, response_code="200")
        assert sent > 0, f"{src}->{dst}"
        assert sent == received, f"{src}->{dst}"
    assert total(mesh.istio_stats("reviews-v1"), reporter="source") == 0  # reviews-v1 never calls ratings
    # Traffic from the load generator (outside the mesh): unknown source, plaintext.
    [(labels, count)] = series(mesh.istio_stats("productpage-v1"), reporter="destination")
    assert count == 30
    assert labels["source_workload"] == labels["source_principal"] == labels["destination_principal"] == "unknown"
    assert labels["source_canonical_revision"] == "latest"
    assert labels["connection_security_policy"] == "none"


async def test_edge_labels_in_the_running_mesh(make_mesh: MeshFactory) -> None:
    mesh = await make_mesh(namespace="shop")
    assert await _get(mesh.entry_url) == 200
    [(src_labels, _)] = series(mesh.istio_stats("productpage-v1"), reporter="source", destination_app="details")
    [(dst_labels, _)] = series(mesh.istio_stats("details-v1"), reporter="destination")
    edge = {
        "source_workload": "productpage-v1",
        "source_workload_namespace": "shop",
        "source_principal": "spiffe://cluster.local/ns/shop/sa/bookinfo-productpage",
        "source_app": "productpage",
        "source_version": "v1",
        "source_canonical_service": "productpage",
        "source_canonical_revision": "v1",
        "source_cluster": "Kubernetes",
        "destination_workload": "details-v1",
        "destination_workload_namespace": "shop",
        "destination_principal": "spiffe://cluster.local/ns/shop/sa/bookinfo-details",
        "destination_app": "details",
        "destination_version": "v1",
        "destination_service": "details.shop.svc.cluster.local",
        "destination_service_name": "details",
        "destination_service_namespace": "shop",
        "destination_canonical_service": "details",
        "destination_canonical_revision": "v1",
        "destination_cluster": "Kubernetes",
        "request_protocol": "http",
        "response_code": "200",
        "grpc_response_status": "",
        "response_flags": "-",
    }
    assert src_labels == {**edge, "reporter": "source", "connection_security_policy": "unknown"}
    assert dst_labels == {**edge, "reporter": "destination", "connection_security_policy": "mutual_tls"}
    assert set(src_labels) == set(LABEL_NAMES)


async def test_metrics_endpoint_serves_the_sidecars_series(make_mesh: MeshFactory) -> None:
    mesh = await make_mesh()
    assert await _get(mesh.entry_url) == 200
    target = mesh.workload("details-v1").endpoint.address
    assert target in mesh.scrape_targets and len(mesh.scrape_targets) == 6
    async with aiohttp.ClientSession() as session, session.get(f"http://{target}{mesh.metrics_path}") as resp:
        text = await resp.text()
        assert resp.content_type == "text/plain"
    assert 'destination_workload="details-v1"' in text and 'reporter="destination"' in text
    assert text.count("istio_request_duration_milliseconds_bucket{") == 20
    assert 'le="3600000"' in text and 'le="+Inf"' in text
    assert total(mesh.istio_stats("details-v1")) == 1  # scrapes are not requests through the sidecar


async def test_error_ratio_with_a_seed(make_mesh: MeshFactory) -> None:
    mesh = await make_mesh(faults={"ratings-v1": Fault(error_ratio=0.25, error_code=503)})
    caller = mesh.workload("reviews-v2").sidecar
    outcomes = [await caller.call("ratings", "/ratings/0") for _ in range(200)]
    errors = sum(o.status == 503 for o in outcomes)
    assert 30 <= errors <= 70  # Binomial(200, 0.25): mean 50, sd ~6
    assert all(o.status in (200, 503) and o.flags == "-" for o in outcomes)  # app errors carry no Envoy flag
    ratings = mesh.istio_stats("ratings-v1")
    assert total(ratings, reporter="destination", response_code="503", response_flags="-") == errors
    assert total(ratings, reporter="destination", response_code="200") == 200 - errors
    reviews = mesh.istio_stats("reviews-v2")
    assert total(reviews, reporter="source", response_code="503", destination_workload="ratings-v1") == errors


async def test_same_seed_same_errors(make_mesh: MeshFactory) -> None:
    runs = []
    for _ in range(2):
        mesh = await make_mesh(seed=11, faults={"details": Fault(error_ratio=0.5)})
        caller = mesh.workload("productpage-v1").sidecar
        runs.append([(await caller.call("details", "/details/0")).status for _ in range(40)])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 500}


async def test_added_latency_lands_in_the_right_bucket(make_mesh: MeshFactory) -> None:
    mesh = await make_mesh()
    mesh.set_fault("details-v1", Fault(latency_ms=120))
    caller = mesh.workload("productpage-v1").sidecar
    started = time.perf_counter()
    outcome = await caller.call("details", "/details/0")
    assert outcome.status == 200
    assert time.perf_counter() - started >= 0.12
    text = mesh.istio_stats("details-v1").exposition().decode()
    assert f'le="{envoy_le(100)}"' in text
    bucket = {le: float(v) for le, v in _buckets(text).items()}
    assert bucket["100"] == 0 and bucket["250"] == 1


async def test_service_time_gives_each_app_its_own_latency(make_mesh: MeshFactory) -> None:
    # reviews' median work is 9 ms × 4 = 36 ms, log-normal σ 0.5: 20 calls all land above 10 ms and below 250 ms
    mesh = await make_mesh(service_time_scale=4.0, reviews_weights={"v1": 1, "v2": 0, "v3": 0})
    caller = mesh.workload("productpage-v1").sidecar
    for _ in range(20):
        assert (await caller.call("reviews", "/reviews/0")).status == 200
    buckets = _buckets(mesh.istio_stats("reviews-v1").exposition().decode())  # only its inbound series
    assert float(buckets["+Inf"]) == 20 and float(buckets["10"]) == 0 and float(buckets["250"]) == 20


def _buckets(text: str) -> dict[str, str]:
    return dict(re.findall(r'_bucket\{.*le="([^"]+)".*\} (\S+)', text))


async def test_down_workload_gives_uf_503_with_unknown_destination(make_mesh: MeshFactory) -> None:
    mesh = await make_mesh()
    caller = mesh.workload("reviews-v3").sidecar
    assert (await caller.call("ratings", "/ratings/0")).status == 200
    mesh.set_fault("ratings-v1", Fault(down=True))
    await mesh.settle()
    assert mesh.workload("ratings-v1").is_down

    outcome = await caller.call("ratings", "/ratings/0")
    assert (outcome.status, outcome.flags, outcome.peer) == (503, "UF", None)
    [(labels, count)] = series(mesh.istio_stats("reviews-v3"), reporter="source", response_flags="UF")
    assert count == 1
    assert labels["response_code"] == "503"
    assert labels["destination_workload"] == labels["destination_version"] == "unknown"
    assert labels["destination_service"] == "ratings.bookinfo.svc.cluster.local"
    assert labels["destination_canonical_revision"] == "latest"
    assert total(mesh.istio_stats("ratings-v1"), reporter="destination") == 1  # the dead pod saw nothing

    # productpage stays up (Bookinfo degrades gracefully) and comes back to full health when ratings returns.
    mesh.set_fault("ratings-v1", None)
    await mesh.settle()
    assert (await caller.call("ratings", "/ratings/0")).status == 200
    assert total(mesh.istio_stats("ratings-v1"), reporter="destination", response_code="200") == 2


async def test_quick_down_up_flip_ends_up(make_mesh: MeshFactory) -> None:
    mesh = await make_mesh()
    mesh.set_fault("details", Fault(down=True))
    mesh.set_fault("details", Fault(down=False))
    await mesh.settle()
    assert not mesh.workload("details-v1").is_down
    assert (await mesh.workload("productpage-v1").sidecar.call("details", "/details/0")).status == 200


async def test_route_timeout_gives_ut_504_and_the_callee_sees_a_disconnect(make_mesh: MeshFactory) -> None:
    mesh = await make_mesh(route_timeout_s=0.2, faults={"ratings-v1": Fault(latency_ms=1000)})
    outcome = await mesh.workload("reviews-v2").sidecar.call("ratings", "/ratings/0")
    assert (outcome.status, outcome.flags) == (504, "UT")
    [(labels, _)] = series(mesh.istio_stats("reviews-v2"), reporter="source")
    assert (labels["response_code"], labels["response_flags"], labels["destination_workload"]) == (
        "504",
        "UT",
        "unknown",
    )
    ratings = mesh.istio_stats("ratings-v1")
    for _ in range(50):  # the server notices the hang-up asynchronously
        if total(ratings, reporter="destination"):
            break
        await asyncio.sleep(0.02)
    [(dst, count)] = series(ratings, reporter="destination")
    assert (dst["response_code"], dst["response_flags"], count) == ("0", "DC", 1)


async def test_unknown_workload_and_config_errors(make_mesh: MeshFactory) -> None:
    mesh = await make_mesh()
    with pytest.raises(NotFound):
        mesh.set_fault("nope-v1", Fault())
    with pytest.raises(NotFound):
        mesh.workload("nope-v1")
    with pytest.raises(ValueError):
        DemoMesh(MeshConfig(host="10.1.2.3"))  # 0.0.0.0 is allowed (containers); a routable address is not
    with pytest.raises(NotFound):
        DemoMesh(MeshConfig(faults={"nope": Fault()}))
    with pytest.raises(ValueError):
        DemoMesh(MeshConfig(rps=-1))
    with pytest.raises(ValueError):
        DemoMesh(MeshConfig(sampling_ratio=2))
    with pytest.raises(BadQuery):
        DemoMesh(MeshConfig(reviews_weights={"v7": 1}))


async def test_an_app_name_sets_every_version(make_mesh: MeshFactory) -> None:
    mesh = await make_mesh()
    mesh.set_fault("reviews", Fault(error_ratio=1.0))
    assert {name for name, f in mesh.faults().items() if f.error_ratio == 1.0} == {
        "reviews-v1",
        "reviews-v2",
        "reviews-v3",
    }
    outcomes = [await mesh.workload("productpage-v1").sidecar.call("reviews", "/reviews/0") for _ in range(10)]
    assert {o.status for o in outcomes} == {500}


async def test_fixed_ports_as_in_a_container(make_mesh: MeshFactory) -> None:
    base = _free_port_run(6)
    mesh = await make_mesh(port_base=base)
    assert [int(t.rsplit(":", 1)[1]) for t in mesh.scrape_targets] == list(range(base, base + 6))
    assert await _get(mesh.entry_url) == 200
    # in a container the mesh listens on 0.0.0.0 (accepted; not started here: tests stay on loopback)
    DemoMesh(MeshConfig(host="0.0.0.0", port_base=base))


def _free_port_run(length: int, attempts: int = 50) -> int:
    """The first of `length` consecutive loopback ports that are all free now (bounded tries)."""
    from observe.demo.prometheus import free_port

    for _ in range(attempts):
        base = free_port()
        with contextlib.ExitStack() as held:
            try:
                for port in range(base, base + length):
                    held.enter_context(socket.socket()).bind(("127.0.0.1", port))
            except OSError:
                continue
        return base
    raise RuntimeError(f"no {length} consecutive free ports in {attempts} tries")
