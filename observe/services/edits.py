"""Edit orchestration, generic over the resource kind (DestinationRules now, VirtualService weights next).

Pipeline of `edit(ref, mutate, ...)`: read the live object → `mutate` it (a pure function of the live object,
e.g. a DestinationRule policy merge) → validate against the CRD schema and webhook rules → diff → dry run
through the applier (which also checks the resourceVersion, so a stale preview already conflicts) → unless
dry_run, apply with optimistic concurrency (the live resourceVersion must still be current, else Conflict
carrying the fresh object) → audit. Revert writes an entry's `before` back (or deletes what the entry
created), only if the object is still what that entry left (its `after`), unless forced; itself audited.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from observe.actions.audit import Actor, AuditEntry, AuditLog, Result
from observe.actions.destination_rules import PolicyChange, apply_policy_change, rule_ref
from observe.actions.diff import unified_diff
from observe.actions.ports import Applier
from observe.actions.resources import Obj, ObjectRef, resource_version, without_server_fields
from observe.actions.validation import validate
from observe.errors import Conflict, InvalidEdit, NotFound, ObserveError

Mutation = Callable[[Obj | None], Obj]


@dataclass(frozen=True)
class EditResult:
    object: Obj | None
    diff: str
    audit_id: int | None
    dry_run: bool
    applied: bool

    def to_wire(self) -> dict[str, Any]:
        return {"object": self.object, "diff": self.diff, "audit_id": self.audit_id, "dry_run": self.dry_run,
                "applied": self.applied}  # fmt: skip


class EditService:
    def __init__(self, applier: Applier, audit: AuditLog, clock: Callable[[], float] = time.time) -> None:
        self.applier = applier
        self.audit = audit
        self.clock = clock

    async def get(self, ref: ObjectRef) -> Obj:
        obj = await self.applier.get(ref)
        if obj is None:
            raise NotFound(f"no {ref.kind.kind} {ref.name!r} in namespace {ref.namespace!r}", field="name")
        return obj

    async def get_destination_rule(self, namespace: str, host: str) -> Obj:
        return await self.get(rule_ref(namespace, host))

    async def edit_destination_rule(self, namespace: str, host: str, change: PolicyChange, actor: Actor, *,
                                    reason: str = "", dry_run: bool = False) -> EditResult:  # fmt: skip
        ref = rule_ref(namespace, host)
        return await self.edit(ref, lambda live: apply_policy_change(live, ref, host, change), actor,
                               reason=reason, dry_run=dry_run)  # fmt: skip

    async def edit(self, ref: ObjectRef, mutate: Mutation, actor: Actor, *, reason: str = "",
                   dry_run: bool = False) -> EditResult:  # fmt: skip
        live = await self.applier.get(ref)
        desired = mutate(live)
        validate(desired, ref.kind)
        diff = unified_diff(live, desired, ref)
        preview = await self.applier.apply(desired, live, dry_run=True)
        if dry_run:
            return EditResult(preview, diff, None, True, False)
        stored = await self._audited(actor, "edit", ref, reason, live, desired, diff, None,
                                     lambda: self.applier.apply(desired, live))  # fmt: skip
        return EditResult(stored[0], diff, stored[1], False, True)

    async def revert(self, entry_id: int, actor: Actor, *, reason: str = "", force: bool = False,
                     dry_run: bool = False) -> EditResult:  # fmt: skip
        entry = await self.audit.get(entry_id)
        if entry is None:
            raise NotFound(f"no audit entry {entry_id}", field="id")
        if entry.result is not Result.APPLIED:
            raise InvalidEdit(f"audit entry {entry_id} is {entry.result.value}: only applied changes revert",
                              field="id")  # fmt: skip
        ref = ObjectRef.parse(entry.target)
        live = await self.applier.get(ref)
        if not force and _state(live) != _state(entry.after):
            raise Conflict(f"{ref} changed since audit entry {entry_id}: revert refused (force to override)",
                           field="id", extra={"object": live})  # fmt: skip
        desired = self._restore(entry.before, live)
        if desired is not None:
            validate(desired, ref.kind)
        diff = unified_diff(live, desired, ref)
        if dry_run:
            return EditResult(desired, diff, None, True, False)
        why = reason or f"revert of audit entry {entry_id}"
        stored = await self._audited(actor, "revert", ref, why, live, desired, diff, entry_id,
                                     lambda: self._write_back(ref, desired, live))  # fmt: skip
        return EditResult(stored[0], diff, stored[1], False, True)

    async def history(self, *, limit: int = 50, target: str | None = None) -> list[AuditEntry]:
        return await self.audit.entries(limit=limit, target=target)

    async def record_denial(self, actor: Actor, action: str, target: str, why: str) -> int:
        """A refused write attempt (auth, CSRF): audited, nothing written."""
        return await self.audit.record(AuditEntry(None, self.clock(), actor.name, actor.strategy, actor.remote,
                                                  action, target, Result.DENIED, "", why))  # fmt: skip

    @staticmethod
    def _restore(before: Obj | None, live: Obj | None) -> Obj | None:
        """`before` without server fields, carrying the live resourceVersion (the precondition of the write)."""
        if before is None:
            return None
        desired = without_server_fields(before, keep_version=False)
        if live is not None and resource_version(live) is not None:
            desired["metadata"]["resourceVersion"] = resource_version(live)
        return desired

    async def _write_back(self, ref: ObjectRef, desired: Obj | None, live: Obj | None) -> Obj | None:
        if desired is None:
            if live is not None:
                await self.applier.delete(ref, live)
            return None
        return await self.applier.apply(desired, live)

    async def _audited(self, actor: Actor, action: str, ref: ObjectRef, reason: str, before: Obj | None,
                       after: Obj | None, diff: str, reverts: int | None, write: Callable[[], Any]
                       ) -> tuple[Obj | None, int]:  # fmt: skip
        def entry(result: Result, detail: str, stored: Obj | None) -> AuditEntry:
            return AuditEntry(None, self.clock(), actor.name, actor.strategy, actor.remote, action, str(ref),
                              result, reason, detail, before, stored, diff, reverts)  # fmt: skip

        try:
            stored: Obj | None = await write()
        except ObserveError as exc:
            result = Result.CONFLICT if isinstance(exc, Conflict) else Result.FAILED
            await self.audit.record(entry(result, exc.message, after))
            raise
        return stored, await self.audit.record(entry(Result.APPLIED, "", stored))


def _state(obj: Obj | None) -> Obj | None:
    """What must not have changed for a revert to be safe: everything but server-owned metadata."""
    return None if obj is None else without_server_fields(obj, keep_version=False)
