"""The demo obeys VirtualServices: match routes (header, cookie, URI), weights, mirroring marked as Envoy does."""

import asyncio
import random
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from observe.actions.traffic import TrafficChange, plan
from observe.actions.traffic_match import RequestMatch
from observe.demo.virtual_services import Decision, decide, is_shadow
from tests.unit.demo.conftest import MeshFactory, series

V = ("v1", "v2", "v3")
FQDN = "reviews.bookinfo.svc.cluster.local"


def objects(*changes: TrafficChange) -> tuple[dict[str, Any], dict[str, Any]]:
    rule: Any = None
    vs: Any = None
    for change in changes:
        rule, vs = plan(change, "bookinfo", "reviews", vs, rule)
    return rule, vs


SPLIT = TrafficChange("weights", weights={"v1": 100}, versions=V)
JASON = TrafficChange("match", version="v2", match=RequestMatch("header", "jason", "end-user"), versions=V)
COOKIE = TrafficChange("match", version="v3", match=RequestMatch("cookie", "jason", "user"), versions=V)
URI = TrafficChange("match", version="v3", match=RequestMatch("uri", "/reviews/9", op="prefix"), versions=V)


def test_match_routes_then_weights() -> None:
    rule, vs = objects(SPLIT, JASON, COOKIE, URI)
    rng = random.Random(1)
    assert decide(vs, rule, "/reviews/0", {"end-user": "jason"}, rng) == Decision("v2")
    assert decide(vs, rule, "/reviews/0", {"cookie": "theme=dark; user=jason"}, rng) == Decision("v3")
    assert decide(vs, rule, "/reviews/0", {"cookie": "user=jasonx"}, rng) == Decision("v1")
    assert decide(vs, rule, "/reviews/90", {}, rng) == Decision("v3")
    assert decide(vs, rule, "/reviews/0", {"end-user": "bob"}, rng) == Decision("v1")


def test_weights_mirror_and_failures() -> None:
    rule, vs = objects(TrafficChange("weights", weights={"v1": 50, "v2": 50}, versions=V),
                       TrafficChange("mirror", version="v3", mirror_percent=100, versions=V))  # fmt: skip
    picks = [decide(vs, rule, "/", {}, random.Random(i)) for i in range(200)]
    assert {p.version for p in picks} == {"v1", "v2"} and all(p.mirror == "v3" for p in picks)
    assert decide(vs, None, "/", {}, random.Random(0)) == Decision(flag="NC")  # subsets gone: cluster not found
    no_default = {"spec": {"http": [vs["spec"]["http"][0] | {"match": [{"uri": {"exact": "/x"}}]}]}}
    assert decide(no_default, rule, "/", {}, random.Random(0)) == Decision(flag="NR")
    assert is_shadow(f"{FQDN}-shadow:9080") and not is_shadow(f"{FQDN}:9080")


def write(root: Path, *objs: dict[str, Any]) -> None:
    for obj in objs:
        path = root / f"{obj['kind'].lower()}s" / "bookinfo" / "reviews.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(obj))


async def test_mesh_routes_by_header_and_marks_mirrored_requests(make_mesh: MeshFactory, tmp_path: Path) -> None:
    rule, vs = objects(SPLIT, JASON, TrafficChange("mirror", version="v3", mirror_percent=100, versions=V))
    write(tmp_path, rule, vs)
    mesh = await make_mesh(rules_dir=str(tmp_path))
    async with aiohttp.ClientSession() as session:
        for i in range(20):
            headers = {"end-user": "jason"} if i % 2 else {}
            async with session.get(mesh.entry_url, headers=headers) as response:
                assert response.status == 200
    for _ in range(50):  # the mirrored copies are fire-and-forget: bounded wait for the last ones
        shadowed = series(mesh.istio_stats("reviews-v3"), reporter="destination", destination_service=f"{FQDN}-shadow")
        if sum(n for _, n in shadowed) == 10:
            break
        await asyncio.sleep(0.05)
    assert sum(n for _, n in series(mesh.istio_stats("reviews-v2"), reporter="destination")) == 10
    assert sum(n for _, n in series(mesh.istio_stats("reviews-v1"), reporter="destination")) == 10
    assert sum(n for _, n in shadowed) == 10 and {lab["source_workload"] for lab, _ in shadowed} == {"productpage-v1"}
    caller = series(mesh.istio_stats("productpage-v1"), reporter="source", destination_service_name="reviews")
    assert sum(n for _, n in caller) == 20  # the caller reports user traffic only, as Istio does
    assert not series(mesh.istio_stats("reviews-v3"), reporter="destination", destination_service=FQDN)
