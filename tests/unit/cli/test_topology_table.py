from observe.cli import build_parser
from observe.cli.topology import format_table
from observe.model.ids import GraphType
from observe.model.topology import build_topology
from observe.model.wire import topology_to_wire
from observe.sources.istio_queries import parse_rates
from tests.unit.bookinfo_samples import bookinfo_rates


def test_table_lists_every_edge_with_numbers() -> None:
    wire = topology_to_wire(build_topology(GraphType.VERSIONED_APP, parse_rates(bookinfo_rates()), [],
                                           as_of=1.0, window_s=60))  # fmt: skip
    wire["missing"] = [{"source": "prometheus", "error": "percentiles: timeout after 5s"}]
    wire["edges"][0]["trace"] = {"count": 41, "p99_ms": 71.44}
    table = format_table(dict(wire))
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["SOURCE", "DESTINATION", "RPS"]
    v2 = next(line for line in lines if "bookinfo/reviews/v2" in line)
    assert "3.00" in v2 and "80.00%" in v2 and "failing" in v2
    assert any("UO=0.5" in line for line in lines)
    assert "8 nodes, 7 edges, window 60s" in table
    assert "TRACE P99" in lines[0] and "71.4 (n=41)" in lines[1]
    assert "missing: prometheus: percentiles: timeout after 5s" in table


def test_serve_flags_parse() -> None:
    args = build_parser().parse_args(["serve", "--prometheus-url", "http://p:9090", "--port", "9999"])
    assert (args.prometheus_url, args.port, args.window) == ("http://p:9090", 9999, None)
