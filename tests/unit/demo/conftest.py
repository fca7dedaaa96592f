"""Fixtures for the demo-mesh tests: meshes on loopback that are always stopped, and label helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from observe.demo.istio_metrics import LABEL_NAMES, IstioStats
from observe.demo.mesh import DemoMesh, MeshConfig
from observe.demo.tracing import SpanExporterFactory

MeshFactory = Callable[..., Awaitable[DemoMesh]]


@pytest.fixture
async def make_mesh() -> AsyncIterator[MeshFactory]:
    """Start a mesh (no background load unless rps is given, fixed seed); stopped at teardown."""
    meshes: list[DemoMesh] = []

    async def factory(span_exporter_factory: SpanExporterFactory | None = None, **config: object) -> DemoMesh:
        config.setdefault("rps", 0.0)
        config.setdefault("seed", 7)
        mesh = DemoMesh(MeshConfig(**config), span_exporter_factory=span_exporter_factory)  # type: ignore[arg-type]
        meshes.append(mesh)
        await mesh.start()
        return mesh

    yield factory
    for mesh in meshes:
        await mesh.stop()


def series(stats: IstioStats, **match: str) -> list[tuple[dict[str, str], int]]:
    """The counter series of one sidecar whose labels include `match`, as (labels, count)."""
    found = []
    for key, count in stats.requests().items():
        labels = dict(zip(LABEL_NAMES, key, strict=True))
        if all(labels[name] == value for name, value in match.items()):
            found.append((labels, count))
    return found


def total(stats: IstioStats, **match: str) -> int:
    return sum(count for _, count in series(stats, **match))


__all__ = ["MeshFactory", "series", "total"]
