"""DigestQueue: fair across projects, newest first, overdue first, suspects alone."""

from __future__ import annotations

import asyncio
import time

from agentid.email.inbound.schedule import WAITED_BATCH
from agentid.email.inbound.schedule import DigestQueue
from agentid.email.inbound.schedule import Item


def ids(batch: list[Item]) -> list[str]:
    return [i.message_id for i in batch]


def test_round_robin_across_projects_newest_first() -> None:
    q = DigestQueue(max_lag=60)
    for n in range(100):
        q.put(Item(f"a{n}", "alpha", 10))
    q.put(Item("b0", "beta", 10))
    batch = q.take_now(4, 1 << 20)
    assert ids(batch) == ["a99", "b0", "a98", "a97"]  # beta's one message is not behind a burst
    assert len(q) == 97


def test_overdue_messages_take_half_a_batch_oldest_first() -> None:
    q = DigestQueue(max_lag=5)
    old = time.monotonic() - 10
    for n in range(3):
        q.put(Item(f"old{n}", "alpha", 10, queued_at=old + n))
    for n in range(5):
        q.put(Item(f"new{n}", "alpha", 10))
    assert ids(q.take_now(4, 1 << 20)) == ["old0", "old1", "new4", "new3"]
    assert ids(q.take_now(10, 1 << 20)) == ["old2", "new2", "new1", "new0"]
    assert len(q) == 0 and q.take_now(10, 1 << 20) == []


def test_round_robin_across_addresses_of_one_project() -> None:
    q = DigestQueue(max_lag=60)
    for n in range(100):
        q.put(Item(f"flood{n}", "alpha", 10, "flood@alpha.test"))
    q.put(Item("waited", "alpha", 10, "signup@alpha.test"))
    for n in range(100, 200):
        q.put(Item(f"flood{n}", "alpha", 10, "flood@alpha.test"))
    assert ids(q.take_now(2, 1 << 20)) == ["flood199", "waited"]


def test_batches_bounded_by_bytes_but_never_empty() -> None:
    q = DigestQueue(max_lag=60)
    for n in range(5):
        q.put(Item(f"m{n}", "alpha", 100))
    assert len(q.take_now(10, 250)) == 3
    q2 = DigestQueue(max_lag=60)
    q2.put(Item("huge", "alpha", 10_000))
    assert ids(q2.take_now(10, 250)) == ["huge"]


def test_suspect_digested_alone_and_put_back_first() -> None:
    q = DigestQueue(max_lag=60)
    for n in range(3):
        q.put(Item(f"m{n}", "alpha", 10))
    batch = q.take_now(10, 1 << 20)
    assert ids(batch) == ["m2", "m1", "m0"]
    batch[1].suspect = True
    q.put_back(batch)
    assert ids(q.take_now(10, 1 << 20)) == ["m0"]  # stops before the suspect
    assert ids(q.take_now(10, 1 << 20)) == ["m1"]  # the suspect alone
    assert ids(q.take_now(10, 1 << 20)) == ["m2"]
    assert len(q) == 0


async def test_take_waits_and_close_wakes() -> None:
    q = DigestQueue(max_lag=60)
    taker = asyncio.create_task(q.take(10, 1 << 20))
    await asyncio.sleep(0)
    assert not taker.done()
    q.put(Item("m", "alpha", 1))
    assert ids(await asyncio.wait_for(taker, 5)) == ["m"]
    closing = asyncio.create_task(q.take(10, 1 << 20))
    await asyncio.sleep(0)
    q.close()
    assert await asyncio.wait_for(closing, 5) == []


def test_no_starvation_under_sustained_burst() -> None:
    """The oldest message of a never-ending burst is taken once it is overdue."""
    q = DigestQueue(max_lag=0.05)
    q.put(Item("first", "alpha", 1))
    deadline = time.monotonic() + 5
    seen: list[str] = []
    while "first" not in seen and time.monotonic() < deadline:
        q.put(Item(f"n{len(seen)}", "alpha", 1))
        q.put(Item(f"m{len(seen)}", "alpha", 1))
        seen += ids(q.take_now(1, 1 << 20))
        time.sleep(0.001)
    assert "first" in seen


def test_project_set_apart_goes_last_and_alone() -> None:
    q = DigestQueue(max_lag=60)
    for n in range(3):
        q.put(Item(f"hostile{n}", "alpha", 10, "a@alpha.test"))
    q.set_apart("alpha", 60)
    q.put(Item("code", "beta", 10, "b@beta.test"))
    q.put(Item("other", "gamma", 10, "c@gamma.test"))
    assert sorted(ids(q.take_now(10, 1 << 20))) == ["code", "other"]
    assert ids(q.take_now(10, 1 << 20)) == ["hostile2"]  # alone, once nobody else waits
    q.put(Item("late", "beta", 10, "b@beta.test"))
    assert ids(q.take_now(10, 1 << 20)) == ["late"]
    assert ids(q.take_now(10, 1 << 20)) == ["hostile1"]


def test_a_lone_message_cuts_its_batch_short() -> None:
    """A burst alone goes in full batches; a batch holding the only message to some
    address stops at WAITED_BATCH, so that message is stored (and published) sooner."""
    q = DigestQueue(max_lag=60)
    for n in range(200):
        q.put(Item(f"flood{n}", "alpha", 10, "flood@alpha.test"))
    assert len(q.take_now(64, 1 << 20)) == 64
    q.put(Item("waited", "alpha", 10, "signup@alpha.test"))
    batch = q.take_now(64, 1 << 20)
    assert len(batch) == WAITED_BATCH and "waited" in ids(batch)[:2]
    assert len(q.take_now(64, 1 << 20)) == 64  # the burst alone again: full batches
