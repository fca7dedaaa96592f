import re

import pytest

from observe.sources.promql import (
    Matcher,
    OneOf,
    eq,
    quantiles_union,
    quote,
    regex_literal,
    selector,
    sum_rate,
)


@pytest.mark.parametrize(("value", "literal"), [
    ("plain", '"plain"'),
    ('say "hi"', r'"say \"hi\""'),
    ("back\\slash", r'"back\\slash"'),
    ("line\nbreak\ttab\rcr", r'"line\nbreak\ttab\rcr"'),
    ("bell\x07", r'"bell\x07"'),
    ('x"} or vector(1) or up{a="', r'"x\"} or vector(1) or up{a=\""'),
])  # fmt: skip
def test_quote_escapes_go_style(value: str, literal: str) -> None:
    assert quote(value) == literal


def test_quoted_value_cannot_close_the_selector() -> None:
    rendered = selector("up", [eq("job", 'x"} or vector(1) or up{a="')])
    # exactly one unescaped closing quote-brace: the end of the selector
    assert len(re.findall(r'(?<!\\)"}', rendered)) == 1
    assert rendered.endswith('"}')


def test_regex_literal_escapes_metacharacters() -> None:
    assert regex_literal("a.b|c*") == r"a\.b\|c\*"
    assert re.fullmatch(regex_literal("reviews-v1.(x)"), "reviews-v1.(x)")
    assert not re.fullmatch(regex_literal("a.c"), "abc")
    assert OneOf("app", ("a.b", "c")).render() == r'app=~"a\\.b|c"'


def test_label_names_and_operators_are_checked() -> None:
    with pytest.raises(ValueError):
        eq("bad-name", "x").render()
    with pytest.raises(ValueError):
        Matcher("a", "=~", "x").render()
    with pytest.raises(ValueError):
        selector("bad metric", [])


def test_sum_rate_and_union() -> None:
    q = sum_rate("istio_requests_total", [eq("reporter", "destination")], ("a", "b"), 300)
    assert q == 'sum by (a, b) (rate(istio_requests_total{reporter="destination"}[5m]))'
    union = quantiles_union((0.5, 0.99), "X")
    assert union == ('label_replace(histogram_quantile(0.5, X), "quantile", "0.5", "", "") or '
                     'label_replace(histogram_quantile(0.99, X), "quantile", "0.99", "", "")')  # fmt: skip
