"""Time travel and replay: instants, the frames of a replayed period, and positions that stay put.

Pure. An instant is what the URL carries (`at`, `replay_from`: Unix seconds or RFC 3339). A replay is the
period [replay_from, replay_from + REPLAY_SPAN_S] cut in frames of one step; the slider and the play button
move `at` from frame to frame. Positions: the layout is deterministic for one set of nodes and edges, but a
replayed edge that comes and goes would change the set, and so the whole layout (bands re-centre). `remember`
keeps, in a small JSON store in the browser, every node seen since the replay started with the position it
was first given: a node never moves during a replay while the numbers change, and a node that appears later
gets a free place of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dashboards.figures.positions import ROW_GAP, Position, layered_positions
from dashboards.state import WINDOWS

REPLAY_SPAN_S = 3600  # a replay covers the hour before the instant it was started from
MAX_FRAMES = 120  # bounds the slider (and so the play loop) whatever the step
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def instant_seconds(instant: str) -> float | None:
    """Unix seconds of an instant as the URL writes it (None when empty or not an instant)."""
    if not instant:
        return None
    try:
        return float(instant)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(instant.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def rfc3339(seconds: float) -> str:
    """The URL form of an instant: whole seconds, UTC, readable in a link."""
    return datetime.fromtimestamp(int(seconds), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def window_seconds(window: str) -> int:
    """Seconds of a window as the URL writes it ('5m', '1h', '1d')."""
    return int(window[:-1]) * _UNITS[window[-1]]


def window_name(seconds: float) -> str:
    """The UI's window nearest to a number of seconds (a snapshot stores seconds)."""
    return min(WINDOWS, key=lambda w: abs(window_seconds(w) - seconds))


def frames(start_s: float, step_s: int, span_s: int = REPLAY_SPAN_S) -> list[float]:
    """Instants of a replay: start, start + step, … up to start + span (both ends included), at most MAX_FRAMES."""
    count = min(span_s // max(step_s, 1) + 1, MAX_FRAMES)
    return [start_s + i * step_s for i in range(count)]


def frame_index(instants: list[float], at_s: float | None) -> int:
    """The frame nearest to `at` (the last one when `at` is empty: a live view is the end of any period)."""
    if not instants:
        return 0
    if at_s is None:
        return len(instants) - 1
    return min(range(len(instants)), key=lambda i: abs(instants[i] - at_s))


def _free(position: Position, taken: list[Position]) -> Position:
    """The position, moved down a row at a time until no placed node is within half a row of it."""
    x, y = position
    for _ in range(len(taken) + 1):  # bounded: each step passes at least one placed node
        if all(abs(x - tx) >= ROW_GAP / 2 or abs(y - ty) >= ROW_GAP / 2 for tx, ty in taken):
            break
        y += ROW_GAP
    return x, y


def remember(memory: Mapping[str, Any] | None, key: str, topology: Mapping[str, Any]) -> dict[str, Any]:
    """The replay's layout memory after one more answer: the union of the nodes (id → namespace) and edges seen
    under `key` (one replay; a new key starts afresh) and a position for every node. A node keeps the position
    it was first given; a node never seen before takes its place in the layout of the union, moved down if
    that spot is taken."""
    kept: Mapping[str, Any] = memory if memory and memory.get("key") == key else {"nodes": {}, "edges": []}
    nodes: dict[str, str] = dict(kept["nodes"])
    for node in topology.get("nodes", []):
        nodes.setdefault(node["id"], "" if node.get("kind") == "unknown" else str(node.get("namespace") or ""))
    edges = {(s, t) for s, t in kept["edges"]} | {(e["source"], e["target"]) for e in topology.get("edges", [])}
    positions: dict[str, list[float]] = dict(kept.get("positions") or {})
    new = sorted(set(nodes) - set(positions))
    if new:
        layout = layered_positions(nodes, edges, nodes)
        for node in new:
            positions[node] = list(_free(layout[node], [(x, y) for x, y in positions.values()]))
    return {"key": key, "nodes": nodes, "edges": sorted([s, t] for s, t in edges), "positions": positions}


def remembered_positions(memory: Mapping[str, Any]) -> dict[str, Position]:
    return {node: (x, y) for node, (x, y) in memory["positions"].items()}
