"""Fixtures for the web page tests that read many pages of one well-stocked project: one
agentid per module and backend (with the module's ``OVERRIDES``), the SMTP sink its relay
account points at, the webhook receiver, and the stocked project (tests/web/stock.py).
The other tests of this directory start an agentid each (tests/conftest.py's
``service``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Iterator

import pytest
import pytest_asyncio

from tests.conftest import Service
from tests.providers.sink import Sink
from tests.providers.sink import running_sink
from tests.web.stock import RELAY_PASSWORD
from tests.web.stock import RELAY_USER
from tests.web.stock import Stocked
from tests.web.stock import stock
from tests.webhooks.receiver import Receiver
from tests.webhooks.receiver import receiving


@pytest.fixture(scope="module")
def sink() -> Iterator[Sink]:
    with running_sink(user=RELAY_USER, password=RELAY_PASSWORD) as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stocked(
    shared: Service, sink: Sink, receiver: Receiver, tmp_path_factory: pytest.TempPathFactory
) -> Stocked:
    return await stock(shared, sink, receiver, tmp_path_factory.mktemp("nsd"))
