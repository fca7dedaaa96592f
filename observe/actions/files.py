"""The rules-directory applier (GitOps): one YAML file per object, `<root>/<plural>/<namespace>/<name>.yaml`
(e.g. `destinationrules/bookinfo/reviews.yaml`), read by the demo mesh and committable as is.

Concurrency: metadata.resourceVersion is kept in the file and incremented on every write. A write holds an
exclusive `flock` on `<root>/.lock` (so other processes — another observe, the CLI — serialise with it),
compares the stored version with the version the edit was based on (a mismatch → Conflict carrying the fresh
object), then writes a temp file in the same directory, fsyncs it and renames it over the old one, so a reader
sees the old file or the new one, never half of one. Blocking file work runs in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import yaml

from observe.actions.resources import KINDS, Obj, ObjectRef, ResourceKind, check_namespace, resource_version
from observe.errors import Conflict, InvalidEdit


def conflict(ref: ObjectRef, fresh: Obj | None, expected: str | None) -> Conflict:
    now = resource_version(fresh)
    return Conflict(f"{ref} changed since it was read (resourceVersion {expected or 'none'} → {now or 'deleted'}): "
                    "reload and edit again", field="metadata.resourceVersion", extra={"object": fresh})  # fmt: skip


class RulesDirectory:
    name = "rules-dir"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, ref: ObjectRef) -> Path:
        return self.root / ref.kind.plural / ref.namespace / f"{ref.name}.yaml"

    async def get(self, ref: ObjectRef) -> Obj | None:
        return await asyncio.to_thread(self._read, ref)

    async def apply(self, desired: Obj, base: Obj | None, *, dry_run: bool = False) -> Obj:
        return await asyncio.to_thread(self._apply, desired, base, dry_run)

    async def delete(self, ref: ObjectRef, base: Obj, *, dry_run: bool = False) -> None:
        await asyncio.to_thread(self._delete, ref, base, dry_run)

    async def close(self) -> None:
        return None

    def list_objects(self) -> list[Obj]:
        """Every object in the directory (blocking; the demo's reader calls it from its own poll)."""
        out = []
        for kind in KINDS.values():
            for path in sorted((self.root / kind.plural).glob("*/*.yaml")):
                with contextlib.suppress(OSError, yaml.YAMLError):
                    loaded = yaml.safe_load(path.read_text())
                    if isinstance(loaded, dict):
                        out.append(loaded)
        return out

    def _read(self, ref: ObjectRef) -> Obj | None:
        return self._load(self.path(ref))

    def _list(self, kind: ResourceKind, namespace: str | None) -> list[Obj]:
        if namespace is not None:
            check_namespace(namespace)  # it becomes part of a glob pattern
        paths = sorted((self.root / kind.plural).glob(f"{namespace or '*'}/*.yaml"))
        return [obj for obj in map(self._load, paths) if obj is not None]

    @staticmethod
    def _load(path: Path) -> Obj | None:
        try:
            loaded = yaml.safe_load(path.read_text())
        except FileNotFoundError:
            return None
        except yaml.YAMLError as exc:
            raise InvalidEdit(f"{path} is not valid YAML: {exc}", field="file") from None
        if not isinstance(loaded, dict):
            raise InvalidEdit(f"{path} does not hold an object", field="file")
        return loaded

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _apply(self, desired: Obj, base: Obj | None, dry_run: bool) -> Obj:
        ref = ObjectRef.of(desired)
        with self._locked():
            current = self._read(ref)
            expected = resource_version(base)
            if (current is None) != (base is None) or resource_version(current) != expected:
                raise conflict(ref, current, expected)
            stored = {**desired, "metadata": {**desired["metadata"], "resourceVersion": str(int(expected or 0) + 1)}}
            if not dry_run:
                self._write(self.path(ref), stored)
            return stored

    def _delete(self, ref: ObjectRef, base: Obj, dry_run: bool) -> None:
        with self._locked():
            current = self._read(ref)
            if current is None or resource_version(current) != resource_version(base):
                raise conflict(ref, current, resource_version(base))
            if not dry_run:
                self.path(ref).unlink()

    @staticmethod
    def _write(path: Path, obj: Obj) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as out:
                yaml.safe_dump(obj, out, sort_keys=False)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)  # atomic on POSIX: readers see the old file or the new one
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    # Last: a method named `list` shadows the builtin for annotations in the rest of the class body.
    async def list(self, kind: ResourceKind, namespace: str | None = None) -> list[Obj]:
        """The files under `<plural>/<namespace>/` (every namespace's when None); a broken file is an error (422
        naming it) rather than a silently missing object."""
        return await asyncio.to_thread(self._list, kind, namespace)
