"""Validation of an object before any write, in four passes; every problem names the field path and value.

1. Envelope: apiVersion/kind must match the resource kind; metadata.name a DNS subdomain, metadata.namespace
   a DNS label; top-level keys limited to apiVersion, kind, metadata, spec (status is the server's).
2. Unknown fields: the object is walked beside the CRD's OpenAPI schema; a key that the schema does not list
   (where it neither allows additionalProperties nor preserves unknown fields) is refused — the API server
   would silently prune it, so a typo such as `maxConection` would otherwise vanish without a word.
3. The CRD schema itself (types, enums, int ranges, required), with openapi-schema-validator's OAS 3.0
   validator (it knows `nullable`), plus each `x-kubernetes-validations` CEL rule evaluated with cel-python on
   the sub-object it sits on — what the API server runs on admission.
4. The webhook rules the schema lacks (`webhook.py`), for DestinationRules.
`validate` raises one InvalidEdit naming the first field, with every problem listed under `errors`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from observe.actions import schema as crd
from observe.actions.resources import DESTINATION_RULE, DNS_LABEL, DNS_SUBDOMAIN, Obj, ResourceKind
from observe.actions.webhook import destination_rule_problems
from observe.errors import InvalidEdit

TOP_LEVEL = {"apiVersion", "kind", "metadata", "spec", "status"}


@dataclass(frozen=True)
class FieldError:
    path: str
    message: str
    value: Any

    def __str__(self) -> str:
        return f"{self.path}: {self.message} (got {_show(self.value)})"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def problems(obj: Obj, kind: ResourceKind) -> list[FieldError]:
    found = list(_envelope(obj, kind))
    schema = crd.openapi_schema(kind)
    found += _walk(schema, {k: v for k, v in obj.items() if k in ("spec",)}, "")
    for error in crd.validator(kind).iter_errors({k: v for k, v in obj.items() if k in ("spec",)}):
        path = _path(list(error.absolute_path)) or "spec"
        found.append(FieldError(path, error.message.replace(repr(error.instance) + " ", "", 1), error.instance))
    if kind == DESTINATION_RULE:
        found += [FieldError(p, m, v) for p, m, v in destination_rule_problems(obj.get("spec"))]
    return _unique(found)


def validate(obj: Obj, kind: ResourceKind) -> None:
    found = problems(obj, kind)
    if found:
        first = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise InvalidEdit(f"invalid {kind.kind}: {first}{more}", field=first.path,
                          extra={"errors": [{"field": e.path, "message": e.message, "value": e.value}
                                            for e in found]})  # fmt: skip


def _envelope(obj: Obj, kind: ResourceKind) -> Iterator[FieldError]:
    if obj.get("apiVersion") != kind.api_version:
        yield FieldError("apiVersion", f"must be {kind.api_version}", obj.get("apiVersion"))
    if obj.get("kind") != kind.kind:
        yield FieldError("kind", f"must be {kind.kind}", obj.get("kind"))
    for key in sorted(set(obj) - TOP_LEVEL):
        yield FieldError(key, "unknown field", obj[key])
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        yield FieldError("metadata", "required: an object with name and namespace", meta)
        return
    if not isinstance(meta.get("name"), str) or not DNS_SUBDOMAIN.fullmatch(meta["name"]):
        yield FieldError("metadata.name", "must be a DNS subdomain", meta.get("name"))
    if not isinstance(meta.get("namespace"), str) or not DNS_LABEL.fullmatch(meta["namespace"]):
        yield FieldError("metadata.namespace", "must be a DNS label", meta.get("namespace"))
    if not isinstance(obj.get("spec"), dict):
        yield FieldError("spec", "required: an object", obj.get("spec"))


def _walk(schema: dict[str, Any], value: Any, path: str) -> Iterator[FieldError]:
    """Unknown fields and CEL rules, depth first, following properties / additionalProperties / items."""
    for rule in schema.get("x-kubernetes-validations") or []:
        if path and not crd.cel_holds(rule["rule"], value):
            yield FieldError(path, rule.get("message") or f"failed rule {rule['rule']}", value)
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            if key in props:
                yield from _walk(props[key], item, child)
            elif isinstance(extra, dict):
                yield from _walk(extra, item, child)
            elif props and not extra and not schema.get("x-kubernetes-preserve-unknown-fields"):
                yield FieldError(child, "unknown field", item)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            yield from _walk(schema["items"], item, f"{path}[{i}]")


def _path(parts: list[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _unique(found: list[FieldError]) -> list[FieldError]:
    seen: set[tuple[str, str]] = set()
    out = []
    for error in found:
        if (error.path, error.message) not in seen:
            seen.add((error.path, error.message))
            out.append(error)
    return out
