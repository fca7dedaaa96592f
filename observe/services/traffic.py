"""Traffic edits (release strategies) through the edit pipeline: a DestinationRule subsets edit when new subsets
are needed, then the VirtualService edit, each a normal `EditService.edit` (validate, diff, dry run, apply with
optimistic concurrency, audit).

Two objects, two audit entries: an edit that adds subsets writes the DestinationRule first (so the
VirtualService never names a subset that does not exist yet), then the VirtualService; an edit that needs no new
subset writes the VirtualService only (no empty DestinationRule entry). Each entry reverts on its own through
`EditService.revert`; `revert_order` lists them newest first, the order that never leaves a route naming a
missing subset. If the VirtualService write fails after the DestinationRule was written, the extra subsets stay:
they select existing pods and route nothing until a route names them. A dry run previews both, the
VirtualService checked against the previewed DestinationRule. Both objects are built and validated before
the first write, so a refused VirtualService writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from observe.actions.audit import Actor
from observe.actions.resources import Obj, without_server_fields
from observe.actions.traffic import (
    TrafficChange,
    destination_rule_ref,
    targets,
    virtual_service_ref,
    with_routes,
    with_subsets,
)
from observe.actions.validation import validate
from observe.services.edits import EditResult, EditService


@dataclass(frozen=True)
class TrafficResult:
    strategy: str
    dry_run: bool
    edits: list[tuple[str, EditResult]]  # (target, result), in write order
    objects: dict[str, Obj | None]  # by kind: what is (or, in a dry run, would be) stored

    def to_wire(self) -> dict[str, Any]:
        ids = [r.audit_id for _, r in self.edits if r.audit_id is not None]
        return {"strategy": self.strategy, "dry_run": self.dry_run, "applied": bool(ids),
                "objects": self.objects, "diff": "".join(r.diff for _, r in self.edits),
                "audit_ids": ids, "revert_order": ids[::-1],
                "edits": [{"target": target, **r.to_wire()} for target, r in self.edits]}  # fmt: skip


class TrafficService:
    def __init__(self, edits: EditService) -> None:
        self.edits = edits

    async def get(self, namespace: str, service: str) -> dict[str, Obj | None]:
        """The service's VirtualService and DestinationRule (None where absent)."""
        applier = self.edits.applier
        return {"VirtualService": await applier.get(virtual_service_ref(namespace, service)),
                "DestinationRule": await applier.get(destination_rule_ref(namespace, service))}  # fmt: skip

    async def edit(self, namespace: str, service: str, change: TrafficChange, actor: Actor, *, reason: str = "",
                   dry_run: bool = False) -> TrafficResult:  # fmt: skip
        vs_ref, dr_ref = virtual_service_ref(namespace, service), destination_rule_ref(namespace, service)
        applier = self.edits.applier
        live_vs, live_dr = await applier.get(vs_ref), await applier.get(dr_ref)
        edits: list[tuple[str, EditResult]] = []
        rule = live_dr
        wanted = with_subsets(live_dr, dr_ref, service, targets(change, live_dr, live_vs))
        validate(with_routes(live_vs, vs_ref, service, change, wanted), vs_ref.kind)  # refuse before any write
        if live_dr is None or _content(wanted) != _content(live_dr):
            result = await self.edits.edit(
                dr_ref, lambda live: with_subsets(live, dr_ref, service, targets(change, live, live_vs)), actor,
                reason=reason, dry_run=dry_run)  # fmt: skip
            edits.append((str(dr_ref), result))
            rule = result.object
        assert rule is not None
        fixed_rule = rule
        result = await self.edits.edit(vs_ref, lambda live: with_routes(live, vs_ref, service, change, fixed_rule),
                                       actor, reason=reason, dry_run=dry_run)  # fmt: skip
        edits.append((str(vs_ref), result))
        return TrafficResult(change.strategy, dry_run, edits,
                             {"DestinationRule": rule, "VirtualService": result.object})  # fmt: skip


def _content(obj: Obj) -> Obj:
    return without_server_fields(obj, keep_version=False)
