"""Query-string parsing for the API: every parameter validated, every refusal a 400 naming the field."""

from __future__ import annotations

from multidict import MultiMapping

from observe.errors import BadQuery
from observe.model.durations import parse_duration, parse_instant
from observe.model.ids import GraphType, parse_namespaces
from observe.services.topology import TopologyRequest

MIN_WINDOW_S = 5.0
MAX_WINDOW_S = 30 * 86400.0
# Clocks of the caller and of Prometheus may differ a little; further ahead is a mistake.
FUTURE_SKEW_S = 60.0


def reject_unknown(query: MultiMapping[str], allowed: set[str]) -> None:
    for name in query:
        if name not in allowed and name != "_":  # `_` is the usual cache-buster
            raise BadQuery(f"unknown parameter '{name}': allowed are {', '.join(sorted(allowed))}", field=name)


def single(query: MultiMapping[str], name: str) -> str | None:
    values = query.getall(name, [])
    if len(values) > 1:
        raise BadQuery(f"parameter '{name}' given {len(values)} times: give it once", field=name)
    return values[0] if values else None


def window(raw: str | None, default_s: float) -> float:
    if raw is None or raw == "":
        return default_s
    seconds = parse_duration(raw, "window")
    if not MIN_WINDOW_S <= seconds <= MAX_WINDOW_S:
        raise BadQuery(f"invalid window '{raw}': must be between 5s and 30d", field="window")
    return seconds


def instant(raw: str | None, now: float, *, name: str = "at") -> float | None:
    """The instant parameter `name` (Unix seconds or RFC 3339, not in the future), None when absent."""
    if raw is None or raw == "":
        return None
    at = parse_instant(raw, name)
    if at > now + FUTURE_SKEW_S:
        raise BadQuery(f"invalid {name} '{raw}': it is in the future", field=name)
    return at


def topology_request(query: MultiMapping[str], *, default_window_s: float, now: float) -> TopologyRequest:
    reject_unknown(query, {"graph", "namespace", "window", "at"})
    return TopologyRequest(
        graph=GraphType.parse(single(query, "graph") or GraphType.VERSIONED_APP.value),
        namespaces=parse_namespaces(single(query, "namespace")),
        window_s=window(single(query, "window"), default_window_s),
        at=instant(single(query, "at"), now),
    )
