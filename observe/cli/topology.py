"""`observe topology`: the topology as a table for terminals, or as JSON for scripts."""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from observe.errors import SourceUnavailable


def register(commands: Any) -> None:
    parser = commands.add_parser("topology", help="print the topology from a running API")
    parser.add_argument("--api-url", default="http://127.0.0.1:8080", help="observe API base URL")
    parser.add_argument("--graph", default=None, help="versioned-app (default), app, service or workload")
    parser.add_argument("--namespace", default=None, help="comma-separated namespaces (default all)")
    parser.add_argument("--window", default=None, help="rate window, e.g. 5m")
    parser.add_argument("--at", default=None, help="past instant: Unix seconds or RFC 3339")
    parser.add_argument("--json", action="store_true", help="print the API's JSON answer")
    parser.set_defaults(run=run)


def fetch(url: str, body: dict[str, Any] | None = None, timeout_s: float = 30.0) -> bytes:
    """GET `url` (or POST a JSON body) from the observe API; an API error becomes its own message."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            answer: bytes = response.read()
            return answer
    except urllib.error.HTTPError as exc:
        try:
            message = json.load(exc)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {exc.code}"
        raise SourceUnavailable("api", f"{url}: {message}") from None
    except (urllib.error.URLError, TimeoutError) as exc:
        raise SourceUnavailable("api", f"cannot reach {url}: {exc}") from None


def fetch_json(url: str, timeout_s: float = 30.0) -> Any:
    return json.loads(fetch(url, timeout_s=timeout_s))


def _fmt(value: float | None, scale: float = 1.0, digits: int = 2, suffix: str = "") -> str:
    return "-" if value is None else f"{value * scale:.{digits}f}{suffix}"


def _p99(edge: dict[str, Any]) -> str:
    bounds = edge.get("p99_bounds_ms")
    if edge.get("p99_ms") is None or not bounds:
        return "-"
    upper = "inf" if bounds[1] is None else f"{bounds[1]:g}"
    return f"{edge['p99_ms']:.1f} [{bounds[0]:g}-{upper}]"


def _trace_p99(edge: dict[str, Any]) -> str:
    trace = edge.get("trace")
    return "-" if not trace else f"{trace['p99_ms']:.1f} (n={trace['count']})"


def format_table(topology: dict[str, Any]) -> str:
    header = ("SOURCE", "DESTINATION", "RPS", "SUCCESS", "P50 ms", "P95 ms", "P99 ms [bucket]", "TRACE P99",
              "FLAGS", "HEALTH")  # fmt: skip
    rows = [header]
    for e in topology["edges"]:
        flags = ",".join(f"{k}={v:g}" for k, v in e["flags"].items()) or "-"
        numbers = (_fmt(e["rps"]), _fmt(e["success_rate"], 100, 2, "%"), _fmt(e["p50_ms"], digits=1),
                   _fmt(e["p95_ms"], digits=1), _p99(e), _trace_p99(e))  # fmt: skip
        rows.append((e["source"], e["target"], *numbers, flags, e["health"]))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    notes = [f"missing: {m['source']}: {m['error']}" for m in topology.get("missing", [])]
    if topology.get("stale"):
        notes.append("stale: showing the last good data")
    summary = f"{len(topology['nodes'])} nodes, {len(topology['edges'])} edges, window {topology['window_s']:g}s"
    return "\n".join([*lines, "", summary, *notes])


def run(args: argparse.Namespace) -> int:
    params = {k: v for k in ("graph", "namespace", "window", "at") if (v := getattr(args, k))}
    url = f"{args.api_url.rstrip('/')}/api/v1/topology?{urllib.parse.urlencode(params)}"
    topology = fetch_json(url)
    print(json.dumps(topology, indent=2) if args.json else format_table(topology))
    return 0
