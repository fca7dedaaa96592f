"""Health classes of an edge, node or tile from its success rate, with the UI's own thresholds.

The API classifies with its thresholds too, but the screen's thresholds are an `observe ui` flag (a release
screen may want stricter ones), so the UI classifies again from the raw success rate. Every class has a
colour AND a glyph and a word: status is never told by colour alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Health(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    FAILING = "failing"
    IDLE = "idle"  # no requests in the window
    UNKNOWN = "unknown"  # seen only in traces: no metrics to judge (an uninstrumented peer, a non-mesh service)
    NONE = "none"  # no inbound traffic to judge (a traffic source such as `unknown`)

    @property
    def colour(self) -> str:
        return _COLOURS[self]

    @property
    def glyph(self) -> str:
        return _GLYPHS[self]

    @property
    def text(self) -> str:
        """Glyph and word, e.g. '✖ failing'; empty for NONE (nothing to tell)."""
        return "" if self is Health.NONE else f"{self.glyph} {self.value}"

    @property
    def rank(self) -> int:
        """Worse is higher; used to take the worst health of several edges."""
        return _RANK[self]


# PatternFly status colours (the palette Kiali uses), readable on white and on the dark kiosk background.
_COLOURS = {
    Health.HEALTHY: "#3e8635",
    Health.DEGRADED: "#f0ab00",
    Health.FAILING: "#c9190b",
    Health.IDLE: "#8a8d90",
    Health.UNKNOWN: "#8476d1",
    Health.NONE: "#6a6e73",
}
_GLYPHS = {Health.HEALTHY: "✔", Health.DEGRADED: "▲", Health.FAILING: "✖", Health.IDLE: "○", Health.UNKNOWN: "?",
           Health.NONE: ""}  # fmt: skip
_RANK = {Health.NONE: 0, Health.UNKNOWN: 1, Health.IDLE: 2, Health.HEALTHY: 3, Health.DEGRADED: 4, Health.FAILING: 5}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Success rate (0..1) at or above `healthy` is healthy, at or above `degraded` degraded, else failing."""

    healthy: float = 0.99
    degraded: float = 0.95

    def __post_init__(self) -> None:
        if not 0.0 <= self.degraded <= self.healthy <= 1.0:
            raise ValueError(f"thresholds must satisfy 0 <= degraded ({self.degraded}) <= healthy ({self.healthy})"
                             " <= 1")

    def classify(self, success_rate: float | None, rps: float | None = None) -> Health:
        if success_rate is None or (rps is not None and rps <= 0):
            return Health.IDLE
        if success_rate >= self.healthy:
            return Health.HEALTHY
        if success_rate >= self.degraded:
            return Health.DEGRADED
        return Health.FAILING

    def of_edge(self, edge: Mapping[str, Any]) -> Health:
        """An edge's health; UNKNOWN when only traces saw it (its rates are null, not zero)."""
        seen_by = edge.get("seen_by")
        if seen_by and "metrics" not in seen_by:
            return Health.UNKNOWN
        return self.classify(edge.get("success_rate"), edge.get("rps"))


def worst(healths: list[Health]) -> Health:
    """The worst of several; NONE when there is nothing to judge."""
    return max(healths, key=lambda h: h.rank, default=Health.NONE)
