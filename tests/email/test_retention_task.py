"""The retention task runs by itself: an old message goes without anyone asking."""

from __future__ import annotations

import asyncio
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from agentid.email.inbound.spool import Arrival
from agentid.email.inbound.spool import batch_of
from agentid.email.inbound.spool_writer import write_batch
from agentid.ids import new_id
from agentid.store.db import create_sync_engine
from agentid.store.tables import Message
from tests.conftest import Service
from tests.service import deliver
from tests.service import hosted
from tests.service import message


@pytest.fixture
def overrides() -> dict[str, Any]:
    return {"retention_interval_seconds": 0.2}


async def test_background_purge(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    fresh = await deliver(service, "acme", "agent@acme.test", message("agent@acme.test"))
    old = Arrival(
        "s@example.org",
        {"acme": ["agent@acme.test"]},
        b"Subject: old\r\n\r\nold\r\n",
        None,
        None,
        datetime.now(UTC) - timedelta(days=31),  # the default retention is 30 days
    )
    old.message_ids["acme"] = old_id = new_id()
    engine = create_sync_engine(service.running.settings)
    try:
        await asyncio.to_thread(write_batch, engine, batch_of([old]))
    finally:
        engine.dispose()

    async def left() -> set[str]:
        async with service.running.runtime.sessions() as session:
            return set((await session.scalars(select(Message.id))).all())

    deadline = asyncio.get_running_loop().time() + 10
    while old_id in await left():  # no event marks a purge: poll the store
        assert asyncio.get_running_loop().time() < deadline, "the old message was not purged"
        await asyncio.sleep(0.1)
    assert fresh["id"] in await left()
