"""The OpenAPI v3 schemas of Istio's DestinationRule and VirtualService, from the CRD file this package ships
(`schemas/istio-networking-crds.gen.yaml`, Istio 1.30.3), read at run time through importlib.resources and
kept once per process; and the compiled CEL programs of their `x-kubernetes-validations` rules."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import celpy
import yaml
from celpy.adapter import json_to_cel
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from observe.actions.resources import ResourceKind

CRD_FILE = "istio-networking-crds.gen.yaml"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader reads the 470 KB file ten times faster


@functools.lru_cache(maxsize=1)
def _crds() -> dict[str, Any]:
    text = (resources.files("observe.actions") / "schemas" / CRD_FILE).read_text(encoding="utf-8")
    return {doc["metadata"]["name"]: doc for doc in yaml.load_all(text, Loader=_Loader) if doc}


@functools.lru_cache(maxsize=8)
def openapi_schema(kind: ResourceKind) -> dict[str, Any]:
    """`openAPIV3Schema` of `kind` at its version (KeyError when the shipped file lacks it)."""
    crd = _crds()[kind.crd_name]
    version = next(v for v in crd["spec"]["versions"] if v["name"] == kind.version)
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


@functools.lru_cache(maxsize=8)
def validator(kind: ResourceKind) -> OAS30Validator:
    # The format checker makes `format: int32` a range check (2^31−1), as the API server does.
    return OAS30Validator(openapi_schema(kind), format_checker=oas30_format_checker)


@functools.lru_cache(maxsize=64)
def cel_program(rule: str) -> Any:
    env = celpy.Environment()
    return env.program(env.compile(rule))


def cel_holds(rule: str, value: Any) -> bool:
    """Whether the CEL `rule` holds with `self` bound to `value`; an evaluation error counts as a failure
    (the API server refuses the object then too, e.g. `duration('soon')`)."""
    try:
        result = cel_program(rule).evaluate({"self": json_to_cel(value)})
    except Exception:  # celpy raises several unrelated types for bad input
        return False
    return result is True or (not isinstance(result, Exception) and bool(result))
