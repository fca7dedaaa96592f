import pytest

from observe.errors import BadQuery
from observe.model.durations import format_duration, parse_duration, parse_instant


@pytest.mark.parametrize(("raw", "seconds"), [("5m", 300), ("1h30m", 5400), ("90s", 90), ("250ms", 0.25),
                                              ("1d", 86400), ("2w", 1209600)])  # fmt: skip
def test_parse_duration(raw: str, seconds: float) -> None:
    assert parse_duration(raw) == seconds


@pytest.mark.parametrize("raw", ["15x", "", "5", "-5m", "5 m", "1.5m", "m5", "5m\n"])
def test_parse_duration_rejects_with_field(raw: str) -> None:
    with pytest.raises(BadQuery) as err:
        parse_duration(raw, "window")
    assert err.value.field == "window"
    assert "expected a duration like 15m" in err.value.message or "at least" in err.value.message


def test_zero_duration_is_refused() -> None:
    with pytest.raises(BadQuery, match="at least"):
        parse_duration("0s")


@pytest.mark.parametrize(("seconds", "text"), [(300, "5m"), (90, "1m30s"), (0.25, "250ms"), (3600, "1h"),
                                               (86400 + 1, "1d1s")])  # fmt: skip
def test_format_duration_round_trips(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


def test_parse_instant_unix_and_rfc3339() -> None:
    assert parse_instant("1795414065") == 1795414065.0
    assert parse_instant("1795414065.5") == 1795414065.5
    assert parse_instant("2026-11-23T10:00:00Z") == 1795428000.0
    assert parse_instant("2026-11-23T11:00:00+01:00") == 1795428000.0


@pytest.mark.parametrize("raw", ["yesterday", "2026-11-23T10:00:00", "-5", "1e20", "nan"])
def test_parse_instant_rejects(raw: str) -> None:
    with pytest.raises(BadQuery) as err:
        parse_instant(raw)
    assert err.value.field == "at"
