"""The comparison's PromQL escapes every caller value, and its parsers count what they should."""

from __future__ import annotations

from observe.model.samples import VectorSample
from observe.sources import compare_queries as q


def test_values_are_escaped_never_raw() -> None:
    query = q.inbound_query("bookinfo", 'x"}or{a="', 600)
    assert 'destination_canonical_service="x\\"}or{a=\\""' in query and "[10m]" in query
    assert query.startswith("sum by (destination_canonical_revision, source_workload")
    assert "increase(istio_requests_total{" in query


def test_parsers_count_errors_flags_and_buckets() -> None:
    inbound = q.parse_inbound([
        VectorSample({q.VERSION: "v1", "response_code": "200", "source_workload": "pp"}, 99.6),
        VectorSample({q.VERSION: "v1", "response_code": "503", "source_workload": "pp"}, 2.2),
        VectorSample({q.VERSION: "v1", "response_code": "0", "source_workload": "pp"}, 1.0),
    ])  # fmt: skip
    assert inbound.requests["v1"] == 103 and inbound.errors["v1"] == 3 and inbound.callers["v1"]["pp"] == 103
    flags = q.parse_rejections([VectorSample({q.VERSION: "latest", "response_flags": "UO"}, 4)])
    assert flags == {"latest": {"UO": 4}}
    buckets = q.parse_buckets([VectorSample({q.VERSION: "v1", "le": "+Inf"}, 5.0)])
    assert buckets["v1"] == {float("inf"): 5.0}
