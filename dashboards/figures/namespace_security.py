"""Namespace boxes labelled with their effective mTLS mode, from `GET /api/v1/mesh/security`.

A box reads "bookinfo · mTLS STRICT", with "(2 exceptions)" when selector or port-level policies (or ignored
duplicates) make some workloads differ. Without an answer (the endpoint is off without --rules-dir or --kube,
or failed) or for a namespace the answer does not list, the box keeps its plain name: no mode is better than a
guessed one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashboards.figures.elements import NAMESPACE_PREFIX, Element

MODES = ("STRICT", "PERMISSIVE", "DISABLE")


def namespace_label(namespace: str, entry: Mapping[str, Any] | None) -> str:
    mode = entry.get("mode") if entry else None
    if entry is None or mode not in MODES:
        return namespace
    exceptions = entry.get("exceptions")
    count = len(exceptions) if isinstance(exceptions, list) else 0
    more = f" ({count} exception{'s' if count > 1 else ''})" if count else ""
    return f"{namespace} · mTLS {mode}{more}"


def security_by_namespace(answer: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """The answer's entries by namespace; anything malformed is left out."""
    entries = (answer or {}).get("namespaces")
    if not isinstance(entries, list):
        return {}
    return {e["namespace"]: e for e in entries if isinstance(e, dict) and isinstance(e.get("namespace"), str)}


def _boxed(element: Element) -> str | None:
    """The namespace of a namespace box, else None."""
    box_id = str(element.get("data", {}).get("id", ""))
    if element.get("classes") != "namespace" or not box_id.startswith(NAMESPACE_PREFIX):
        return None
    return box_id[len(NAMESPACE_PREFIX) :]


def boxed_namespaces(elements: list[Element]) -> tuple[str, ...]:
    """The namespaces that have a box, to ask the API about just those."""
    return tuple(sorted(ns for ns in map(_boxed, elements) if ns is not None))


def label_namespaces(elements: list[Element], answer: Mapping[str, Any] | None) -> list[Element]:
    """`elements` with the namespace boxes relabelled (new dicts for those; the others are shared)."""
    found = security_by_namespace(answer)
    out = []
    for element in elements:
        namespace = _boxed(element)
        if namespace is not None and namespace in found:
            element = {**element, "data": {**element["data"], "label": namespace_label(namespace, found[namespace])}}
        out.append(element)
    return out
