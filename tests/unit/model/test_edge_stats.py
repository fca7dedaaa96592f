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
    """One sample takes a shorter path; beside a twin valued 0 it takes the general one, and adds nothing."""
    [one] = parse_rates([sample])
    twin = one._replace(rps=0.0)
    percentiles = {0.99: Percentile.estimate(12.0)}
    assert fold_rates([one]) == fold_rates([one, twin])
    assert fold_rates([one], percentiles) == fold_rates([twin, one], percentiles)
    # a flag repeated in one sample is one request carrying it, counted once
    assert fold_rates([one]).flags == ({"UO": 0.5, "URX": 0.5} if sample.labels["response_flags"] != "-" else {})
