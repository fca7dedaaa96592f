"""Pure: the rules Istio's validating webhook enforces on a DestinationRule that its CRD schema does not
express (ported from istio/istio pkg/config/validation `validateDestinationRule`, `validateTrafficPolicy`,
`validateConnectionPool`, `validateOutlierDetection`, and agent `ValidateDuration`), as a table of checks.

Each check yields (path, message, value); the paths are those of the object, e.g.
`spec.subsets[1].trafficPolicy.outlierDetection.maxEjectionPercent`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from observe.actions.durations import parse_go_duration, whole_milliseconds

Problem = tuple[str, str, Any]
HOST = re.compile(r"^(\*|(\*\.)?[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*)$")
SUBSET_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
NON_NEGATIVE = {  # int32 counts the schema leaves unbounded below
    "connectionPool.tcp": ("maxConnections",),
    "connectionPool.http": ("http1MaxPendingRequests", "http2MaxRequests", "maxRequestsPerConnection",
                            "maxRetries", "maxConcurrentStreams"),
}  # fmt: skip
PERCENTS = ("maxEjectionPercent", "minHealthPercent")
DURATIONS = {  # section → duration fields checked >= 1ms and whole ms; tcp idleTimeout may be 0s (Istio allows it)
    "connectionPool.tcp": ("connectTimeout", "maxConnectionDuration"),
    "connectionPool.tcp.tcpKeepalive": ("time", "interval"),
    "connectionPool.http": ("idleTimeout",),
    "outlierDetection": ("interval", "baseEjectionTime"),
}


def destination_rule_problems(spec: Any) -> Iterator[Problem]:
    if not isinstance(spec, dict):
        return
    host = spec.get("host")
    if not isinstance(host, str) or not host or not HOST.fullmatch(host):
        yield "spec.host", "required: a service host such as reviews or reviews.bookinfo.svc.cluster.local", host
    yield from _policy_problems("spec.trafficPolicy", spec.get("trafficPolicy"))
    seen: set[str] = set()
    for i, subset in enumerate(spec.get("subsets") or []):
        if not isinstance(subset, dict):
            continue
        name, path = subset.get("name"), f"spec.subsets[{i}]"
        if not isinstance(name, str) or not SUBSET_NAME.fullmatch(name):
            yield f"{path}.name", "must be a DNS label (lower-case letters, digits and '-')", name
        elif name in seen:
            yield f"{path}.name", f"duplicate subset name {name!r}: subset names must be unique", name
        seen.add(str(name))
        yield from _policy_problems(f"{path}.trafficPolicy", subset.get("trafficPolicy"))


def _policy_problems(path: str, policy: Any) -> Iterator[Problem]:
    if not isinstance(policy, dict):
        return
    yield from _section_problems(path, policy)
    for j, port in enumerate(policy.get("portLevelSettings") or []):
        if isinstance(port, dict):
            yield from _section_problems(f"{path}.portLevelSettings[{j}]", port)


def _section_problems(path: str, policy: dict[str, Any]) -> Iterator[Problem]:
    pool = policy.get("connectionPool")
    if isinstance(pool, dict) and not pool.get("tcp") and not pool.get("http"):
        yield f"{path}.connectionPool", "must set at least one of tcp or http", pool
    for section, names in NON_NEGATIVE.items():
        values = _get(policy, section)
        for name in names:
            if isinstance(values.get(name), int) and values[name] < 0:
                yield f"{path}.{section}.{name}", "must be 0 or more", values[name]
    for section, names in DURATIONS.items():
        values = _get(policy, section)
        for name in names:
            if name in values:
                yield from _duration(f"{path}.{section}.{name}", values[name])
    yield from _outlier_problems(f"{path}.outlierDetection", _get(policy, "outlierDetection"))
    http = _get(policy, "connectionPool.http")
    if http.get("useClientProtocol") is True and http.get("h2UpgradePolicy") == "UPGRADE":
        yield f"{path}.connectionPool.http.h2UpgradePolicy", "UPGRADE cannot be used with useClientProtocol", "UPGRADE"


def _outlier_problems(path: str, outlier: dict[str, Any]) -> Iterator[Problem]:
    for name in PERCENTS:
        value = outlier.get(name)
        if isinstance(value, int) and not 0 <= value <= 100:
            yield f"{path}.{name}", "must be a percentage between 0 and 100", value
    if outlier.get("consecutiveLocalOriginFailures") is not None and not outlier.get("splitExternalLocalOriginErrors"):
        yield (f"{path}.consecutiveLocalOriginFailures", "needs splitExternalLocalOriginErrors: true",
               outlier["consecutiveLocalOriginFailures"])  # fmt: skip
    if "consecutiveErrors" in outlier:
        yield f"{path}.consecutiveErrors", "deprecated: use consecutive5xxErrors", outlier["consecutiveErrors"]


def _duration(path: str, value: Any) -> Iterator[Problem]:
    seconds = parse_go_duration(value)
    if seconds is None:
        yield path, "must be a duration such as 100ms, 10s or 1m", value
    elif seconds < 0.001:
        yield path, "must be at least 1ms", value
    elif not whole_milliseconds(seconds):
        yield path, "only millisecond precision is supported", value


def _get(policy: dict[str, Any], dotted: str) -> dict[str, Any]:
    node: Any = policy
    for key in dotted.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}
