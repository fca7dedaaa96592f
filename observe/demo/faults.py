"""Fault knobs of a demo workload: application errors at a ratio, added latency, and the workload being down.

Errors and latency are the application's behaviour (the server sidecar measures them, so they show up in
reporter="destination" series with response_flags "-"); `down` removes the workload and its sidecar, so
only callers' sidecars see it (503 + UF at reporter="source").
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from observe.errors import BadQuery

# Bounded so a fault can never park a request (and the loops waiting on it) indefinitely.
MAX_LATENCY_MS = 60_000.0


@dataclass(frozen=True)
class Fault:
    error_ratio: float = 0.0
    error_code: int = 500
    latency_ms: float = 0.0
    down: bool = False

    def __post_init__(self) -> None:
        if not (isinstance(self.error_ratio, int | float) and 0.0 <= self.error_ratio <= 1.0):
            raise ValueError(f"error_ratio must be a number within [0, 1], got {self.error_ratio!r}")
        if isinstance(self.error_code, bool) or not isinstance(self.error_code, int):
            raise ValueError(f"error_code must be an integer HTTP status, got {self.error_code!r}")
        if not 400 <= self.error_code <= 599:
            raise ValueError(f"error_code must be within 400..599, got {self.error_code}")
        latency_ok = isinstance(self.latency_ms, int | float) and math.isfinite(self.latency_ms)
        if not (latency_ok and 0.0 <= self.latency_ms <= MAX_LATENCY_MS):
            raise ValueError(f"latency_ms must be within [0, {MAX_LATENCY_MS:g}], got {self.latency_ms!r}")
        if not isinstance(self.down, bool):
            raise ValueError(f"down must be a boolean, got {self.down!r}")

    @property
    def is_noop(self) -> bool:
        return self == Fault()

    def to_wire(self) -> dict[str, Any]:
        return asdict(self)


FAULT_FIELDS = frozenset(Fault.__dataclass_fields__)


def fault_from_wire(body: Any) -> Fault:
    """A Fault from a JSON object; missing fields take their defaults. Raises BadQuery (400) on bad input."""
    if not isinstance(body, dict):
        raise BadQuery("fault must be a JSON object", field="body")
    unknown = sorted(set(body) - FAULT_FIELDS)
    if unknown:
        raise BadQuery(f"unknown fault field(s): {', '.join(unknown)}", field=unknown[0])
    if isinstance(body.get("error_ratio"), bool) or isinstance(body.get("latency_ms"), bool):
        raise BadQuery("error_ratio and latency_ms must be numbers", field="body")
    try:
        return Fault(**body)
    except ValueError as exc:
        field = str(exc).split(" ", 1)[0]
        raise BadQuery(str(exc), field=field if field in FAULT_FIELDS else None) from exc


def parse_fault_spec(spec: str) -> tuple[str, Fault]:
    """`reviews-v2:error_ratio=0.2,latency_ms=100,down=false` → ("reviews-v2", Fault(...)) for the CLI."""
    target, sep, rest = spec.partition(":")
    if not target or not sep:
        raise ValueError(f"expected WORKLOAD:key=value[,key=value...], got {spec!r}")
    values: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, eq, raw = item.partition("=")
        key = key.strip()
        if not eq or key not in FAULT_FIELDS:
            raise ValueError(f"bad fault setting {item!r}; keys: {', '.join(sorted(FAULT_FIELDS))}")
        values[key] = _parse_value(key, raw.strip())
    return target, Fault(**values)


def _parse_value(key: str, raw: str) -> Any:
    if key == "down":
        if raw.lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"down must be true or false, got {raw!r}")
        return raw.lower() in ("true", "1")
    if key == "error_code":
        return int(raw)
    return float(raw)
