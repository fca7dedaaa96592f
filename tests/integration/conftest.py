from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from observe.demo.mesh import Fault, MeshConfig
from tests.integration.stack import Stack

RULES = Path(__file__).parents[2] / "deploy" / "prometheus" / "observe-rules.yaml"
RPS = 30.0
WINDOW = "40s"
WINDOW_S = 40.0
REVIEWS_V2_ERRORS = 0.2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """One demo stack for the session: 30 rps into productpage, 20% HTTP 500 from reviews-v2 from the start,
    observe's recording rules loaded, warmed up until a full rate window of data exists."""
    config = MeshConfig(rps=RPS, seed=7, faults={"reviews-v2": Fault(error_ratio=REVIEWS_V2_ERRORS)})
    running = Stack(config, rule_files=(str(RULES),)).start()
    try:
        time.sleep(WINDOW_S + 4)  # a full window of scrapes (2 s interval) after the load started
        yield running
    finally:
        running.stop()
