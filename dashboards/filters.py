"""The find/hide filter of the topology page: `rps>1`, `success<99`, `p99>200`, `app=reviews`, `flags=UO`.

Grammar (Kiali's Find/Hide operands, with the usual precedence and parentheses):
    expr   := term (("or" | "||") term)*
    term   := factor (("and" | "&&" | ",")? factor)*        juxtaposition is "and"
    factor := ("not" | "!") factor | "(" expr ")" | FIELD OP VALUE
Numbers: rps (requests/s), success and errors (%; `99` or `99%`), p50/p95/p99/trace_p99 (ms; `200`, `200ms`,
`0.2s`). Text, matched against the edge's source or target node (case-insensitive): app, version, namespace (ns),
workload, node (id), ready (`false`: the node has mesh-readiness problems); of the edge itself: source, target,
protocol, health, security (mtls: `mutual_tls`, `none`, `mixed`, `unknown`). mirror: mirrored requests/s. Sets:
flags (`UO`, `UH`…), code (`503`). `!=` on a node field means neither end matches. An edge is shown when it
matches; a node when one of its edges is shown. A missing number (no requests) matches no comparison.

Pure; `parse_filter` raises FilterError with a message and a column for the page to show inline.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dashboards.health import Health, Thresholds

MAX_CHARS = 500


class FilterError(ValueError):
    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} (column {column})")
        self.message = message
        self.column = column


@dataclass(frozen=True, slots=True)
class EdgeContext:
    """What a filter sees of one edge: its wire dict, its two nodes' wire dicts and its health."""

    edge: Mapping[str, Any]
    source: Mapping[str, Any]
    target: Mapping[str, Any]
    health: Health


Predicate = Callable[[EdgeContext], bool]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<lparen>\()|(?P<rparen>\))
     |(?P<cmp>(?P<field>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>>=|<=|!=|\^=|\$=|\*=|=|>|<)\s*
              (?P<value>"[^"]*"|'[^']*'|[^\s()"']+)?)
     |(?P<and>&&|,|and\b)|(?P<or>\|\||or\b)|(?P<not>!|not\b)
    )""",
    re.X | re.I,
)


def _percent(edge: Mapping[str, Any], key: str) -> float | None:
    value = edge.get(key)
    return None if value is None else float(value) * 100


def _trace_p99(edge: Mapping[str, Any]) -> float | None:
    trace = edge.get("trace")
    return trace.get("p99_ms") if isinstance(trace, Mapping) else None


def _mirror_rps(edge: Mapping[str, Any]) -> float | None:
    mirror = edge.get("mirror")
    return mirror.get("rps") if isinstance(mirror, Mapping) else None


# name -> (getter, unit): getters return None when there is no number (no requests in the window).
_NUMBERS: dict[str, tuple[Callable[[Mapping[str, Any]], float | None], str]] = {
    "rps": (lambda e: e.get("rps"), "rps"),
    "success": (lambda e: _percent(e, "success_rate"), "%"),
    "errors": (lambda e: _percent(e, "error_rate_5xx"), "%"),
    "p50": (lambda e: e.get("p50_ms"), "ms"),
    "p95": (lambda e: e.get("p95_ms"), "ms"),
    "p99": (lambda e: e.get("p99_ms"), "ms"),
    "trace_p99": (_trace_p99, "ms"),
    "mirror": (_mirror_rps, "rps"),
}
_NODE_TEXT = {"app": "app", "version": "version", "namespace": "namespace", "ns": "namespace",
              "workload": "workload", "node": "id", "id": "id", "ready": "readiness"}  # fmt: skip
_EDGE_TEXT = {"source": "source", "target": "target", "dest": "target", "destination": "target",
              "protocol": "protocol", "health": "health", "status": "health", "security": "security",
              "mtls": "security"}  # fmt: skip
_SETS = {"flags": "flags", "flag": "flags", "code": "responses", "codes": "responses"}
_NUMBER_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: abs(a - b) < 1e-9, "!=": lambda a, b: abs(a - b) >= 1e-9,
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}  # fmt: skip
_TEXT_OPS: dict[str, Callable[[str, str], bool]] = {
    "=": operator.eq, "^=": str.startswith, "$=": str.endswith, "*=": operator.contains,
}  # fmt: skip
FIELDS = sorted([*_NUMBERS, *_NODE_TEXT, *_EDGE_TEXT, *_SETS])


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    column: int
    match: re.Match[str]


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            column = pos + len(text[pos:]) - len(text[pos:].lstrip()) + 1
            word = text[column - 1 :].split()[0]
            raise FilterError(f"unexpected '{word}': expected a condition like rps>1 or app=reviews", column)
        kind = next(k for k in ("lparen", "rparen", "cmp", "and", "or", "not") if match.group(k) is not None)
        out.append(_Token(kind, match.start(kind) + 1, match))
        pos = match.end()
    return out


def _number(raw: str, name: str, unit: str, column: int) -> float:
    text = raw.strip().lower()
    scale = 1.0
    if unit == "ms" and text.endswith("ms"):
        text = text[:-2]
    elif unit == "ms" and text.endswith("s"):
        text, scale = text[:-1], 1000.0
    elif unit in ("%", "rps") and text.endswith(unit):
        text = text[: -len(unit)]
    try:
        return float(text) * scale
    except ValueError:
        raise FilterError(f"'{raw}' is not a number for {name} ({unit})", column) from None


def _number_predicate(name: str, op: str, raw: str, column: int) -> Predicate:
    getter, unit = _NUMBERS[name]
    if op not in _NUMBER_OPS:
        raise FilterError(f"operator '{op}' does not apply to {name}: use = != > >= < <=", column)
    wanted, compare = _number(raw, name, unit, column), _NUMBER_OPS[op]

    def predicate(ctx: EdgeContext) -> bool:
        value = getter(ctx.edge)
        return value is not None and compare(float(value), wanted)

    return predicate


def _edge_text(ctx: EdgeContext, key: str) -> list[str]:
    if key == "health":
        return [ctx.health.value]
    if key == "security":  # null: the API could not tell (no connection_security_policy label)
        return [str(ctx.edge.get(key) or "unknown")]
    return [str(ctx.edge.get(key) or "")]


def _node_text(ctx: EdgeContext, key: str) -> list[str]:
    if key == "readiness":  # a node is ready when the API lists no readiness problem for it
        return ["false" if node.get("readiness") else "true" for node in (ctx.source, ctx.target)]
    values = [str(node.get(key) or "") for node in (ctx.source, ctx.target)]
    if key == "workload":  # a node of several workloads has them in `workloads`
        values += [str(w) for node in (ctx.source, ctx.target) for w in node.get("workloads") or ()]
    return values


def _text_predicate(name: str, op: str, raw: str, column: int) -> Predicate:
    if op not in (*_TEXT_OPS, "!="):
        raise FilterError(f"operator '{op}' does not apply to {name}: use = != ^= $= *=", column)
    on_node = name in _NODE_TEXT
    key = _NODE_TEXT[name] if on_node else _EDGE_TEXT[name]
    wanted = raw.casefold()
    compare = _TEXT_OPS["=" if op == "!=" else op]

    def predicate(ctx: EdgeContext) -> bool:
        values = _node_text(ctx, key) if on_node else _edge_text(ctx, key)
        found = any(compare(v.casefold(), wanted) for v in values)
        return not found if op == "!=" else found

    return predicate


def _set_predicate(name: str, op: str, raw: str, column: int) -> Predicate:
    if op not in ("=", "!="):
        raise FilterError(f"operator '{op}' does not apply to {name}: use = or !=", column)
    key, wanted = _SETS[name], raw.casefold()

    def predicate(ctx: EdgeContext) -> bool:
        rates = ctx.edge.get(key) or {}
        found = any(str(k).casefold() == wanted and (v or 0) > 0 for k, v in rates.items())
        return found if op == "=" else not found

    return predicate


def _comparison(token: _Token) -> Predicate:
    name, op, value = (token.match.group(g) for g in ("field", "op", "value"))
    name = name.lower()
    if value is None:
        raise FilterError(f"missing value after '{name}{op}'", token.column)
    raw = value[1:-1] if value[:1] in "\"'" else value
    if name in _NUMBERS:
        return _number_predicate(name, op, raw, token.column)
    if name in _NODE_TEXT or name in _EDGE_TEXT:
        return _text_predicate(name, op, raw, token.column)
    if name in _SETS:
        return _set_predicate(name, op, raw, token.column)
    raise FilterError(f"unknown field '{name}': use one of {', '.join(FIELDS)}", token.column)


class _Parser:
    def __init__(self, tokens: list[_Token], end_column: int) -> None:
        self.tokens, self.pos, self.end_column = tokens, 0, end_column

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise FilterError("the expression ends too early: expected a condition", self.end_column)
        self.pos += 1
        return token

    def expr(self) -> Predicate:
        parts = [self.term()]
        while (token := self.peek()) is not None and token.kind == "or":
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else (lambda ctx: any(p(ctx) for p in parts))

    def term(self) -> Predicate:
        parts = [self.factor()]
        while (token := self.peek()) is not None and token.kind in ("and", "cmp", "not", "lparen"):
            if token.kind == "and":
                self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else (lambda ctx: all(p(ctx) for p in parts))

    def factor(self) -> Predicate:
        token = self.take()
        if token.kind == "not":
            inner = self.factor()
            return lambda ctx: not inner(ctx)
        if token.kind == "lparen":
            inner = self.expr()
            closing = self.peek()
            if closing is None or closing.kind != "rparen":
                raise FilterError("missing ')'", closing.column if closing else self.end_column)
            self.take()
            return inner
        if token.kind == "cmp":
            return _comparison(token)
        raise FilterError(f"unexpected '{token.match.group(token.kind)}': expected a condition", token.column)


def parse_filter(text: str | None) -> Predicate | None:
    """The predicate of an expression; None for an empty one (everything shown)."""
    source = (text or "").strip()
    if not source:
        return None
    if len(source) > MAX_CHARS:
        raise FilterError(f"the expression is longer than {MAX_CHARS} characters", MAX_CHARS)
    parser = _Parser(_tokens(source), len(source) + 1)
    predicate = parser.expr()
    if (extra := parser.peek()) is not None:
        raise FilterError(f"unexpected '{extra.match.group(extra.kind)}'", extra.column)
    return predicate


@dataclass(frozen=True, slots=True)
class Selection:
    """What a filter lets through: edges (wire dicts, in API order) and node ids."""

    edges: list[Mapping[str, Any]]
    node_ids: frozenset[str]


def select(topology: Mapping[str, Any], predicate: Predicate | None, thresholds: Thresholds) -> Selection:
    """The edges a predicate keeps and the nodes they touch (every node when there is no filter)."""
    nodes: dict[str, Mapping[str, Any]] = {n["id"]: n for n in topology.get("nodes", [])}
    edges: list[Mapping[str, Any]] = topology.get("edges", [])
    if predicate is None:
        return Selection(list(edges), frozenset(nodes))
    kept = []
    for edge in edges:
        health = thresholds.of_edge(edge)
        ctx = EdgeContext(edge, nodes.get(edge["source"], {}), nodes.get(edge["target"], {}), health)
        if predicate(ctx):
            kept.append(edge)
    return Selection(kept, frozenset(n for e in kept for n in (e["source"], e["target"])))
