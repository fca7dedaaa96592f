"""RulesTrafficPolicy: connection-pool overflow (UO), outlier ejection (UH) and its expiry, time passed in."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from observe.demo.identity import ServiceRef, WorkloadIdentity
from observe.demo.routing import Cluster, Endpoint
from observe.demo.sidecar import Outcome
from observe.demo.traffic_policy import RulesCache, RulesTrafficPolicy

REVIEWS_V1 = Cluster(ServiceRef("reviews", "bookinfo"), "v1")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def write_rule(root: Path, policy: dict[str, Any]) -> None:
    path = root / "destinationrules/bookinfo/reviews.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                                    "metadata": {"name": "reviews", "namespace": "bookinfo"},
                                    "spec": {"host": "reviews", "trafficPolicy": policy}}))  # fmt: skip


@pytest.fixture
def clock() -> Clock:
    return Clock()


def endpoint(version: str = "v1", port: int = 9001) -> Endpoint:
    identity = WorkloadIdentity.__new__(WorkloadIdentity)
    return Endpoint(identity, "127.0.0.1", port)


async def test_pool_overflow_answers_uo_and_frees_on_exit(tmp_path: Path, clock: Clock) -> None:
    write_rule(tmp_path, {"connectionPool": {"tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 1}}})
    policy = RulesTrafficPolicy(RulesCache(tmp_path, clock), clock)
    async with policy.admit(REVIEWS_V1) as first, policy.admit(REVIEWS_V1) as second:
        assert first is None and second is None  # one active + one pending
        async with policy.admit(REVIEWS_V1) as third:
            assert third == "UO"
    async with policy.admit(REVIEWS_V1) as again:
        assert again is None


async def test_no_rule_means_no_limit(tmp_path: Path, clock: Clock) -> None:
    policy = RulesTrafficPolicy(RulesCache(tmp_path, clock), clock)
    async with policy.admit(REVIEWS_V1) as a, policy.admit(REVIEWS_V1) as b, policy.admit(REVIEWS_V1) as c:
        assert (a, b, c) == (None, None, None)


def test_consecutive_5xx_eject_until_expiry_then_longer(tmp_path: Path, clock: Clock) -> None:
    write_rule(tmp_path, {"outlierDetection": {"consecutive5xxErrors": 2, "baseEjectionTime": "10s",
                                               "maxEjectionPercent": 10}})  # fmt: skip
    policy = RulesTrafficPolicy(RulesCache(tmp_path, clock), clock)
    host = endpoint()
    policy.report(REVIEWS_V1, host, Outcome(500))
    assert policy.choose(REVIEWS_V1, [host]) is host  # one failure: not yet
    policy.report(REVIEWS_V1, host, Outcome(503))
    assert policy.choose(REVIEWS_V1, [host]) is None  # every host ejected → the sidecar answers 503 UH
    clock.now += 10.0
    assert policy.choose(REVIEWS_V1, [host]) is host  # baseEjectionTime × 1 elapsed
    policy.report(REVIEWS_V1, host, Outcome(500))
    policy.report(REVIEWS_V1, host, Outcome(500))
    clock.now += 10.0
    assert policy.choose(REVIEWS_V1, [host]) is None  # second ejection lasts 2 × 10 s
    clock.now += 10.0
    assert policy.choose(REVIEWS_V1, [host]) is host


def test_success_resets_the_count_and_percent_bounds_ejection(tmp_path: Path, clock: Clock) -> None:
    write_rule(tmp_path, {"outlierDetection": {"consecutive5xxErrors": 1, "maxEjectionPercent": 50}})
    policy = RulesTrafficPolicy(RulesCache(tmp_path, clock), clock)
    a, b = endpoint(port=1), endpoint(port=2)
    policy.report(REVIEWS_V1, a, Outcome(200))
    policy.report(REVIEWS_V1, b, Outcome(200))
    policy.report(REVIEWS_V1, a, Outcome(500))
    assert policy.choose(REVIEWS_V1, [a, b]) is b
    policy.report(REVIEWS_V1, b, Outcome(500))  # ejecting b too would exceed 50 %
    assert policy.choose(REVIEWS_V1, [b]) is b


async def test_rules_reload_within_a_poll(tmp_path: Path, clock: Clock) -> None:
    write_rule(tmp_path, {"connectionPool": {"tcp": {"maxConnections": 0}, "http": {"http1MaxPendingRequests": 0}}})
    policy = RulesTrafficPolicy(RulesCache(tmp_path, clock), clock)
    async with policy.admit(REVIEWS_V1) as rejected:
        assert rejected == "UO"
    (tmp_path / "destinationrules/bookinfo/reviews.yaml").unlink()  # a revert of the creation
    async with policy.admit(REVIEWS_V1) as cached:
        assert cached == "UO"  # not re-read within the poll interval
    clock.now += 1.0
    async with policy.admit(REVIEWS_V1) as reloaded:
        assert reloaded is None
