"""`observe compare NAMESPACE/SERVICE --baseline v1 --canary v2`: the comparison from a running API.

Exit code: 0 PASS, 1 FAIL or CRITICAL, 2 anything else (undecided, no traffic, error), so scripts can gate on it.
"""

from __future__ import annotations

import argparse
import json
import urllib.parse
from typing import Any

from observe.cli.topology import fetch_json
from observe.errors import BadQuery

EXIT = {"PASS": 0, "FAIL": 1, "CRITICAL": 1}


def register(commands: Any) -> None:
    parser = commands.add_parser("compare", help="compare a canary version with its baseline")
    parser.add_argument("target", metavar="NAMESPACE/SERVICE", help="e.g. bookinfo/reviews")
    parser.add_argument("--baseline", required=True, help="baseline version, e.g. v1")
    parser.add_argument("--canary", required=True, help="canary version, e.g. v2")
    parser.add_argument("--window", default=None, help="comparison window, e.g. 10m (API default 10m)")
    parser.add_argument("--at", default=None, help="past instant: Unix seconds or RFC 3339")
    parser.add_argument("--api-url", default="http://127.0.0.1:8080", help="observe API base URL")
    parser.add_argument("--json", action="store_true", help="print the API's JSON answer")
    parser.set_defaults(run=run)


def _ci(ci: list[float | None] | None, scale: float = 100.0) -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return "-"
    return f"[{ci[0] * scale:.2f}, {ci[1] * scale:.2f}]"


def _interval(bounds: list[float | None] | None) -> str:
    if not bounds:
        return "-"
    return f"[{bounds[0]:g}, {'inf' if bounds[1] is None else f'{bounds[1]:g}'}]"


def format_table(answer: dict[str, Any]) -> str:
    rows = [("METRIC", answer["baseline"], answer["canary"], "DIFFERENCE", "VERDICT")]
    m = answer.get("metrics") or {}
    for name, key in (("5xx errors %", "errors"), ("latency tail %", None)):
        metric = m.get(key) if key else (m.get("latency") or {}).get("tail")
        if not metric:
            continue
        b, c, d = metric["baseline"], metric["canary"], metric["difference"]
        rows.append((name, f"{100 * (b['rate'] or 0):.2f} {_ci(b['ci'])} n={b['n']}",
                     f"{100 * (c['rate'] or 0):.2f} {_ci(c['ci'])} n={c['n']}",
                     f"{100 * (d['value'] or 0):+.2f} {_ci(d['ci'])}", metric["verdict"]))  # fmt: skip
    latency = m.get("latency") or {}
    for q in ("p50_ms", "p95_ms", "p99_ms"):
        if latency.get("baseline"):
            rows.append((q, _interval(latency["baseline"].get(q)), _interval(latency["canary"].get(q)), "", ""))
    rank = latency.get("rank") or {}
    if "cles" in rank:
        rows.append(("P(canary slower)", "", "", f"{rank['cles']:.2f} {_ci(rank['ci'], 1.0)}", rank["verdict"]))
    widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    for edge in m.get("outbound") or []:
        if edge["change"] not in ("same", "too_few_calls"):
            lines.append(f"outbound {edge['service']}: {edge['change']}")
    notes = [f"missing: {x['source']}: {x['error']}" for x in answer.get("missing", [])]
    status = f"stable for {answer.get('stable_for', 0)} look(s), actionable: {answer.get('actionable', False)}"
    return "\n".join([*lines, "", f"verdict: {answer['verdict']} ({status})", answer["reason"], *notes])


def run(args: argparse.Namespace) -> int:
    namespace, _, service = args.target.partition("/")
    if not namespace or not service:
        raise BadQuery(f"expected NAMESPACE/SERVICE, got '{args.target}'", field="target")
    query = {"namespace": namespace, "service": service, "baseline": args.baseline, "canary": args.canary}
    query |= {k: v for k in ("window", "at") if (v := getattr(args, k))}
    answer = fetch_json(f"{args.api_url.rstrip('/')}/api/v1/compare?{urllib.parse.urlencode(query)}")
    print(json.dumps(answer, indent=2) if args.json else format_table(answer))
    return EXIT.get(answer["verdict"], 2)
