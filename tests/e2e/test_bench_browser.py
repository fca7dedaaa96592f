"""The benchmarks' browser session, tiny (make test), so it cannot rot: figures, never a time limit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from benchmarks import run

pytestmark = pytest.mark.e2e


def test_the_browser_session_measures_the_real_ui_and_writes_its_rows(tmp_path: Path) -> None:
    # a thread of its own: other tests' Playwright (its sync API) keeps an event loop running on this one
    with ThreadPoolExecutor(1) as pool:
        figures = pool.submit(run.main, ["--quick", "--only", "browser", "--out", str(tmp_path)]).result()["browser"]
    assert (figures["nodes"], figures["edges"]) == (30, 60)
    assert figures["elements"] == 1 + 30 + 60  # one namespace box, every node and edge drawn
    assert 0 < figures["filtered_elements_bytes"] < figures["elements_bytes"]
    rows = [line for line in (tmp_path / "RESULTS.md").read_text().splitlines() if line.startswith("| browser")]
    assert len(rows) == 3 and rows[0].endswith("| ≤ 2 MB | met |")
