"""The topology query plan over Istio's standard metrics (DESIGN §3), and parsing of its answers.

Per refresh, mesh-wide (never per namespace), grouped by the few labels the graph type needs:
  rates:     sum by (edge, reporter, code, flags) (rate(istio_requests_total{reporter="destination"}[W]))
             or the same with reporter="source", destination_workload="unknown" — requests that reached no
             workload (UH, UF, UO, NR …) are only known to the caller's sidecar; one query, one timestamp.
  quantiles: histogram_quantile(q, sum by (le, edge) (rate(…_bucket{reporter="destination"}[W]))) for
             q in 0.5/0.95/0.99, unioned into one query; run on a slower cadence than the rates.
So a refresh costs one or two queries whatever the number of namespaces; namespace selection is applied to
the answer, which lets every viewer of any namespace set share one query set. When observe's recording rules
exist (deploy/prometheus), live views read them instead of raw series for whole-minute windows: same shape,
far fewer series. A topology view asks for either answer `keyed`: each series' labels joined into one
(label_join), which Prometheus writes in a third of the bytes (15.3 → 5.5 MB at 10,000 edges) and we decode
in about half the time; the heads below read both forms.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from observe.model.durations import format_duration
from observe.model.ids import UNKNOWN, GraphType, NodeKey, NodeKind
from observe.model.samples import (
    EdgeLabels,
    LatencyQuantile,
    QuantileHead,
    RateHead,
    Reporter,
    RequestRate,
    Rows,
    VectorSample,
    Workload,
    quantiles_from_rows,
    rates_from_rows,
)
from observe.sources.promql import AnyMatcher, OneOf, Suffix, by_clause, eq, quantiles_union, selector, sum_rate

Matchers = Sequence[AnyMatcher]

REQUESTS = "istio_requests_total"
DURATION_BUCKETS = "istio_request_duration_milliseconds_bucket"
QUANTILES = (0.5, 0.95, 0.99)
# observe's recording rules (deploy/prometheus/observe-rules.yaml): pre-aggregated 1m rates without the pod
# labels, so a refresh reads one series per edge and code instead of one per pod.
RULE_REQUESTS = "observe:istio_requests:rate1m"
RULE_BUCKETS = "observe:istio_request_duration_milliseconds_bucket:rate1m"
RULE_WINDOW_S = 60.0

_FINE = (
    "source_workload_namespace", "source_workload", "source_canonical_service", "source_canonical_revision",
    "destination_workload_namespace", "destination_workload", "destination_canonical_service",
    "destination_canonical_revision", "destination_service", "request_protocol",
)  # fmt: skip
_APP = tuple(label for label in _FINE if not label.endswith("_revision"))
_SERVICE = (
    "source_workload_namespace", "source_workload", "source_canonical_service",
    "destination_workload_namespace", "destination_workload", "destination_service", "request_protocol",
)  # fmt: skip
EDGE_LABELS: dict[GraphType, tuple[str, ...]] = {
    GraphType.VERSIONED_APP: _FINE,
    GraphType.WORKLOAD: _FINE,
    GraphType.APP: _APP,
    GraphType.SERVICE: _SERVICE,
}
# connection_security_policy (mutual_tls | none | unknown): one label with at most three values per edge.
RESPONSE_LABELS = ("reporter", "response_code", "response_flags", "connection_security_policy")
# Envoy appends this to the host of a mirrored request; Istio reports the copy at the destination only.
SHADOW_SUFFIX = "-shadow"
NOT_SHADOW = Suffix("destination_service", SHADOW_SUFFIX, exclude=True)
SHADOW = Suffix("destination_service", SHADOW_SUFFIX)
# Percentiles must come from the merged histogram of each edge, so they group by the labels that make node
# identity and nothing else (a workload label would split an app edge into one histogram per workload).
IDENTITY_LABELS: dict[GraphType, tuple[str, ...]] = {
    GraphType.VERSIONED_APP: (
        "source_workload_namespace", "source_canonical_service", "source_canonical_revision",
        "destination_workload_namespace", "destination_canonical_service", "destination_canonical_revision",
    ),
    GraphType.APP: (
        "source_workload_namespace", "source_canonical_service",
        "destination_workload_namespace", "destination_canonical_service",
    ),
    GraphType.WORKLOAD: (
        "source_workload_namespace", "source_workload", "destination_workload_namespace", "destination_workload",
    ),
    GraphType.SERVICE: (
        "source_workload_namespace", "source_canonical_service", "destination_workload_namespace",
        "destination_service",
    ),
}  # fmt: skip


def rules_usable(window_s: float) -> bool:
    """The recording rules hold 1m rates: they answer windows of a whole number of minutes."""
    return window_s >= RULE_WINDOW_S and window_s % RULE_WINDOW_S == 0


def _rate(metric: str, rule: str, matchers: Matchers, by: Sequence[str], window_s: float, rules: bool) -> str:
    """sum by (…) of the per-second rate over the window, from raw counters or from a 1m recording rule.

    From the rule: a 1m window is the rule itself; a longer one averages the rule's 1m rates over it, which
    equals the rate over the window for a steady evaluation cadence (Istio's federation practice).
    """
    if not (rules and rules_usable(window_s)):
        return sum_rate(metric, matchers, by, window_s)
    series = selector(rule, matchers)
    if window_s > RULE_WINDOW_S:
        series = f"avg_over_time({series}[{format_duration(window_s)}])"
    return f"sum {by_clause(by)} ({series})"


def rates_query(graph: GraphType, window_s: float, matchers: Matchers = (), rules: bool = False) -> str:
    """`matchers` narrow both branches (one edge or one node's traffic); none for the whole mesh.
    `rules`: read observe's recording rules (deploy/prometheus) instead of raw series when the window allows."""
    by = EDGE_LABELS[graph] + RESPONSE_LABELS
    served = _rate(REQUESTS, RULE_REQUESTS, [eq("reporter", "destination"), *matchers], by, window_s, rules)
    unreached_matchers = [eq("reporter", "source"), eq("destination_workload", "unknown"), *matchers]
    unreached = _rate(REQUESTS, RULE_REQUESTS, unreached_matchers, by, window_s, rules)
    return f"{served} or {unreached}"


def quantiles_query(
    graph: GraphType, window_s: float, matchers: Matchers = (), by: Sequence[str] | None = None,
    rules: bool = False,
) -> str:  # fmt: skip
    """Percentiles of the merged histogram of each group (`by`, default: each edge of the graph), without
    mirrored copies: their latency is not what users saw."""
    labels = ("le", *(IDENTITY_LABELS[graph] if by is None else by))
    matchers = [eq("reporter", "destination"), NOT_SHADOW, *matchers]
    return quantiles_union(QUANTILES, _rate(DURATION_BUCKETS, RULE_BUCKETS, matchers, labels, window_s, rules))


# A keyed answer's one label: the values of these labels, in this order, joined by KEY_SEPARATOR (one order
# for every graph type and both queries: a label a query does not group by is empty). Istio's label values are
# Kubernetes names and label values, hosts, HTTP codes and Envoy flags, which hold no '|'; a series whose
# values do anyway cannot be split back (UNKEYABLE), and its view is then asked plainly (services.refresh).
KEY_LABEL = "observe_key"
KEY_SEPARATOR = "|"


class Unkeyable:
    """The head of a keyed series whose key does not split into its labels."""

    __slots__ = ()


UNKEYABLE = Unkeyable()
_KEY_ORDER = (*_FINE[:8], "destination_service", "request_protocol", *RESPONSE_LABELS)


def keyed(query: str, keep: Sequence[str] = ()) -> str:
    """`query`'s series with their labels joined into KEY_LABEL (and `keep` as they are): one series each."""
    names = ", ".join(f'"{label}"' for label in _KEY_ORDER)
    joined = f'label_join({query}, "{KEY_LABEL}", "{KEY_SEPARATOR}", {names})'
    return f"sum by ({', '.join((KEY_LABEL, *keep))}) ({joined})"


def keyed_labels(labels: dict[str, str], keep: Sequence[str] = ()) -> dict[str, str]:
    """The labels of a `keyed` query's series: what Prometheus answers for a series with these labels."""
    key = KEY_SEPARATOR.join(labels.get(label, "") for label in _KEY_ORDER)
    return {KEY_LABEL: key, **{label: labels[label] for label in keep if label in labels}}


def _unkeyed(labels: dict[str, str]) -> dict[str, str] | None:
    """A keyed series' labels as the plain query has them (an empty value is an absent label, as Prometheus
    leaves it out); None for a key that does not split into them."""
    key = labels.get(KEY_LABEL)
    if key is None:
        return labels
    values = key.split(KEY_SEPARATOR)
    if len(values) != len(_KEY_ORDER):
        return None
    plain = {name: value for name, value in zip(_KEY_ORDER, values, strict=True) if value}
    return {**{k: v for k, v in labels.items() if k != KEY_LABEL}, **plain}


def _fqdn(key: NodeKey) -> str:
    # Service nodes of in-cluster services are named by their short name; other hosts keep their full name.
    return key.service if "." in key.service else f"{key.service}.{key.namespace}.svc.cluster.local"


def node_matchers(key: NodeKey, side: str) -> list[AnyMatcher]:
    """Label matchers selecting the requests whose `side` ('source' or 'destination') is this node."""
    if key.kind is NodeKind.UNKNOWN:
        return [eq(f"{side}_workload", UNKNOWN)]
    if key.kind is NodeKind.SERVICE and side == "destination":
        return [eq("destination_service", _fqdn(key))]
    out: list[AnyMatcher] = [eq(f"{side}_workload_namespace", key.namespace)]
    if key.kind is NodeKind.WORKLOAD:
        return [*out, eq(f"{side}_workload", key.workload)]
    out.append(eq(f"{side}_canonical_service", key.app or key.service))
    if key.version == UNKNOWN:
        out.append(OneOf(f"{side}_canonical_revision", (UNKNOWN, "")))
    elif key.version:
        out.append(eq(f"{side}_canonical_revision", key.version))
    return out


def destination_identity(graph: GraphType) -> tuple[str, ...]:
    return tuple(label for label in IDENTITY_LABELS[graph] if label.startswith("destination_"))


_SIDE_LABELS = {
    prefix: (f"{prefix}_workload_namespace", f"{prefix}_workload", f"{prefix}_canonical_service",
             f"{prefix}_canonical_revision")
    for prefix in ("source", "destination")
}  # fmt: skip
# Every label edge_labels reads, in one tuple: `map(labels.get, …)` reads them all at C speed.
_EDGE_KEYS = (
    *_SIDE_LABELS["source"], *_SIDE_LABELS["destination"], "destination_service", "request_protocol",
    "connection_security_policy",
)  # fmt: skip


@functools.lru_cache(maxsize=131_072)
def _workload(namespace: str, workload: str, app: str, version: str) -> Workload:
    """Interned: every response code and quantile of an edge repeats the same two sides."""
    return Workload(namespace, workload, app, version)


@functools.lru_cache(maxsize=131_072)
def _edge(values: tuple[str | None, ...]) -> EdgeLabels:
    """Interned per label values (None: label absent): a mesh has few edges and many samples per edge, so
    parsing a sample is one cache hit, and the model can memoise per edge object."""
    s = [v or "" for v in values]
    service, mirror = s[8], s[8].endswith(SHADOW_SUFFIX)
    return EdgeLabels(
        source=_workload(*s[0:4]), destination=_workload(*s[4:8]),
        destination_service=service[: -len(SHADOW_SUFFIX)] if mirror else service, protocol=s[9] or "http",
        security=s[10], mirror=mirror,
    )  # fmt: skip


def forget_interned() -> None:
    """Empty the interning caches (benchmarks measure a first parse with it)."""
    _edge.cache_clear()
    _workload.cache_clear()


def edge_labels(labels: dict[str, str]) -> EdgeLabels:
    return _edge(tuple(map(labels.get, _EDGE_KEYS)))


_REPORTERS = {"source": Reporter.SOURCE}


def rate_head(labels: dict[str, str]) -> RateHead | Unkeyable:
    """A rates sample's RequestRate fields but its value (MetricsSource.query_parsed memoises it per series)."""
    plain = _unkeyed(labels)
    if plain is None:
        return UNKEYABLE
    return (
        edge_labels(plain), _REPORTERS.get(plain.get("reporter", ""), Reporter.DESTINATION),
        plain.get("response_code", "0"), plain.get("response_flags", "-"),
    )  # fmt: skip


def quantile_head(labels: dict[str, str]) -> QuantileHead | Unkeyable | None:
    plain = _unkeyed(labels)
    if plain is None:
        return UNKEYABLE
    quantile = plain.get("quantile")
    return None if quantile is None else (edge_labels(plain), float(quantile))


def parse_rates(samples: list[VectorSample]) -> list[RequestRate]:
    """The typed samples of a plain answer (a keyed series that does not split is left out)."""
    kept = [(head, s.value) for s in samples if isinstance(head := rate_head(s.labels), tuple)]
    return rates_from_rows(Rows([head for head, _ in kept], [value for _, value in kept]))


def parse_quantiles(samples: list[VectorSample]) -> list[LatencyQuantile]:
    kept = [(head, s.value) for s in samples if isinstance(head := quantile_head(s.labels), tuple)]
    return quantiles_from_rows(Rows([head for head, _ in kept], [value for _, value in kept]))
