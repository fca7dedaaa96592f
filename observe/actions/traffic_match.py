"""Pure: request-content matches for canary routing (header, cookie, URI prefix) as Istio HTTPMatchRequests, and
the VirtualService rules Istio's validating webhook enforces beyond the CRD schema, for the routes observe writes.

Regexes: Envoy matches with Google RE2, so a pattern is compiled with the RE2 library itself (google-re2, the
binding cel-python already needs): constructs RE2 lacks — backreferences, lookahead/lookbehind, atomic groups —
are refused exactly as Envoy would refuse them, not merely what Python's `re` happens to accept.

Cookie: Istio has no cookie match; its docs match the `cookie` request header with a regex,
`^(.*?;\\s*)?(NAME=VALUE)(;.*)?$`, which this module builds with NAME escaped and VALUE escaped (exact,
prefix) or, for a regex, inside its own group `(?:VALUE)`, so an alternation in it (`a|.*`) stays within the
cookie's value instead of escaping the anchors and matching every request; the whole regex is checked by RE2.

Checks on a VirtualService (`virtual_service_problems`, each (path, message, value)): host names present; per
HTTP route, destination weights within 0..100 summing to 100 when more than one destination (or any weight)
is given; `mirrorPercentage.value` within 0..100; header names lower-case (Istio's rule); every regex valid RE2;
the mirror not a version this route already sends traffic to (its copy would double the load on that version
and its responses would be counted twice); and every subset named by a destination (or mirror) of the
DestinationRule's host (`hosts`: the names it goes by) is one of that rule's subsets (`subsets`) — routes to
other hosts name other rules' subsets. Routes and destinations that are not objects are skipped here (the
CRD schema refuses them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import re2

from observe.errors import InvalidEdit

Problem = tuple[str, str, Any]
MATCH_KINDS = ("header", "cookie", "uri")
MATCH_OPS = ("exact", "prefix", "regex")
HEADER_NAME = re.compile(r"^[a-z0-9!#$%&'*+.^_`|~-]+$")  # an RFC 7230 token, lower case as Istio requires
COOKIE_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_QUIET = re2.Options()
_QUIET.log_errors = False  # the reason is returned to the caller, not logged by RE2 to stderr


def regex_problem(pattern: Any) -> str | None:
    """Why `pattern` is not a valid RE2 regex (Envoy's engine), or None when it is."""
    if not isinstance(pattern, str):
        return "must be a string"
    try:
        re2.compile(pattern, _QUIET)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return f"not a valid RE2 regex (as Envoy uses): {detail}"
    return None


@dataclass(frozen=True)
class RequestMatch:
    """Requests to send to one version: header NAME op VALUE, cookie NAME=VALUE, or URI prefix VALUE."""

    kind: str
    value: str
    name: str = ""
    op: str = "exact"

    def __post_init__(self) -> None:
        if self.kind not in MATCH_KINDS:
            raise InvalidEdit(f"match.kind: must be one of {', '.join(MATCH_KINDS)}, got {self.kind!r}",
                              field="match.kind")  # fmt: skip
        if self.op not in MATCH_OPS:
            raise InvalidEdit(f"match.op: must be one of {', '.join(MATCH_OPS)}, got {self.op!r}", field="match.op")
        if self.kind == "uri" and self.op != "prefix":
            raise InvalidEdit("match.op: a URI match is a prefix", field="match.op")
        if self.kind == "header" and not HEADER_NAME.fullmatch(self.name):
            raise InvalidEdit(f"match.name: a header name in lower case, got {self.name!r}", field="match.name")
        if self.kind == "cookie" and not COOKIE_NAME.fullmatch(self.name):
            raise InvalidEdit(f"match.name: a cookie name, got {self.name!r}", field="match.name")
        if not self.value:
            raise InvalidEdit("match.value: required", field="match.value")
        if self.kind == "uri" and not self.value.startswith("/"):
            raise InvalidEdit(f"match.value: a URI prefix starts with '/', got {self.value!r}", field="match.value")
        if self.op == "regex" and (why := regex_problem(self.value)) is not None:
            raise InvalidEdit(f"match.value: {why}", field="match.value")
        if self.kind == "cookie" and (why := regex_problem(self._cookie_regex())) is not None:
            raise InvalidEdit(f"match.value: the cookie regex built from it is {why}", field="match.value")

    @property
    def route_name(self) -> str:
        """The HTTP route's name: one route per kind and name, so a new value replaces the old one."""
        suffix = re.sub(r"[^a-z0-9-]+", "-", self.name.lower()).strip("-")
        return "-".join(p for p in ("observe-match", self.kind, suffix) if p)

    def to_wire(self) -> dict[str, Any]:
        """The HTTPMatchRequest."""
        if self.kind == "uri":
            return {"uri": {"prefix": self.value}}
        if self.kind == "header":
            return {"headers": {self.name: {self.op: self.value}}}
        return {"headers": {"cookie": {"regex": self._cookie_regex()}}}

    def _cookie_regex(self) -> str:
        value = f"(?:{self.value})" if self.op == "regex" else re2.escape(self.value)
        tail = "[^;]*" if self.op == "prefix" else ""
        return f"^(.*?;\\s*)?({re2.escape(self.name)}={value}{tail})(;.*)?$"


def virtual_service_problems(spec: Any, subsets: set[str] | None,
                             hosts: frozenset[str] | None = None) -> Iterator[Problem]:  # fmt: skip
    """The webhook-style problems of a VirtualService spec; `subsets` None skips the subset check, `hosts` None
    checks the subset of every destination."""
    if not isinstance(spec, dict):
        return
    if not spec.get("hosts"):
        yield "spec.hosts", "required: at least one host", spec.get("hosts")
    for i, route in enumerate(items_of(spec.get("http"))):
        if isinstance(route, dict):
            yield from _route_problems(f"spec.http[{i}]", route, subsets, hosts)


def destination_of(item: Any) -> dict[str, Any]:
    """A route item's `destination` ({} when either is not an object)."""
    destination = item.get("destination") if isinstance(item, dict) else None
    return destination if isinstance(destination, dict) else {}


def items_of(value: Any) -> list[Any]:
    """`value` when it is a list, else [] (hand-edited objects may hold anything)."""
    return value if isinstance(value, list) else []


def goes_to(target: dict[str, Any], hosts: frozenset[str] | None) -> bool:
    """Whether a destination or mirror goes to the DestinationRule's host (always, when `hosts` is None)."""
    host = target.get("host")
    return hosts is None or (isinstance(host, str) and host in hosts)


def _route_problems(path: str, route: dict[str, Any], subsets: set[str] | None,
                    hosts: frozenset[str] | None) -> Iterator[Problem]:  # fmt: skip
    destinations = [d for d in items_of(route.get("route")) if isinstance(d, dict)]
    weights = [d.get("weight") for d in destinations]
    for j, weight in enumerate(weights):
        if isinstance(weight, int) and not 0 <= weight <= 100:
            yield f"{path}.route[{j}].weight", "must be between 0 and 100", weight
    if (len(destinations) > 1 or any(w is not None for w in weights)) and sum(w or 0 for w in weights) != 100:
        yield f"{path}.route", "weights must sum to 100", [w or 0 for w in weights]
    for j, match in enumerate(items_of(route.get("match"))):
        yield from _match_problems(f"{path}.match[{j}]", match)
    percentage = route.get("mirrorPercentage")
    percent = percentage.get("value") if isinstance(percentage, dict) else None
    if isinstance(percent, int | float) and not 0 <= percent <= 100:
        yield f"{path}.mirrorPercentage.value", "must be a percentage between 0 and 100", percent
    mirror = route.get("mirror")
    if isinstance(mirror, dict):
        receiving = {destination_of(d).get("subset") for d in destinations if receives(d)}
        if mirror.get("subset") in receiving or (None in receiving and mirror.get("subset") is not None):
            yield (f"{path}.mirror.subset", "this route already sends traffic to that version: mirror to a version "
                   "that receives none of it", mirror.get("subset"))  # fmt: skip
    if subsets is not None:
        named = [(f"{path}.route[{j}].destination.subset", destination_of(d).get("subset"))
                 for j, d in enumerate(destinations) if goes_to(destination_of(d), hosts)]  # fmt: skip
        if isinstance(mirror, dict) and goes_to(mirror, hosts):
            named.append((f"{path}.mirror.subset", mirror.get("subset")))
        for where, subset in named:
            if subset is not None and subset not in subsets:
                yield where, f"no such subset in the DestinationRule (known: {', '.join(sorted(subsets))})", subset


def receives(destination: dict[str, Any]) -> bool:
    """Whether a route destination gets traffic (no weight: the only destination, 100)."""
    weight = destination.get("weight")
    return weight is None or not isinstance(weight, int) or weight > 0


def _match_problems(path: str, match: Any) -> Iterator[Problem]:
    if not isinstance(match, dict):
        return
    headers = match.get("headers")
    for name, value in (headers if isinstance(headers, dict) else {}).items():
        if not HEADER_NAME.fullmatch(name):
            yield f"{path}.headers.{name}", "header names must be lower case", name
        if isinstance(value, dict) and "regex" in value and (why := regex_problem(value["regex"])) is not None:
            yield f"{path}.headers.{name}.regex", why, value["regex"]
    uri = match.get("uri")
    if isinstance(uri, dict) and "regex" in uri and (why := regex_problem(uri["regex"])) is not None:
        yield f"{path}.uri.regex", why, uri["regex"]


def check_virtual_service(obj: dict[str, Any], subsets: set[str] | None, hosts: frozenset[str] | None = None) -> None:
    """Raise InvalidEdit naming the first problem's field (all of them under `errors`)."""
    found = list(virtual_service_problems(obj.get("spec"), subsets, hosts))
    if found:
        path, message, value = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise InvalidEdit(f"invalid VirtualService: {path}: {message} (got {value!r}){more}", field=path,
                          extra={"errors": [{"field": p, "message": m, "value": v} for p, m, v in found]})  # fmt: skip
