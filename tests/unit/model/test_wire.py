import math
import random

import pytest

from observe.model.wire import _round


@pytest.mark.parametrize("digits", [3, 4, 5])
def test_wire_rounding_is_pythons_round(digits: int) -> None:
    """The scaled rounding gives the very floats round(value, digits) gives (their JSON is the same text)."""
    rng = random.Random(7)
    values = [rng.random() * 10 ** rng.randint(-4, 6) * rng.choice((1, -1)) for _ in range(50_000)]
    values += [0.0, 1.0, 0.5, 2.675, 1e-9]
    assert [_round(v, digits) for v in values] == [round(v, digits) for v in values]


def test_a_value_an_ulp_from_halfway_may_differ_in_the_last_digit_only() -> None:
    value = 123456.78915  # stored as 123456.789149999…: round() goes down, the scaled product lands on .5
    assert round(value, 4) == 123456.7891
    assert _round(value, 4) == pytest.approx(round(value, 4), abs=1.01e-4)


def test_what_json_cannot_hold_is_null() -> None:
    assert [_round(v, 4) for v in (None, math.nan, math.inf, -math.inf)] == [None] * 4
