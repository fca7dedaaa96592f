"""Fixtures shared by the Kubernetes applier tests: each module gives its own `fake` API server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from observe.actions.kube import KubeApplier, KubeConfig
from tests.fakes.kube import FakeKubeAPI


@pytest.fixture
async def applier(fake: FakeKubeAPI) -> AsyncIterator[KubeApplier]:
    """A KubeApplier pointed at the module's fake API server with its token."""
    kube = KubeApplier(KubeConfig(server=fake.url, token=fake.token, origin="test"))
    yield kube
    await kube.close()
