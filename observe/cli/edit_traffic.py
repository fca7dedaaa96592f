"""`observe edit traffic NAMESPACE/SERVICE`: release strategies (weights, take-over, roll-back, blue-green, mirror,
header / cookie / URI canary) as VirtualService + DestinationRule edits, through the same pipeline as the API
(services/traffic.py). `--dry-run -o yaml` prints both resulting objects and writes nothing; a refused value
exits non-zero with a message naming the field."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import yaml

from observe.actions.traffic import TrafficChange
from observe.actions.traffic_match import MATCH_OPS, RequestMatch
from observe.cli.edit import cli_actor, edit_service, run_async, target_flags
from observe.errors import BadQuery, InvalidEdit
from observe.services.traffic import TrafficService


def register(kinds: Any) -> None:
    traffic = kinds.add_parser("traffic", help="VirtualService routing: weights, blue-green, mirroring, canary")
    traffic.add_argument("target", metavar="NAMESPACE/SERVICE")
    how = traffic.add_mutually_exclusive_group(required=True)
    how.add_argument("--weights", metavar="V=W,...", help="a split, e.g. v1=80,v2=20 (sums to 100)")
    how.add_argument("--take-over", metavar="VERSION", help="send 100%% to VERSION")
    how.add_argument("--roll-back", metavar="VERSION", nargs="?", const="", help="send 100%% to the baseline")
    how.add_argument("--blue-green", metavar="VERSION", help="switch all traffic to VERSION in one step")
    how.add_argument("--mirror", metavar="VERSION", help="copy --mirror-percent of the traffic to VERSION")
    how.add_argument("--match-header", metavar="NAME=VALUE", help="requests with this header go to --to")
    how.add_argument("--match-cookie", metavar="NAME=VALUE", help="requests with this cookie go to --to")
    how.add_argument("--match-uri", metavar="PREFIX", help="requests whose path starts with PREFIX go to --to")
    traffic.add_argument("--mirror-percent", type=float, default=100.0, help="with --mirror (0 turns it off)")
    traffic.add_argument("--match-op", choices=MATCH_OPS, default="exact", help="how a header/cookie value matches")
    traffic.add_argument("--to", metavar="VERSION", help="with --match-*: the version matching requests go to")
    traffic.add_argument("--versions", default="", help="the service's version labels, e.g. v1,v2,v3, when the "
                         "DestinationRule does not list them all")  # fmt: skip
    traffic.add_argument("--dry-run", action="store_true", help="show the result, write nothing")
    traffic.add_argument("-o", "--output", choices=("diff", "yaml"), default="diff")
    traffic.add_argument("--reason", default="", help="why (kept in the audit log)")
    target_flags(traffic)
    traffic.set_defaults(run=run_traffic)


def change_from_args(args: argparse.Namespace) -> TrafficChange:
    versions = tuple(v.strip() for v in args.versions.split(",") if v.strip())
    if args.weights:
        return TrafficChange("weights", weights=_weights(args.weights), versions=versions)
    for strategy, value in (("take-over", args.take_over), ("blue-green", args.blue_green)):
        if value:
            return TrafficChange(strategy, version=value, versions=versions)
    if args.roll_back is not None:
        return TrafficChange("roll-back", version=args.roll_back or None, versions=versions)
    if args.mirror:
        return TrafficChange("mirror", version=args.mirror, mirror_percent=args.mirror_percent, versions=versions)
    if not args.to:
        raise InvalidEdit("version: --to VERSION is required with --match-*", field="version")
    if args.match_uri:
        match = RequestMatch("uri", args.match_uri, op="prefix")
    else:
        kind, raw = ("header", args.match_header) if args.match_header else ("cookie", args.match_cookie)
        name, sep, value = raw.partition("=")
        if not sep:
            raise InvalidEdit(f"match.value: expected NAME=VALUE, got {raw!r}", field="match.value")
        match = RequestMatch(kind, value, name=name.strip(), op=args.match_op)
    return TrafficChange("match", version=args.to, match=match, versions=versions)


def _weights(raw: str) -> dict[str, int]:
    weights: dict[str, int] = {}
    for item in raw.split(","):
        version, sep, value = item.partition("=")
        if not sep or not value.strip().isdecimal():  # isdigit() accepts "²", which int() refuses
            raise InvalidEdit(f"weights: expected VERSION=PERCENT,..., got {item!r}", field="weights")
        weights[version.strip()] = int(value)
    return weights


def run_traffic(args: argparse.Namespace) -> int:
    namespace, sep, service_name = args.target.partition("/")
    if not sep or not service_name:
        raise BadQuery(f"invalid target {args.target!r}: expected NAMESPACE/SERVICE", field="target")
    change = change_from_args(args)
    service = edit_service(args)
    traffic = TrafficService(service)
    result = run_async(lambda: traffic.edit(namespace, service_name, change, cli_actor(), reason=args.reason,
                                       dry_run=args.dry_run), service)  # fmt: skip
    if args.output == "yaml":
        sys.stdout.write(yaml.safe_dump_all([o for o in result.objects.values() if o is not None], sort_keys=True))
    else:
        sys.stdout.write("".join(r.diff for _, r in result.edits))
    ids = [r.audit_id for _, r in result.edits if r.audit_id is not None]
    if ids:
        print(f"applied; audit entries {', '.join(map(str, ids))} (revert newest first)", file=sys.stderr)
    return 0
