"""Is the comparison fair, and what changed downstream.

Mix check: the callers (source workloads) of each version, compared with Pearson's chi-square test of
homogeneity (scipy.stats.chi2_contingency). With thousands of requests any tiny imbalance is significant, so
"clearly different" needs both p < 0.001 and a total-variation distance between the caller shares ≥ 0.1.
A weighted Istio split gives every version the same mix; header, cookie or URI routes do not, and then the
error rates are not comparable (one version sees the test traffic): the verdict is NOT_COMPARABLE.

Outbound: per downstream service, the calls per inbound request (fan-out) and the error rate of the calls
of each version, so "v2 now calls ratings twice" or "v3 calls a new service" is visible. Explanatory: it
names what changed, the inbound metrics carry the verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MIX_P = 0.001
MIX_DISTANCE = 0.1
FANOUT_CHANGE = 1.5  # calls per request up or down by this factor
MIN_CALLS = 20


@dataclass(frozen=True, slots=True)
class MixCheck:
    comparable: bool
    distance: float
    p_value: float | None
    shares_b: dict[str, float]
    shares_c: dict[str, float]

    def to_wire(self) -> dict[str, Any]:
        return {"comparable": self.comparable, "distance": round(self.distance, 4),
                "p_value": None if self.p_value is None else round(self.p_value, 6),
                "baseline": {k: round(v, 4) for k, v in self.shares_b.items()},
                "canary": {k: round(v, 4) for k, v in self.shares_c.items()}}  # fmt: skip


def _shares(counts: Mapping[str, int]) -> dict[str, float]:
    total = sum(counts.values())
    return {k: v / total for k, v in sorted(counts.items())} if total else {}


def mix_check(baseline: Mapping[str, int], canary: Mapping[str, int]) -> MixCheck:
    callers = sorted(k for k in set(baseline) | set(canary) if baseline.get(k, 0) + canary.get(k, 0) > 0)
    sb, sc = _shares(baseline), _shares(canary)
    distance = 0.5 * sum(abs(sb.get(k, 0.0) - sc.get(k, 0.0)) for k in callers)
    if len(callers) < 2 or not sb or not sc:
        return MixCheck(True, distance if sb and sc else 0.0, None, sb, sc)
    table = [[baseline.get(k, 0) for k in callers], [canary.get(k, 0) for k in callers]]
    from scipy.stats import chi2_contingency  # lazily: scipy.stats costs ~70 MB and 1 s to import

    p_value = float(chi2_contingency(table).pvalue)
    return MixCheck(not (p_value < MIX_P and distance >= MIX_DISTANCE), distance, p_value, sb, sc)


@dataclass(frozen=True, slots=True)
class Outbound:
    """One version's calls to one downstream service over the window."""

    calls: int
    errors: int
    p99_ms: tuple[float, float | None] | None = None


def compare_outbound(baseline: Mapping[str, Outbound], canary: Mapping[str, Outbound], requests_b: int,
                     requests_c: int) -> list[dict[str, Any]]:  # fmt: skip
    out = []
    for service in sorted(set(baseline) | set(canary)):
        b, c = baseline.get(service), canary.get(service)
        fan_b = b.calls / requests_b if b and requests_b else 0.0
        fan_c = c.calls / requests_c if c and requests_c else 0.0
        out.append({
            "service": service, "change": _change(b, c, fan_b, fan_c),
            "baseline": _side(b, fan_b), "canary": _side(c, fan_c),
        })  # fmt: skip
    return out


def _change(b: Outbound | None, c: Outbound | None, fan_b: float, fan_c: float) -> str:
    if (c is None or c.calls == 0) and b is not None and b.calls >= MIN_CALLS:
        return "missing"
    if (b is None or b.calls == 0) and c is not None and c.calls >= MIN_CALLS:
        return "new"
    if b is None or c is None or min(b.calls, c.calls) < MIN_CALLS:
        return "too_few_calls"
    if fan_c >= FANOUT_CHANGE * fan_b:
        return "more_calls"
    if fan_c * FANOUT_CHANGE <= fan_b:
        return "fewer_calls"
    return "same"


def _side(edge: Outbound | None, fanout: float) -> dict[str, Any] | None:
    if edge is None:
        return None
    return {"calls": edge.calls, "calls_per_request": round(fanout, 4), "errors": edge.errors,
            "error_rate": round(edge.errors / edge.calls, 6) if edge.calls else None,
            "p99_ms": list(edge.p99_ms) if edge.p99_ms else None}  # fmt: skip
