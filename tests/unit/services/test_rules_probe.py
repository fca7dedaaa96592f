from dataclasses import dataclass, field

from observe.errors import SourceUnavailable
from observe.model.samples import RangeSeries, VectorSample
from observe.services.rules import RulesProbe


@dataclass
class RuleSource:
    """A MetricsSource fake that knows whether the recording rules exist, and counts the checks."""

    present: bool = True
    down: bool = False
    queries: list[str] = field(default_factory=list)
    name: str = "prometheus"

    async def query(self, promql: str, at: float, timeout_s: float) -> list[VectorSample]:
        self.queries.append(promql)
        if self.down:
            raise SourceUnavailable(self.name, "down")
        return [VectorSample({}, 42.0)] if self.present else []

    async def query_range(self, promql: str, start: float, end: float, step_s: float,
                          timeout_s: float) -> list[RangeSeries]:  # fmt: skip
        return []

    async def ready(self, timeout_s: float) -> bool:
        return True

    async def close(self) -> None:
        return None


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_auto_checks_once_per_ttl_and_only_for_whole_minutes() -> None:
    source, clock = RuleSource(), Clock()
    probe = RulesProbe(source, "auto", clock=clock, ttl_s=300)  # type: ignore[arg-type]
    assert await probe.use_rules(60) and await probe.use_rules(300)
    assert not await probe.use_rules(30)
    assert len(source.queries) == 2  # count() of both rules, once
    source.present = False
    clock.now += 301
    assert not await probe.use_rules(60)


async def test_a_failed_check_means_raw_series_and_is_retried_sooner() -> None:
    source, clock = RuleSource(down=True), Clock()
    probe = RulesProbe(source, "auto", clock=clock, ttl_s=300, retry_s=30)  # type: ignore[arg-type]
    assert not await probe.use_rules(60)
    source.down = False
    clock.now += 31
    assert await probe.use_rules(60)


async def test_on_and_off_do_not_ask() -> None:
    source = RuleSource(present=False)
    assert await RulesProbe(source, "on").use_rules(60)  # type: ignore[arg-type]
    assert not await RulesProbe(source, "off").use_rules(60)  # type: ignore[arg-type]
    assert source.queries == []
