"""The bus: a listener wakes for the kinds and addresses it names, and only for those."""

from __future__ import annotations

import asyncio

from agentid.events import Kind
from agentid.events import LocalBus
from agentid.events import Signal

RECEIVED, FOUND = Kind.MESSAGE_RECEIVED, Kind.CODE_FOUND


def received(project: str, *keys: str) -> Signal:
    return Signal(project, RECEIVED, 1, keys)


async def test_a_keyed_listener_wakes_only_for_its_addresses() -> None:
    bus = LocalBus()
    async with (
        bus.listen("acme", [RECEIVED], ["a@acme.test"]) as a,
        bus.listen("acme", [RECEIVED], ["b@acme.test"]) as b,
        bus.listen("acme", [RECEIVED]) as anywhere,
        bus.listen("beta", [RECEIVED]) as other_project,
    ):
        assert bus.listener_count("acme") == 3
        bus.publish(received("acme", "a@acme.test", "c@acme.test"))
        assert await a.wait(0) and await anywhere.wait(0)
        assert not await b.wait(0) and not await other_project.wait(0)
    assert bus.listener_count("acme") == 0 and bus._by_key == {} and bus._anywhere == {}


async def test_kinds_filter_and_many_signals_make_one_wake_up() -> None:
    bus = LocalBus()
    async with bus.listen("acme", [FOUND]) as codes:
        bus.publish(received("acme"))
        assert not await codes.wait(0)
        for seq in range(100):
            bus.publish(Signal("acme", FOUND, seq))
        assert await codes.wait(0)
        assert not await codes.wait(0)  # a flag, not a queue: nothing is left to drop


async def test_a_wait_ends_when_signalled_or_when_the_bus_closes() -> None:
    bus = LocalBus()
    async with bus.listen("acme", [RECEIVED]) as listener:
        waiting = asyncio.create_task(listener.wait(30))
        await asyncio.sleep(0)
        bus.publish(received("acme"))
        assert await asyncio.wait_for(waiting, 5)
        waiting = asyncio.create_task(listener.wait(30))
        await asyncio.sleep(0)
        bus.close()
        assert not await asyncio.wait_for(waiting, 5)
    async with bus.listen("acme", [RECEIVED]) as late:  # listening after close: ends at once
        assert not await late.wait(30)


async def test_service_wide_subscribers() -> None:
    bus = LocalBus()
    seen: list[Signal] = []
    bus.subscribe(Kind.ROUTES_CHANGED, seen.append)
    bus.publish(received("acme"))
    bus.publish(Signal("", Kind.ROUTES_CHANGED))
    assert seen == [Signal("", Kind.ROUTES_CHANGED)]
