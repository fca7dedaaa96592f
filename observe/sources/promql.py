"""Pure PromQL builders. Every value placed in a query goes through these escapes; none is pasted raw.

String literals follow PromQL's Go-style escaping (backslash, double quote and control characters);
regex matchers are RE2-quoted first and then string-escaped, so a value only ever matches itself.
Label names and durations are checked against their grammars before a query is built.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from observe.model.durations import format_duration

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_SIMPLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# RE2 metacharacters; RE2 accepts a backslash before any punctuation.
_RE2_META = re.compile(r"([\\.+*?()|\[\]{}^$])")


def quote(value: str) -> str:
    """A PromQL double-quoted string literal holding exactly `value`."""
    out = []
    for ch in value:
        if ch in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def regex_literal(value: str) -> str:
    """RE2 pattern matching exactly `value` (PromQL anchors regex matchers itself)."""
    return _RE2_META.sub(r"\\\1", value)


def label_name(name: str) -> str:
    if not _LABEL_NAME.match(name):
        raise ValueError(f"invalid label name {name!r}")
    return name


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    op: str
    value: str

    def render(self) -> str:
        if self.op in ("=", "!="):
            return f"{label_name(self.name)}{self.op}{quote(self.value)}"
        if self.op in ("=~", "!~"):
            raise ValueError("use one_of() to build regex matchers from literal values")
        raise ValueError(f"invalid matcher operator {self.op!r}")


@dataclass(frozen=True, slots=True)
class OneOf:
    """`name=~"a|b"` built from literal values, each RE2-quoted."""

    name: str
    values: tuple[str, ...]

    def render(self) -> str:
        pattern = "|".join(regex_literal(v) for v in self.values)
        return f"{label_name(self.name)}=~{quote(pattern)}"


@dataclass(frozen=True, slots=True)
class Suffix:
    """`name=~".*suffix"` (or `!~` with `exclude`) built from a literal suffix."""

    name: str
    suffix: str
    exclude: bool = False

    def render(self) -> str:
        return f"{label_name(self.name)}{'!~' if self.exclude else '=~'}{quote('.*' + regex_literal(self.suffix))}"


AnyMatcher = Matcher | OneOf | Suffix


def eq(name: str, value: str) -> Matcher:
    return Matcher(name, "=", value)


def selector(metric: str, matchers: Iterable[AnyMatcher]) -> str:
    if not _METRIC_NAME.match(metric):
        raise ValueError(f"invalid metric name {metric!r}")
    return metric + "{" + ",".join(m.render() for m in matchers) + "}"


def by_clause(labels: Sequence[str]) -> str:
    return "by (" + ", ".join(label_name(name) for name in labels) + ")"


def sum_rate(metric: str, matchers: Iterable[AnyMatcher], by: Sequence[str], window_s: float) -> str:
    return f"sum {by_clause(by)} (rate({selector(metric, matchers)}[{format_duration(window_s)}]))"


def quantiles_union(quantiles: Sequence[float], inner: str, label: str = "quantile") -> str:
    """One query answering several histogram_quantiles of the same bucket expression.

    Each branch is tagged with a `quantile` label so the union (`or`) keeps all of them.
    """
    branches = [
        f'label_replace(histogram_quantile({q:g}, {inner}), {quote(label_name(label))}, {quote(f"{q:g}")}, "", "")'
        for q in quantiles
    ]
    return " or ".join(branches)
