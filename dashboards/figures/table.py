"""Rows of the edge table (the graph's data, readable without the canvas), and their sort order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dashboards.figures import format as fmt
from dashboards.health import Health, Thresholds

# (key, header, numeric): the table's columns; keys are the `sort` values of the URL.
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("health", "Status", False),
    ("source", "Source", False),
    ("target", "Destination", False),
    ("rps", "RPS", True),
    ("success", "Success", True),
    ("p50", "P50", True),
    ("p95", "P95", True),
    ("p99", "P99", True),
    ("trace_p99", "Trace P99", True),
    ("security", "Security", False),
    ("flags", "Flags", False),
)
# Rows per page. Dash's renderer costs grow faster than linearly with the number of components on a page
# (measured: 300 rows of 13 components took 36 s to appear in Chromium, 50 rows 0.5 s), so the table pages.
PAGE_ROWS = 50


@dataclass(frozen=True, slots=True)
class EdgeRow:
    source: str
    target: str
    health: Health
    rps: float | None
    success: float | None  # ratio 0..1
    p50: float | None
    p95: float | None
    p99: float | None
    trace_p99: float | None
    flags: str
    circuit_breaker: bool  # UO rejections on this edge
    security: str = fmt.DASH  # "mTLS", "plaintext", "mixed"
    mirror: str = ""  # "mirror 2.00 rps" when the edge has mirrored copies (not in rps)

    def cells(self) -> list[str]:
        """Display text of each column, in COLUMNS order."""
        return [self.health.text or "–", self.source, self.target, fmt.rps(self.rps), fmt.percent(self.success),
                fmt.millis(self.p50), fmt.millis(self.p95), fmt.millis(self.p99), fmt.millis(self.trace_p99),
                self.security, ", ".join(t for t in (self.flags, self.mirror) if t)]  # fmt: skip


def edge_row(edge: Mapping[str, Any], thresholds: Thresholds) -> EdgeRow:
    trace = edge.get("trace") if isinstance(edge.get("trace"), Mapping) else None
    flags = edge.get("flags") or {}
    mirror = edge.get("mirror") if isinstance(edge.get("mirror"), Mapping) else None
    return EdgeRow(
        source=edge["source"],
        target=edge["target"],
        health=thresholds.of_edge(edge),
        rps=edge.get("rps"),
        success=edge.get("success_rate"),
        p50=edge.get("p50_ms"),
        p95=edge.get("p95_ms"),
        p99=edge.get("p99_ms"),
        trace_p99=trace.get("p99_ms") if trace else None,
        flags=fmt.flags(flags),
        circuit_breaker=bool(flags.get("UO")),
        security=fmt.security(edge.get("security")),
        mirror=fmt.mirror(mirror) if mirror else "",
    )


def _sort_value(row: EdgeRow, key: str) -> Any:
    if key == "health":
        return row.health.rank
    return getattr(row, key)


def sort_rows(rows: list[EdgeRow], key: str, descending: bool) -> list[EdgeRow]:
    """Sorted by one column; rows without a value (no traffic) always last, ties by source and target."""
    present = [r for r in rows if _sort_value(r, key) is not None]
    absent = [r for r in rows if _sort_value(r, key) is None]
    present.sort(key=lambda r: (r.source, r.target))
    present.sort(key=lambda r: _sort_value(r, key), reverse=descending)
    absent.sort(key=lambda r: (r.source, r.target))
    return present + absent


def edge_rows(
    edges: list[Mapping[str, Any]], thresholds: Thresholds, key: str = "rps", descending: bool = True
) -> list[EdgeRow]:
    return sort_rows([edge_row(e, thresholds) for e in edges], key, descending)


def page_rows(rows: list[EdgeRow], page: int) -> tuple[list[EdgeRow], int, int]:
    """The rows of one page, the page actually shown (clamped) and the page count (at least 1)."""
    pages = max(1, -(-len(rows) // PAGE_ROWS))
    page = min(max(page, 1), pages)
    return rows[(page - 1) * PAGE_ROWS : page * PAGE_ROWS], page, pages
