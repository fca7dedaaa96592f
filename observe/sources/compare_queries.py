"""PromQL for canary-vs-baseline comparison of one service's versions, and parsing of the answers.

Counts, not rates: `sum by (…) (increase(…[W]))` over the window gives requests (rounded: increase()
extrapolates), so every statistic sees n. Per comparison, five instant queries at `at`:
  inbound:    requests by version, caller, code and flags (reporter="destination": what the workload served)
  rejections: requests callers' sidecars answered themselves for this service (destination_workload="unknown":
              UO circuit-breaker overflow, UH no healthy upstream), reported apart from application 5xx
  buckets:    the duration histogram by version and le
  outbound:   the service's own calls, by its version and the called service (reporter="source")
  present:    which versions have series in the last hour, so a typo (404) differs from an idle canary
Inbound and buckets leave mirrored copies out (destination_service `<fqdn>-shadow`, Envoy's host of a copy):
they are not user traffic. Two more queries read those copies alone (shadow inbound, shadow buckets), so a
canary that only receives a mirror can be judged on its responses to the copies.
Every value comes from the caller and goes through promql.eq (escaped), never pasted raw.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from observe.compare.mix import Outbound
from observe.model.durations import format_duration
from observe.model.samples import VectorSample
from observe.sources.istio_queries import NOT_SHADOW, SHADOW
from observe.sources.promql import AnyMatcher, Matcher, by_clause, eq, selector

REQUESTS = "istio_requests_total"
BUCKETS = "istio_request_duration_milliseconds_bucket"
VERSION = "destination_canonical_revision"
PRESENCE_LOOKBACK_S = 3600.0


def _increase(metric: str, matchers: Sequence[AnyMatcher], by: tuple[str, ...], window_s: float) -> str:
    sel = selector(metric, matchers)
    return f"sum {by_clause(by)} (increase({sel}[{format_duration(window_s)}]))"


def _inbound_matchers(namespace: str, service: str) -> list[AnyMatcher]:
    return [eq("reporter", "destination"), eq("destination_workload_namespace", namespace),
            eq("destination_canonical_service", service)]  # fmt: skip


def inbound_query(namespace: str, service: str, window_s: float, shadow: bool = False) -> str:
    """User requests by version, caller, code and flags; with `shadow` the mirrored copies instead."""
    by = (VERSION, "source_workload", "response_code", "response_flags")
    matchers = [*_inbound_matchers(namespace, service), SHADOW if shadow else NOT_SHADOW]
    return _increase(REQUESTS, matchers, by, window_s)


def rejections_query(namespace: str, service: str, window_s: float) -> str:
    matchers = [eq("reporter", "source"), eq("destination_service_namespace", namespace),
                eq("destination_service_name", service), eq("destination_workload", "unknown")]  # fmt: skip
    return _increase(REQUESTS, matchers, (VERSION, "response_flags"), window_s)


def buckets_query(namespace: str, service: str, window_s: float, shadow: bool = False) -> str:
    matchers = [*_inbound_matchers(namespace, service), SHADOW if shadow else NOT_SHADOW]
    return _increase(BUCKETS, matchers, (VERSION, "le"), window_s)


def outbound_query(namespace: str, service: str, window_s: float) -> str:
    matchers: list[Matcher] = [eq("reporter", "source"), eq("source_workload_namespace", namespace),
                              eq("source_canonical_service", service)]  # fmt: skip
    by = ("source_canonical_revision", "destination_service_name", "response_code")
    return _increase(REQUESTS, matchers, by, window_s)


def presence_query(namespace: str, service: str) -> str:
    sel = selector(REQUESTS, _inbound_matchers(namespace, service))
    return f"count {by_clause((VERSION,))} (max_over_time({sel}[{format_duration(PRESENCE_LOOKBACK_S)}]))"


@dataclass
class Inbound:
    requests: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    callers: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))


def _count(sample: VectorSample) -> int:
    return 0 if math.isnan(sample.value) else round(sample.value)


def parse_inbound(samples: list[VectorSample]) -> Inbound:
    out = Inbound()
    for s in samples:
        version, n = s.labels.get(VERSION, "unknown"), _count(s)
        out.requests[version] += n
        out.callers[version][s.labels.get("source_workload", "unknown")] += n
        code = s.labels.get("response_code", "")
        if code.startswith("5") or code == "0":  # 0 = no response (reset, timeout): an error, as in topology
            out.errors[version] += n
    return out


def parse_rejections(samples: list[VectorSample]) -> dict[str, dict[str, int]]:
    """version (often `latest`: the caller cannot know which subset it would have reached) → flag → count."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for s in samples:
        flags = s.labels.get("response_flags", "-")
        for flag in ("UO", "UH"):
            if flag in flags.split(","):
                out[s.labels.get(VERSION, "unknown")][flag] += _count(s)
    return out


def parse_buckets(samples: list[VectorSample]) -> dict[str, dict[float, float]]:
    out: dict[str, dict[float, float]] = defaultdict(dict)
    for s in samples:
        try:
            le = float(s.labels["le"])
        except (KeyError, ValueError):
            continue
        if not math.isnan(s.value):
            out[s.labels.get(VERSION, "unknown")][le] = s.value
    return out


def parse_outbound(samples: list[VectorSample]) -> dict[str, dict[str, Outbound]]:
    calls: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for s in samples:
        key = (s.labels.get("source_canonical_revision", "unknown"), s.labels.get("destination_service_name", "?"))
        calls[key][0] += _count(s)
        if s.labels.get("response_code", "").startswith("5"):
            calls[key][1] += _count(s)
    out: dict[str, dict[str, Outbound]] = defaultdict(dict)
    for (version, service), (n, errors) in calls.items():
        out[version][service] = Outbound(n, errors)
    return out


def parse_presence(samples: list[VectorSample]) -> set[str]:
    return {s.labels.get(VERSION, "unknown") for s in samples}
