"""`observe edit circuit-breaker`, `observe audit`, `observe revert`: edits straight against a rules directory
or the Kubernetes API (`--kube`), through the same EditService pipeline as the API: validate, diff, dry run, apply with
optimistic concurrency, audit."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from observe.actions.audit import Actor, AuditLog
from observe.actions.destination_rules import PRESETS, PolicyChange
from observe.actions.diff import to_yaml
from observe.actions.files import RulesDirectory
from observe.actions.kube import KubeApplier, load_config
from observe.actions.merge import merge_all, parse_set
from observe.actions.ports import Applier
from observe.errors import BadQuery, InvalidEdit
from observe.services.edits import EditService
from observe.settings import kube_environ

T = TypeVar("T")
DEFAULT_AUDIT_DB = Path.home() / ".local" / "state" / "observe" / "audit.sqlite3"


def target_flags(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--rules-dir", help="a GitOps directory of YAML rules (<kind>/<namespace>/<name>.yaml)")
    where.add_argument("--kube", action="store_true", help="the Kubernetes API (kubeconfig or in-cluster account)")
    parser.add_argument("--kubeconfig", default="", help="with --kube; default in-cluster, $KUBECONFIG, ~/.kube/config")
    parser.add_argument("--audit-db", default=str(DEFAULT_AUDIT_DB), help="SQLite audit log file")


def register(commands: Any) -> None:
    edit = commands.add_parser("edit", help="edit Istio traffic policy")
    kinds = edit.add_subparsers(dest="edit_kind", required=True, metavar="KIND")
    cb = kinds.add_parser("circuit-breaker", help="DestinationRule connection pool and outlier detection")
    cb.add_argument("target", metavar="NAMESPACE/HOST")
    cb.add_argument("--preset", choices=sorted(PRESETS))
    cb.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="a trafficPolicy field, e.g. connectionPool.tcp.maxConnections=1 (repeatable)",
    )
    cb.add_argument("--spec", help="a trafficPolicy fragment as JSON (merge patch: null deletes)")
    cb.add_argument("--subset", help="edit this subset's policy instead of the host-level one")
    cb.add_argument("--dry-run", action="store_true", help="show the result, write nothing")
    cb.add_argument("-o", "--output", choices=("diff", "yaml"), default="diff")
    cb.add_argument("--reason", default="", help="why (kept in the audit log)")
    target_flags(cb)
    cb.set_defaults(run=run_edit)
    from observe.cli import edit_traffic  # here, not at the top: edit_traffic imports this module's helpers

    edit_traffic.register(kinds)
    audit = commands.add_parser("audit", help="list the audit log of edits")
    audit.add_argument("--limit", type=int, default=20)
    audit.add_argument("--audit-db", default=str(DEFAULT_AUDIT_DB))
    audit.add_argument("--target", help="only entries of Kind/namespace/name")
    audit.set_defaults(run=run_audit)
    revert = commands.add_parser("revert", help="revert one audit entry")
    revert.add_argument("id", type=int)
    revert.add_argument("--force", action="store_true", help="even if the object changed since")
    revert.add_argument("--reason", default="")
    target_flags(revert)
    revert.set_defaults(run=run_revert)


def edit_service(args: argparse.Namespace) -> EditService:
    applier: Applier = (KubeApplier(load_config(args.kubeconfig, kube_environ())) if args.kube
                        else RulesDirectory(args.rules_dir))  # fmt: skip
    return EditService(applier, AuditLog(args.audit_db))


def cli_actor() -> Actor:
    return Actor(getpass.getuser(), "cli")


def run_async(work: Callable[[], Awaitable[T]], service: EditService | None = None) -> T:
    async def main() -> T:
        try:
            return await work()
        finally:
            if service is not None:  # the Kubernetes applier's HTTP session belongs to this event loop
                await service.applier.close()

    return asyncio.run(main())


def change_from_args(args: argparse.Namespace) -> PolicyChange:
    patches = []
    if args.spec:
        try:
            patches.append(json.loads(args.spec))
        except ValueError as exc:
            raise InvalidEdit(f"--spec is not valid JSON: {exc}", field="spec") from None
    patches += [parse_set(item) for item in args.sets]
    return PolicyChange(preset=args.preset, values=merge_all(patches), subset=args.subset)


def run_edit(args: argparse.Namespace) -> int:
    namespace, sep, host = args.target.partition("/")
    if not sep or not host:
        raise BadQuery(f"invalid target {args.target!r}: expected NAMESPACE/HOST", field="target")
    service = edit_service(args)
    result = run_async(lambda: service.edit_destination_rule(namespace, host, change_from_args(args), cli_actor(),
                                                        reason=args.reason, dry_run=args.dry_run), service)  # fmt: skip
    sys.stdout.write(to_yaml(result.object) if args.output == "yaml" else result.diff)
    if result.audit_id is not None:
        print(f"applied; audit entry {result.audit_id}", file=sys.stderr)
    return 0


def run_audit(args: argparse.Namespace) -> int:
    log = AuditLog(args.audit_db)
    for e in run_async(lambda: log.entries(limit=args.limit, target=args.target)):
        print(f"{e.id}\t{e.ts:.0f}\t{e.actor}\t{e.action}\t{e.target}\t{e.result.value}\t{e.reason or e.detail}")
    return 0


def run_revert(args: argparse.Namespace) -> int:
    service = edit_service(args)
    result = run_async(lambda: service.revert(args.id, cli_actor(), reason=args.reason, force=args.force), service)
    sys.stdout.write(result.diff)
    print(f"reverted; audit entry {result.audit_id}", file=sys.stderr)
    return 0
