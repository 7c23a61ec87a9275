"""A message the parse worker cannot store is shown flagged, with its envelope, not hidden."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from agentid.email.inbound.digested import mark_undigestible
from agentid.email.inbound.spool import Arrival, batch_of
from agentid.email.inbound.spool_writer import write_batch
from agentid.ids import new_id
from agentid.store.db import create_sync_engine
from tests.conftest import Service


async def test_flagged_with_its_envelope(service: Service) -> None:
    http = service.http
    assert (await http.post("/projects", json={"id": "acme", "domain": "acme.test"})).is_success
    assert (await http.post("/projects/acme/email/provision")).is_success
    raw = b"Subject: cannot be stored\r\n\r\nbody\r\n"
    arrival = Arrival(
        "s@example.org", {"acme": ["x@acme.test"]}, raw, None, None, datetime.now(UTC)
    )
    arrival.message_ids["acme"] = mid = new_id()
    engine = create_sync_engine(service.running.settings)
    try:
        # Committed as the spool does, but never handed to the parse worker.
        await asyncio.to_thread(write_batch, engine, batch_of([arrival]))
        inbox = (await http.get("/projects/acme/email/inbox")).json()["messages"]
        assert inbox == []  # received, not yet digested: not shown
        flagged = await asyncio.to_thread(mark_undigestible, engine, mid, "could not be digested")
        assert [d.entry["id"] for d in flagged] == [mid]
        again = await asyncio.to_thread(mark_undigestible, engine, mid, "twice")
        assert again == []  # only messages still waiting are flagged
    finally:
        engine.dispose()
    inbox = (await http.get("/projects/acme/email/inbox")).json()["messages"]
    assert [(m["id"], m["parse_error"], m["size"], m["to"]) for m in inbox] == [
        (mid, True, len(raw), ["x@acme.test"])
    ]
    detail = (await http.get(f"/projects/acme/email/messages/{mid}")).json()
    assert detail["status"] == "parse_error"
    assert detail["parse_error"] == "could not be digested"
    assert (await http.get(f"/projects/acme/email/messages/{mid}/raw")).content == raw
