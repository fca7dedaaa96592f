"""Pure: the unified YAML diff between two versions of an object (None: absent), for previews and the audit.

Both sides drop what the API server owns (uid, managedFields, resourceVersion, ...) and are dumped with
sorted keys, so the diff shows only what the edit changes.
"""

from __future__ import annotations

import difflib

import yaml

from observe.actions.resources import Obj, ObjectRef, without_server_fields


def to_yaml(obj: Obj | None) -> str:
    if obj is None:
        return ""
    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False)


def unified_diff(before: Obj | None, after: Obj | None, ref: ObjectRef) -> str:
    a = to_yaml(without_server_fields(before, keep_version=False) if before is not None else None)
    b = to_yaml(without_server_fields(after, keep_version=False) if after is not None else None)
    lines = difflib.unified_diff(a.splitlines(keepends=True), b.splitlines(keepends=True),
                                 fromfile=f"live/{ref}" if before is not None else "/dev/null",
                                 tofile=f"edited/{ref}" if after is not None else "/dev/null")  # fmt: skip
    return "".join(lines)
