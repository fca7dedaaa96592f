"""The applier port: where edited objects live (a rules directory, the Kubernetes API). Fakes implement it too.

Concurrency contract, the same for every applier: `apply(desired, base)` writes `desired` only if the stored
object is still `base` — compared by metadata.resourceVersion (`base` None: the object must not exist yet) —
and otherwise raises Conflict whose `extra["object"]` is the fresh stored object (or None). With `dry_run` it
checks everything, writes nothing and returns what would be stored. `list` is a read of any kind, the read-only
ones included (resources.PEER_AUTHENTICATION): every object of `kind` in a namespace, or in all of them (None).
"""

from __future__ import annotations

from typing import Protocol

from observe.actions.resources import Obj, ObjectRef, ResourceKind


class Applier(Protocol):
    name: str

    async def get(self, ref: ObjectRef) -> Obj | None:
        """The stored object, or None when there is none."""
        ...

    async def apply(self, desired: Obj, base: Obj | None, *, dry_run: bool = False) -> Obj:
        """Create (base None) or update `desired`; returns the stored object with its new resourceVersion."""
        ...

    async def delete(self, ref: ObjectRef, base: Obj, *, dry_run: bool = False) -> None:
        """Delete the object if it is still `base` (a revert of a creation)."""
        ...

    async def close(self) -> None: ...

    # Last: a method named `list` shadows the builtin for annotations in the rest of the class body.
    async def list(self, kind: ResourceKind, namespace: str | None = None) -> list[Obj]:
        """Every stored object of `kind` in `namespace` (None: every namespace), ordered by namespace and name."""
        ...
