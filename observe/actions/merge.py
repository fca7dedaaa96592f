"""Pure: JSON merge patch (RFC 7386) both ways, and `--set path=value` parsing.

Merge: objects merge key by key, recursively; `null` deletes a key; anything else (scalars and lists) replaces
the old value whole. So a list such as a DestinationRule's `subsets` is never merged item by item: the edit
pipeline changes a subset's policy itself and always carries the complete list, as the Kubernetes API treats
the lists of Istio's CRDs (atomic).
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from observe.errors import InvalidEdit

Obj = dict[str, Any]


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 MergePatch(target, patch), without mutating either argument."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result: Obj = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def create_merge_patch(source: Any, target: Any) -> Any:
    """The smallest merge patch turning `source` into `target` (removed keys become null)."""
    if not isinstance(source, dict) or not isinstance(target, dict):
        return copy.deepcopy(target)
    patch: Obj = {}
    for key in source.keys() - target.keys():
        patch[key] = None
    for key, value in target.items():
        if key not in source:
            patch[key] = copy.deepcopy(value)
        elif source[key] != value:
            patch[key] = create_merge_patch(source[key], value)
    return patch


def parse_set(assignment: str) -> Obj:
    """`connectionPool.tcp.maxConnections=1` → {"connectionPool": {"tcp": {"maxConnections": 1}}}.

    The value is read as a YAML scalar (`1` → int, `true` → bool, `10s` → string, `null` → delete), so a wrong
    type is left for schema validation to refuse with the field's path. A leading `trafficPolicy.` is allowed.
    """
    path, sep, raw = assignment.partition("=")
    keys = path.strip().split(".")
    if keys and keys[0] == "trafficPolicy":
        keys = keys[1:]
    if not sep or not keys or any(not k for k in keys):
        example = "connectionPool.tcp.maxConnections=1"
        raise InvalidEdit(f"invalid --set {assignment!r}: expected path=value, e.g. {example}",
                          field="set")  # fmt: skip
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if isinstance(value, dict | list):
        raise InvalidEdit(f"invalid --set {assignment!r}: the value must be a scalar", field=".".join(keys))
    patch: Obj = {keys[-1]: value}
    for key in reversed(keys[:-1]):
        patch = {key: patch}
    return patch


def merge_all(patches: list[Obj]) -> Obj:
    """Several patches as one, later ones winning (nulls kept: they still delete when applied)."""
    result: Obj = {}
    for patch in patches:
        result = _merge_keep_nulls(result, patch)
    return result


def _merge_keep_nulls(target: Obj, patch: Obj) -> Obj:
    out = copy.deepcopy(target)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge_keep_nulls(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
