"""A message the parse worker cannot store is shown flagged, with its envelope, not hidden."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any
from typing import TypeVar

from agentid.email.inbound.digested import mark_undigestible
from agentid.email.inbound.spool import Arrival
from agentid.email.inbound.spool import batch_of
from agentid.email.inbound.spool_writer import write_batch
from agentid.ids import new_id
from agentid.store.db import create_sync_engine
from tests.conftest import Service
from tests.conftest import start_service

T = TypeVar("T")


async def commit_unparsed(service: Service, raw: bytes) -> str:
    """A project ``acme`` with ``raw`` committed as the spool does, but never handed to
    the parse worker; the message id. The running service owns it (``claims``), so it
    stays undigested until a test digests or flags it, or the service restarts."""
    http = service.http
    assert (await http.post("/projects", json={"id": "acme", "domain": "acme.test"})).is_success
    assert (await http.post("/projects/acme/email/provision")).is_success
    arrival = Arrival(
        "s@example.org", {"acme": ["x@acme.test"]}, raw, None, None, datetime.now(UTC)
    )
    arrival.message_ids["acme"] = mid = new_id()
    owner = service.running.runtime.leader.node
    await in_store(service, write_batch, batch_of([arrival], owner))
    return mid


async def in_store(service: Service, fn: Callable[..., T], *args: Any) -> T:
    """``fn(engine, *args)`` in a thread, on a blocking engine of the service's store."""
    engine = create_sync_engine(service.running.settings)
    try:
        return await asyncio.to_thread(fn, engine, *args)
    finally:
        engine.dispose()


async def test_flagged_with_its_envelope(service: Service) -> None:
    http = service.http
    raw = b"Subject: cannot be stored\r\n\r\nbody\r\n"
    mid = await commit_unparsed(service, raw)
    inbox = (await http.get("/projects/acme/email/inbox")).json()["messages"]
    assert inbox == []  # received, not yet digested: not shown
    flagged = await in_store(service, mark_undigestible, mid, "could not be digested")
    assert [d.message_id for d in flagged] == [mid]
    again = await in_store(service, mark_undigestible, mid, "twice")
    assert again == []  # only messages still waiting are flagged
    inbox = (await http.get("/projects/acme/email/inbox")).json()["messages"]
    assert [(m["id"], m["parse_error"], m["size"], m["to"]) for m in inbox] == [
        (mid, True, len(raw), ["x@acme.test"])
    ]
    detail = (await http.get(f"/projects/acme/email/messages/{mid}")).json()
    assert detail["status"] == "parse_error"
    assert detail["parse_error"] == "could not be digested"
    assert (await http.get(f"/projects/acme/email/messages/{mid}/raw")).content == raw


async def test_flagged_for_a_store_error_is_digested_after_a_restart(tmp_path: Path) -> None:
    """Versions before supervised workers flagged a message when the store failed (a full
    disk); such a message is digested, codes and all, on the next start."""
    raw = b"Subject: your code\r\n\r\nYour verification code is 551903.\r\n"
    async with start_service(tmp_path / "data") as service:
        mid = await commit_unparsed(service, raw)
        error = "could not be digested: OperationalError"
        await in_store(service, mark_undigestible, mid, error)
        (entry,) = (await service.http.get("/projects/acme/email/inbox")).json()["messages"]
        assert entry["parse_error"] is True
    async with start_service(tmp_path / "data") as service:
        r = await service.http.get("/projects/acme/email/inbox", params={"wait": 10})
        (entry,) = r.json()["messages"]
        assert entry["id"] == mid and entry["parse_error"] is False
        r = await service.http.get("/projects/acme/codes")
        assert [c["value"] for c in r.json()["codes"]] == ["551903"]
