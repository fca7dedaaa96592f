import math

import numpy as np

from observe.model.edge_columns import ColumnLayout
from observe.model.edge_stats import HealthThresholds, edge_shape
from observe.model.samples import Reporter, RequestRate
from observe.sources.istio_queries import edge_labels
from tests.unit.bookinfo_samples import PRODUCTPAGE_SRC, REVIEWS, REVIEWS_SVC, rate

EDGE = edge_labels(rate(PRODUCTPAGE_SRC, REVIEWS["v1"], REVIEWS_SVC, "200", 1.0).labels)


def _rates(*samples: tuple[str, str, float]) -> list[RequestRate]:
    return [RequestRate(EDGE, Reporter.DESTINATION, code, flags, rps) for code, flags, rps in samples]


def test_each_edges_columns_are_the_floats_its_edge_stats_fold() -> None:
    """Codes that repeat out of order, flags in several samples, an edge with no requests and one whose rate
    is not a number: the sums of each, and its shares and health as EdgeStats and HealthThresholds give them."""
    edges = [
        _rates(("200", "-", 0.1), ("503", "UF,URX", 0.2), ("200", "-", 0.7), ("0", "UF", 0.3), ("404", "-", 0.05)),
        _rates(("200", "-", 0.0)),
        _rates(("503", "UO", math.nan)),
    ]
    samples = [rate for edge in edges for rate in edge]
    shapes, offset = [], 0
    for edge in edges:
        shapes.append(edge_shape(edge, range(offset, offset + len(edge))))
        offset += len(edge)
    columns = ColumnLayout(shapes).fold(np.array([r.rps for r in samples]), [None] * len(edges))
    thresholds = HealthThresholds()
    shares = columns.shares(thresholds)
    for i, shape in enumerate(shapes):
        folded = shape.fold([r.rps for r in samples])  # the per-edge fold: the same sums (up to the order of +)
        assert math.isnan(folded.rps) or math.isclose(columns.rps[i], folded.rps)
        # EdgeStats as the plan makes it from the columns (model.topology): its shares are the columns' floats
        responses = {code: float(columns.group_sums[g]) for code, g in columns.layout.responses[i]}
        stats = folded._replace(rps=float(columns.rps[i]), responses=responses)
        expected = stats.shares()
        for name in ("error_rate_5xx", "rate_4xx", "no_response_rate", "success_rate"):
            got, want = getattr(shares, name)[i], getattr(expected, name)
            assert (want is None and math.isnan(got)) or got == want or (math.isnan(got) and math.isnan(want))
        assert shares.health[i] == stats.health(thresholds).rank
    assert columns.layout.responses[0] == (("200", 0), ("503", 1), ("0", 2), ("404", 3))  # first-seen
    assert columns.layout.flags[0] == (("UF", 0), ("URX", 1))
    assert columns.flag_sums[:2].tolist() == [0.2 + 0.3, 0.2]
