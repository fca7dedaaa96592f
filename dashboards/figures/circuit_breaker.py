"""Pure parts of the circuit-breaker form: its fields (Istio's names and the schema's limits), a preset's values
as field values, the request body of an edit, the target of a selection, and the rows of the edit history.

Limits: counts are int32 (the CRD's `format: int32`, 0 … 2^31−1), percentages 0–100 and durations like `5s`,
`500ms` or `1m` (at least 1 ms, as Istio's webhook wants); the API validates again and names the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

INT32_MAX = 2**31 - 1
PRESETS = ("conservative", "balanced", "aggressive")
_DURATION = re.compile(r"^(\d+(\.\d+)?(h|m|s|ms|us|µs))+$")


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # Istio's field name, also the input's id
    path: tuple[str, ...]  # its place in trafficPolicy
    label: str
    kind: str  # "count" | "percent" | "duration"

    @property
    def limits(self) -> tuple[int, int] | None:
        return {"count": (0, INT32_MAX), "percent": (0, 100)}.get(self.kind)


FIELDS = (
    Field("maxConnections", ("connectionPool", "tcp"), "max connections", "count"),
    Field("connectTimeout", ("connectionPool", "tcp"), "connect timeout", "duration"),
    Field("http1MaxPendingRequests", ("connectionPool", "http"), "max pending requests", "count"),
    Field("http2MaxRequests", ("connectionPool", "http"), "max active requests", "count"),
    Field("maxRetries", ("connectionPool", "http"), "max outstanding retries", "count"),
    Field("consecutive5xxErrors", ("outlierDetection",), "eject after consecutive 5xx", "count"),
    Field("consecutiveGatewayErrors", ("outlierDetection",), "eject after consecutive gateway errors", "count"),
    Field("interval", ("outlierDetection",), "ejection analysis interval", "duration"),
    Field("baseEjectionTime", ("outlierDetection",), "base ejection time", "duration"),
    Field("maxEjectionPercent", ("outlierDetection",), "max ejection %", "percent"),
)
_BY_NAME = {f.name: f for f in FIELDS}


def _at(policy: Mapping[str, Any], path: tuple[str, ...]) -> Mapping[str, Any]:
    for key in path:
        policy = policy.get(key) or {}
    return policy


def policy_values(policy: Mapping[str, Any] | None) -> dict[str, Any]:
    """Field values of a trafficPolicy (a preset's, or a live rule's); a field it does not set is None."""
    return {f.name: _at(policy or {}, f.path).get(f.name) for f in FIELDS}


def preset_values(capabilities: Mapping[str, Any] | None, preset: str | None) -> dict[str, Any]:
    return policy_values(((capabilities or {}).get("presets") or {}).get(preset or "") or {})


def field_error(name: str, value: Any) -> str | None:
    """Why a field value is refused before any request (None: fine or empty)."""
    spec = _BY_NAME[name]
    if value is None or value == "":
        return None
    if spec.kind == "duration":
        return None if isinstance(value, str) and _DURATION.match(value.strip()) else \
            f"{name}: {value!r} is not a duration like 5s, 500ms or 1m"  # fmt: skip
    low, high = spec.limits or (0, 0)
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        return f"{name}: {value!r} is not a whole number"
    return None if low <= value <= high else f"{name}: {value:g} is outside {low}–{high}"


def edit_body(preset: str | None, values: Mapping[str, Any], *, reason: str, dry_run: bool) -> dict[str, Any]:
    """`POST /api/v1/destination-rules/{ns}/{host}`: the preset (if chosen), then the filled fields as a merge
    patch (an empty field keeps what the rule has)."""
    spec: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or value == "" or name not in _BY_NAME:
            continue
        holder = spec
        for key in _BY_NAME[name].path:
            holder = holder.setdefault(key, {})
        holder[name] = value.strip() if isinstance(value, str) else int(value)
    body: dict[str, Any] = {"dry_run": dry_run}
    if preset in PRESETS:
        body["preset"] = preset
    if spec:
        body["spec"] = spec
    if reason.strip():
        body["reason"] = reason.strip()
    return body


@dataclass(frozen=True, slots=True)
class Target:
    namespace: str
    host: str

    @property
    def audit_target(self) -> str:
        """The audit log's target of the rule observe manages for this host (named after the service)."""
        return f"DestinationRule/{self.namespace}/{self.host}"


def target_of(node: Mapping[str, Any] | None) -> Target | None:
    """The service whose DestinationRule a node (or an edge's target node) edits: its service, else its app."""
    if not node or not node.get("namespace"):
        return None
    host = str(node.get("service") or node.get("app") or "")
    return Target(str(node["namespace"]), host) if host and node.get("kind") in ("app", "service") else None


@dataclass(frozen=True, slots=True)
class HistoryRow:
    id: int
    when: str
    who: str
    action: str
    result: str
    reason: str
    revertible: bool


def history_rows(answer: Mapping[str, Any] | None) -> list[HistoryRow]:
    rows = []
    for entry in (answer or {}).get("entries") or []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), int):
            continue
        when = datetime.fromtimestamp(float(entry.get("ts") or 0), tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        action = str(entry.get("action", ""))
        if entry.get("reverts"):
            action += f" of #{entry['reverts']}"
        result = str(entry.get("result", ""))
        rows.append(HistoryRow(entry["id"], when, str(entry.get("actor", "")), action, result,
                               str(entry.get("reason") or ""), result == "applied"))  # fmt: skip
    return rows
