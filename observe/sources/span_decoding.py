"""What every span decoder returns (OTLP protobuf, OTLP/JSON, Jaeger JSON), and how it counts rejections."""

from __future__ import annotations

from dataclasses import dataclass, field

from observe.model.spans import SpanRecord

MAX_ERRORS = 20  # distinct rejection messages kept per batch; `rejected` counts them all


@dataclass(frozen=True, slots=True)
class DecodeResult:
    spans: list[SpanRecord] = field(default_factory=list)
    rejected: int = 0
    errors: list[str] = field(default_factory=list)


class Reject(ValueError):
    """One span is unusable; the batch goes on."""


class SpanCollector:
    """Accumulates decoded spans and counts rejections."""

    def __init__(self) -> None:
        self.spans: list[SpanRecord] = []
        self.rejected = 0
        self.errors: list[str] = []

    def reject(self, reason: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_ERRORS and reason not in self.errors:
            self.errors.append(reason)

    def result(self) -> DecodeResult:
        return DecodeResult(self.spans, self.rejected, self.errors)
