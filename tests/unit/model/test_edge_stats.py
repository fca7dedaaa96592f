import pytest

from observe.model.edge_stats import Percentile, fold_rates
from observe.model.samples import VectorSample
from observe.sources.istio_queries import parse_rates
from tests.unit.bookinfo_samples import PRODUCTPAGE_SRC, REVIEWS, REVIEWS_SVC, UNREACHED_REVIEWS, rate


@pytest.mark.parametrize("sample", [
    rate(PRODUCTPAGE_SRC, REVIEWS["v2"], REVIEWS_SVC, "200", 3.0),
    rate(PRODUCTPAGE_SRC, UNREACHED_REVIEWS, REVIEWS_SVC, "503", 0.5, reporter="source", flags="UO,URX,UO"),
])  # fmt: skip
def test_one_sample_folds_as_the_general_path_does(sample: VectorSample) -> None:
    """A list of one sample takes a shorter path; an iterator of the same sample takes the general one."""
    [one] = parse_rates([sample])
    percentiles = {0.99: Percentile.estimate(12.0)}
    assert fold_rates([one]) == fold_rates(iter([one]))
    assert fold_rates([one], percentiles) == fold_rates(iter([one]), percentiles)
    assert fold_rates([one]).flags == ({"UO": 1.0, "URX": 0.5} if sample.labels["response_flags"] != "-" else {})
