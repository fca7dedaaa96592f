"""The view state and its URL form: every view setting lives in the query string, so a link reproduces a view.

Pure: `parse_query(search)` never fails — a value that is not valid is dropped for its default (a hand-edited or
stale link still opens a page), and `to_query(state)` writes only what differs from the defaults, in a fixed
order, so `parse_query(to_query(s)) == s` and equal views have equal URLs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import parse_qs, urlencode

GRAPHS = ("versioned-app", "app", "service", "workload")
WINDOWS = ("1m", "2m", "5m", "10m", "30m", "1h", "3h", "6h", "12h", "1d")
REFRESHES = {"off": 0, "5s": 5, "10s": 10, "30s": 30, "1m": 60}
LABELS = ("rps", "success", "p99", "none")
REPLAY_STEPS = {"1m": 60, "5m": 300}  # replay slider steps, seconds
SORT_KEYS = ("health", "source", "target", "rps", "success", "p50", "p95", "p99", "trace_p99", "security", "flags")
EDGE_SEPARATOR = "->"
# A kiosk screen always refreshes, even when the link says refresh=off (nobody is there to press a button).
KIOSK_REFRESH = "10s"
MAX_VALUE_CHARS = 500
MAX_LIST_ITEMS = 50

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_INSTANT = re.compile(r"^(\d{9,11}(\.\d+)?|\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d))$")
_MIN_DURATION = re.compile(r"^\d+(ms|s|m)$")  # whole numbers: the API reads PromQL-style durations
_SNAPSHOT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TRACE_ID = re.compile(r"^[0-9a-f]{16,32}$")
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")  # a Kubernetes label value
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class ViewState:
    """What one screen shows. Topology keys and traces keys share `window` and `edge`: the traces of the
    selected edge are one link away with the same window."""

    graph: str = "versioned-app"
    namespaces: tuple[str, ...] = ()
    window: str = "1m"
    refresh: str = "10s"
    label: str = "rps"
    filter: str = ""
    edge: str = ""  # selected edge "source->target" (topology) or the edge searched (traces)
    node: str = ""  # selected node id
    sort: str = "-rps"  # edge table column, "-" first = descending
    table_page: int = 1  # page of the edge table (PAGE_ROWS rows each)
    kiosk: bool = False
    watch: tuple[str, ...] = ()
    at: str = ""  # a past instant (Unix seconds or RFC 3339): incident review links
    replay_from: str = ""  # start of the replayed period (an instant); the slider moves `at` through it
    replay_step: str = "1m"
    diff: str = ""  # the diff page's "before" instant (A); `at` is "after" (B)
    snapshot: str = ""  # a saved snapshot's id: the topology page shows its stored topology
    service: str = ""
    min_duration: str = ""
    errors: bool = False
    trace: str = ""
    baseline: str = ""  # compare page: the stable version (its service is `service`, its namespace the first)
    canary: str = ""

    @property
    def refresh_s(self) -> int:
        """Seconds between refreshes; 0 = off. A kiosk never stops, and a past instant never changes."""
        if self.at:
            return 0
        if self.kiosk and REFRESHES[self.refresh] == 0:
            return REFRESHES[KIOSK_REFRESH]
        return REFRESHES[self.refresh]

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def sort_descending(self) -> bool:
        return self.sort.startswith("-")


DEFAULT = ViewState()


def edge_key(source: str, target: str) -> str:
    return f"{source}{EDGE_SEPARATOR}{target}"


def split_edge(key: str) -> tuple[str, str] | None:
    source, sep, target = key.partition(EDGE_SEPARATOR)
    return (source, target) if sep and source and target else None


def _text(raw: str) -> str:
    """Free text from a link: bounded, no control characters (they have no business in a label)."""
    if len(raw) > MAX_VALUE_CHARS or any(ord(c) < 32 or ord(c) == 127 for c in raw):
        return ""
    return raw.strip()


def _choice(raw: str, allowed: tuple[str, ...] | dict[str, int], default: str) -> str:
    return raw if raw in allowed else default


def _items(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()][:MAX_LIST_ITEMS]


def _watch_entry(entry: str) -> bool:
    parts = entry.split("/")
    return 2 <= len(parts) <= 3 and all(parts)


def _sort(raw: str) -> str:
    return raw if raw.lstrip("-") in SORT_KEYS and raw.count("-") <= 1 else DEFAULT.sort


def _min_duration(raw: str) -> str:
    text = raw.strip().lower()
    text = text + "ms" if text.isdecimal() else text  # a bare number is milliseconds
    return text if _MIN_DURATION.match(text) else ""


# One parser per key: each takes the raw text and gives the field's value (the default when invalid).
_PARSERS: dict[str, Any] = {
    "graph": lambda v: _choice(v, GRAPHS, DEFAULT.graph),
    "namespaces": lambda v: tuple(sorted({n for n in _items(v) if _DNS_LABEL.match(n)})),
    "window": lambda v: _choice(v, WINDOWS, DEFAULT.window),
    "refresh": lambda v: _choice(v, REFRESHES, DEFAULT.refresh),
    "label": lambda v: _choice(v, LABELS, DEFAULT.label),
    "filter": _text,
    "edge": lambda v: _text(v) if split_edge(_text(v)) else "",
    "node": _text,
    "sort": _sort,
    "table_page": lambda v: int(v) if v.isdecimal() and 1 <= int(v) <= 100_000 else 1,
    "kiosk": lambda v: v.lower() in _TRUE,
    "watch": lambda v: tuple(e for e in _items(_text(v)) if _watch_entry(e)),
    "at": lambda v: v if _INSTANT.match(v) else "",
    "replay_from": lambda v: v if _INSTANT.match(v) else "",
    "replay_step": lambda v: _choice(v, REPLAY_STEPS, DEFAULT.replay_step),
    "diff": lambda v: v if _INSTANT.match(v) else "",
    "snapshot": lambda v: v if _SNAPSHOT_ID.match(v) else "",
    "service": _text,
    "min_duration": _min_duration,
    "errors": lambda v: v.lower() in _TRUE,
    "trace": lambda v: v.lower() if _TRACE_ID.match(v.lower()) else "",
    "baseline": lambda v: v if _LABEL_VALUE.match(v) else "",
    "canary": lambda v: v if _LABEL_VALUE.match(v) else "",
}
# The URL says `namespace` like the API does; every other key is the field name.
_URL_NAMES = {"namespaces": "namespace", "table_page": "tpage"}


def parse_query(search: str | None) -> ViewState:
    """The state a query string (with or without its leading '?') describes."""
    query = parse_qs((search or "").lstrip("?"), keep_blank_values=False, max_num_fields=100)
    values: dict[str, Any] = {}
    for name, parse in _PARSERS.items():
        given = query.get(_URL_NAMES.get(name, name))
        if given:
            values[name] = parse(given[0])
    return ViewState(**values)


def _url_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def to_query(state: ViewState) -> str:
    """'?key=value&…' of the non-default fields (or '' for the default view)."""
    pairs = [
        (_URL_NAMES.get(f.name, f.name), _url_value(getattr(state, f.name)))
        for f in fields(ViewState)
        if getattr(state, f.name) != getattr(DEFAULT, f.name)
    ]
    return "?" + urlencode(pairs) if pairs else ""


def normalise(state: ViewState) -> ViewState:
    """The state as a link would carry it (every value through its parser), e.g. for values typed in controls."""
    return parse_query(to_query(state))


def with_changes(state: ViewState, **changes: Any) -> ViewState:
    return normalise(replace(state, **changes))


def traces_href(state: ViewState, *, edge: str = "", trace: str = "", service: str = "") -> str:
    """A link to the traces page with this view's window (and instant) and the given edge, service or trace."""
    target = normalise(ViewState(graph=state.graph, window=state.window, at=state.at, edge=edge, trace=trace,
                                 service=service))  # the graph type says what the edge's node ids mean
    return "/traces" + to_query(target)


def to_dict(state: ViewState) -> dict[str, Any]:
    """JSON-able form for a dcc.Store (tuples become lists)."""
    return {f.name: list(v) if isinstance(v := getattr(state, f.name), tuple) else v for f in fields(ViewState)}


def from_dict(data: dict[str, Any] | None) -> ViewState:
    if not data:
        return DEFAULT
    known = {f.name for f in fields(ViewState)}
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
    return ViewState(**values)
