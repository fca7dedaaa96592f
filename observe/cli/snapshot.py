"""`observe snapshot create|list|export` and `observe diff`: incident review from a terminal, over the API."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from observe.cli.topology import fetch

API_URL = "http://127.0.0.1:8080"


def _call(url: str, body: dict[str, Any] | None = None, timeout_s: float = 120.0) -> bytes:
    return fetch(url, body, timeout_s)  # a snapshot gathers series and comparisons: longer than a topology


def _api(args: argparse.Namespace, path: str, params: dict[str, str] | None = None) -> str:
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    return f"{args.api_url.rstrip('/')}{path}{query}"


def _scope_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api-url", default=API_URL, help="observe API base URL")
    parser.add_argument("--namespace", default=None, help="comma-separated namespaces (default all)")
    parser.add_argument("--graph", default=None, help="versioned-app (default), app, service or workload")


def register(commands: Any) -> None:
    snapshot = commands.add_parser("snapshot", help="save, list and export incident snapshots")
    actions = snapshot.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="save a snapshot of a window")
    _scope_flags(create)
    create.add_argument("--title", required=True)
    create.add_argument("--window", default="10m", help="the window it covers (default 10m)")
    create.add_argument("--at", default=None, help="its end: Unix seconds or RFC 3339 (default now)")
    create.add_argument("--notes", default=None)
    create.set_defaults(run=run_create)
    listing = actions.add_parser("list", help="list saved snapshots, newest first")
    listing.add_argument("--api-url", default=API_URL, help="observe API base URL")
    listing.add_argument("--json", action="store_true", help="print the API's JSON answer")
    listing.set_defaults(run=run_list)
    export = actions.add_parser("export", help="write a snapshot as JSON or as a self-contained HTML report")
    export.add_argument("id")
    export.add_argument("--api-url", default=API_URL, help="observe API base URL")
    export.add_argument("--format", choices=("json", "html"), default="json")
    export.add_argument("-o", "--output", default="-", help="file to write (default standard output)")
    export.set_defaults(run=run_export)
    diff = commands.add_parser("diff", help="compare two past windows of the mesh, biggest impact first")
    _scope_flags(diff)
    diff.add_argument("--a-at", required=True, help="the earlier instant (baseline)")
    diff.add_argument("--b-at", default=None, help="the later instant (default now)")
    diff.add_argument("--window", default=None, help="rate window, e.g. 5m")
    diff.add_argument("--limit", type=int, default=20, help="edges to print (default 20)")
    diff.add_argument("--json", action="store_true", help="print the API's JSON answer")
    diff.set_defaults(run=run_diff)


def run_create(args: argparse.Namespace) -> int:
    body = {k: v for k in ("title", "window", "at", "namespace", "graph", "notes") if (v := getattr(args, k))}
    answer = json.loads(_call(_api(args, "/api/v1/snapshots"), body))
    print(answer["id"])
    for m in answer.get("missing", []):
        print(f"missing: {m['source']}: {m['error']}", file=sys.stderr)
    return 0


def run_list(args: argparse.Namespace) -> int:
    answer = json.loads(_call(_api(args, "/api/v1/snapshots")))
    if args.json:
        print(json.dumps(answer, indent=2))
        return 0
    for s in answer["snapshots"]:
        scope = ",".join(s["namespaces"]) or "all"
        print(f"{s['id']}  at {s['at']:.0f}  window {s['window_s']:g}s  {s['graph']}  {scope}  {s['title']}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    suffix = "/report.html" if args.format == "html" else ""
    content = _call(_api(args, f"/api/v1/snapshots/{urllib.parse.quote(args.id, safe='')}{suffix}"))
    if args.output == "-":
        sys.stdout.buffer.write(content)
    else:
        Path(args.output).write_bytes(content)
    return 0


def format_diff(answer: dict[str, Any], limit: int) -> str:
    lines = [f"{'IMPACT':>8}  {'STATUS':<8} {'EDGE':<60} {'ΔRPS':>8} {'ΔSUCCESS':>9} {'ΔP99 ms':>9}"]
    for e in answer["edges"][:limit]:
        d = e["delta"]
        success = "-" if d["success_rate"] is None else f"{d['success_rate'] * 100:+.2f}%"
        p99 = "-" if d["p99_ms"] is None else f"{d['p99_ms']:+.1f}"
        lines.append(f"{e['impact'] * 100:7.2f}%  {e['status']:<8} {e['source'] + ' -> ' + e['target']:<60} "
                     f"{d['rps']:+8.2f} {success:>9} {p99:>9}")  # fmt: skip
    nodes = answer["nodes"]
    lines.append(f"\nnodes added: {', '.join(nodes['added']) or '-'}; removed: {', '.join(nodes['removed']) or '-'}")
    lines += [f"missing ({m['side']}): {m['source']}: {m['error']}" for m in answer["missing"]]
    return "\n".join(lines)


def run_diff(args: argparse.Namespace) -> int:
    params = {"a_at": args.a_at, **{k: v for k in ("b_at", "window", "namespace", "graph") if (v := getattr(args, k))}}
    answer = json.loads(_call(_api(args, "/api/v1/diff", params)))
    print(json.dumps(answer, indent=2) if args.json else format_diff(answer, args.limit))
    return 0
