"""The PostgreSQL event bus (``store/bus.py``) on the test server: signals reach the other
buses on the same channel and only those, large ones are split, and a bus whose connection
is cut comes back and makes every listener look again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from agentid.events import Kind
from agentid.events import Signal
from agentid.health import Health
from agentid.store.bus import PART
from agentid.store.bus import PgBus
from agentid.store.bus import asyncpg_dsn
from agentid.store.engines import engine_for_url
from agentid.store.notices import MAX_PAYLOAD
from agentid.store.notices import channel_for
from agentid.store.notices import decode
from agentid.store.notices import encode
from tests.conftest import PG_URL
from tests.conftest import require_backend


@pytest.fixture
def postgresql() -> None:
    require_backend("postgresql")


@pytest_asyncio.fixture
async def buses(postgresql: None) -> AsyncIterator[list[PgBus]]:
    channel = channel_for("t_bus_" + str(id(object())))
    made = [PgBus(PG_URL, channel, Health()) for _ in range(2)]
    for bus in made:
        await bus.start()
    yield made
    for bus in made:
        bus.close()
        await bus.stop()


def test_a_signal_survives_the_trip() -> None:
    signal = Signal("acme", Kind.MESSAGE_RECEIVED, 42, ("a@acme.test", "b@acme.test"))
    (payload,) = encode("me", signal)
    assert decode(payload) == ("me", signal)
    assert decode("not json") is None
    assert decode('{"o": "x", "p": "acme", "k": "no.such.kind"}') is None


def test_many_addresses_are_split_under_the_payload_limit() -> None:
    keys = tuple(f"{'x' * 60}{n}@acme.test" for n in range(400))
    payloads = encode("me", Signal("acme", Kind.MESSAGE_RECEIVED, 7, keys))
    assert len(payloads) > 1
    assert all(len(p.encode()) <= MAX_PAYLOAD for p in payloads)
    carried = [k for p in payloads if (d := decode(p)) for k in d[1].keys]
    assert tuple(carried) == keys


def test_channels_are_per_schema_and_fit() -> None:
    assert channel_for(None) == "agentid"
    assert channel_for("a") != channel_for("b")
    assert len(channel_for("s" * 63)) <= 63
    assert asyncpg_dsn("postgresql+asyncpg://u@h/db") == "postgresql://u@h/db"


async def test_a_listener_on_one_bus_hears_the_other(buses: list[PgBus]) -> None:
    one, other = buses
    async with other.listen("acme", [Kind.MESSAGE_RECEIVED], ["a@acme.test"]) as listener:
        one.publish(Signal("acme", Kind.MESSAGE_RECEIVED, 1, ("b@acme.test",)))
        assert not await listener.wait(0.3)  # another address: not woken
        one.publish(Signal("acme", Kind.MESSAGE_RECEIVED, 2, ("a@acme.test",)))
        assert await listener.wait(2)
    assert other.heard == 2 and one.heard == 0  # nobody hears itself over the wire


async def test_subscribers_hear_other_processes_once(buses: list[PgBus]) -> None:
    one, other = buses
    heard: list[Signal] = []
    got = asyncio.Event()

    def hear(signal: Signal) -> None:
        heard.append(signal)
        got.set()

    other.subscribe(Kind.ROUTES_CHANGED, hear)
    one.publish(Signal("", Kind.ROUTES_CHANGED))
    await asyncio.wait_for(got.wait(), 2)
    assert heard == [Signal("", Kind.ROUTES_CHANGED)]


async def test_a_helper_transaction_tells_the_others_at_its_commit(buses: list[PgBus]) -> None:
    """A parse worker's NOTIFY, sent in its own transaction under its server's origin:
    heard by the other processes once that transaction commits (never if it rolls back),
    and not by its own server, which delivers the signal itself."""
    one, other = buses
    engine = engine_for_url("postgresql+psycopg://" + PG_URL.partition("://")[2], None)
    stored = Signal("acme", Kind.MESSAGE_RECEIVED, 5, ("a@acme.test",))
    try:
        async with (
            other.listen("acme", [Kind.MESSAGE_RECEIVED]) as theirs,
            one.listen("acme", [Kind.MESSAGE_RECEIVED]) as ours,
        ):

            def rolled_back() -> None:
                with engine.connect() as conn:
                    one.notifier.send(conn, [stored])
                    conn.rollback()

            await asyncio.to_thread(rolled_back)
            assert not await theirs.wait(0.3)

            def committed() -> None:
                with engine.begin() as conn:
                    one.notifier.send(conn, [stored])

            await asyncio.to_thread(committed)
            assert await theirs.wait(2)
            assert not await ours.wait(0.3)  # its own origin: the server delivers it itself
            one.deliver(stored)
            assert await ours.wait(0)
            assert not await theirs.wait(0.3)  # deliver is for this process's listeners only
        assert (one.heard, other.heard) == (0, 1)
    finally:
        engine.dispose()


async def test_another_channel_hears_nothing(postgresql: None) -> None:
    here = PgBus(PG_URL, channel_for("t_bus_here"), Health())
    there = PgBus(PG_URL, channel_for("t_bus_there"), Health())
    await here.start()
    await there.start()
    try:
        async with there.listen("acme", [Kind.MESSAGE_RECEIVED]) as listener:
            here.publish(Signal("acme", Kind.MESSAGE_RECEIVED, 1))
            assert not await listener.wait(0.5)
    finally:
        for bus in (here, there):
            await bus.stop()


async def test_a_cut_connection_comes_back_and_everyone_looks_again(buses: list[PgBus]) -> None:
    one, other = buses
    health = other._health
    async with other.listen("acme", [Kind.CODE_FOUND]) as listener:
        conn = await asyncpg.connect(asyncpg_dsn(PG_URL))
        try:
            assert await conn.fetchval("SELECT pg_terminate_backend($1)", other.server_pid)
        finally:
            await conn.close()
        assert await listener.wait(5)  # woken by the reconnect: it may have missed something
        assert PART not in health.down()
        one.publish(Signal("acme", Kind.CODE_FOUND, 3))
        assert await listener.wait(2)  # and it hears the others again
