import gc
from collections.abc import Iterator

import pytest

from observe.cli.serve import tune_gc


@pytest.fixture
def thresholds() -> Iterator[None]:
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)


@pytest.mark.usefixtures("thresholds")
def test_the_server_collects_cycles_less_often_but_still_collects_them() -> None:
    gc.set_threshold(700, 10, 10)
    tune_gc()
    young, middle, _ = gc.get_threshold()
    assert 10_000 <= young <= 50_000  # bursts of ~10^5 objects: tens of collections, not hundreds
    assert young * middle <= 200_000  # gen 1 (the survivors) kept small: its collection is one pause
    assert gc.isenabled()
