"""The broker tests' fixture: one uniquely named corner of each shared broker per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.brokers.brokers import BROKERS, Broker, require


@pytest.fixture(params=sorted(BROKERS))
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[Broker]:
    require(request.param)
    made = BROKERS[request.param]()
    yield made
    await made.cleanup()
