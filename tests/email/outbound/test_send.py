"""Sending through a real SMTP relay on loopback: what arrives, signed; retries, refusals
and suppressions; local delivery to hosted addresses; replies; idempotency."""

from __future__ import annotations

import base64
import email
import json
import logging
import threading
from email import policy
from typing import Any

import dkim
import pytest
from sqlalchemy import select

from agentid.email.outbound.repository import Due
from agentid.email.outbound.repository import OutboxRepository
from agentid.email.outbound.schemas import OutboundOut
from agentid.email.outbound.sender import OutboxSender
from agentid.email.outbound.sender import Result
from agentid.providers.registry import Transports
from agentid.store.tables import EventRow
from agentid.times import utcnow
from tests.conftest import PG_URL
from tests.conftest import TESTS_APP
from tests.conftest import Service
from tests.providers.sink import Received
from tests.providers.sink import Sink
from tests.service import assert_error
from tests.service import deliver
from tests.service import eventually
from tests.service import hosted
from tests.service import inbox
from tests.service import message
from tests.service import read_events

SEND = "/projects/acme/email/send"
OUTBOX = "/projects/acme/email/outbox"


@pytest.fixture
def overrides(sink: Sink) -> dict[str, Any]:
    return {"relay_url": f"smtp://127.0.0.1:{sink.port}", "send_retry_seconds": 0.05}


async def acme(service: Service) -> dict[str, Any]:
    """acme on acme.test, provisioned: its DNS records hold the DKIM key."""
    return await hosted(service, "acme", "acme.test")


def dkim_txt(provisioned: dict[str, Any]) -> bytes:
    (record,) = [r for r in provisioned["dns_records"] if "_domainkey" in r["name"]]
    return str(record["value"]).encode()


def verifies(data: bytes, txt: bytes) -> bool:
    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"agentid._domainkey.acme.test."
        return txt

    return bool(dkim.verify(data, dnsfunc=dnsfunc))


async def sent(service: Service, mid: str, final: tuple[str, ...] = ("sent",)) -> dict[str, Any]:
    """The outbox's view of ``mid`` once its status is one of ``final``."""
    seen: dict[str, Any] = {}

    async def settled() -> bool:
        r = await service.http.get(f"/projects/acme/email/messages/{mid}")
        assert r.status_code == 200, r.text
        seen.update(r.json())
        return seen["status"] in final

    await eventually(settled, f"{mid} is {'/'.join(final)}")
    return seen


async def queue(service: Service, status: str = "queued", **body: Any) -> str:
    r = await service.http.post(SEND, json={"subject": "Hi", "text": "Hello there.", **body})
    assert r.status_code == 202, r.text
    assert r.json()["status"] == status
    return str(r.json()["id"])


def parsed(got: Received) -> email.message.EmailMessage:
    msg = email.message_from_bytes(got.data, policy=policy.default)
    assert isinstance(msg, email.message.EmailMessage)
    return msg


async def test_relayed_signed_and_recorded(service: Service, sink: Sink) -> None:
    txt = dkim_txt(await acme(service))
    mid = await queue(
        service,
        to=["Bob@Vendor.example"],
        cc=["c@vendor.example"],
        bcc=["hidden@vendor.example"],
        html="<p>Hello <b>there</b></p>",
    )
    out = await sent(service, mid)
    (got,) = sink.received
    assert got.sender == "agent@acme.test"
    assert sorted(got.recipients) == [
        "bob@vendor.example",
        "c@vendor.example",
        "hidden@vendor.example",
    ]
    msg = parsed(got)
    assert msg["From"] == "agent@acme.test" and msg["Subject"] == "Hi"
    assert "Bcc" not in msg and b"hidden@" not in got.data  # the envelope only
    assert msg.get_body(("plain",)).get_content().strip() == "Hello there."  # type: ignore[union-attr]
    assert "<b>there</b>" in msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert verifies(got.data, txt)
    assert not verifies(got.data.replace(b"Hello there.", b"Hello thers."), txt)
    assert out["direction"] == "outbound" and out["message_id_header"] == msg["Message-ID"]
    assert {r["status"] for r in out["recipients"]} == {"sent"}
    assert {r["provider_message_id"] for r in out["recipients"]} == {"4Xk9ZQ1"}
    listed = (await service.http.get(OUTBOX)).json()["messages"]
    assert [m["id"] for m in listed] == [mid] and listed[0]["status"] == "sent"
    assert (await inbox(service, "acme")) == []  # the inbox lists inbound mail only


async def test_hosted_recipients_are_delivered_locally(service: Service, sink: Sink) -> None:
    await acme(service)
    await hosted(service, "other", "other.test")
    mid = await queue(service, to=["someone@other.test", "far@vendor.example"])
    out = await sent(service, mid)
    routes = {r["address"]: r["route"] for r in out["recipients"]}
    assert routes == {"someone@other.test": "local", "far@vendor.example": "relay"}
    (got,) = sink.received
    assert got.recipients == ["far@vendor.example"]
    (entry,) = await inbox(service, "other")  # stored before the outbox said "sent"
    assert entry["subject"] == "Hi" and entry["to"] == ["someone@other.test"]


async def test_a_transient_refusal_is_retried(service: Service, sink: Sink) -> None:
    await acme(service)
    sink.data_script = ["451 4.3.0 try again later"]
    mid = await queue(service, to=["bob@vendor.example"])
    out = await sent(service, mid)
    assert out["recipients"][0]["attempts"] == 2 and len(sink.received) == 1


async def test_a_refused_mailbox_fails_and_is_suppressed(service: Service, sink: Sink) -> None:
    await acme(service)
    sink.rcpt_replies["gone@vendor.example"] = "550 5.1.1 no such user"
    mid = await queue(service, to=["gone@vendor.example", "ok@vendor.example"])
    out = await sent(service, mid, ("partial",))
    by = {r["address"]: r for r in out["recipients"]}
    assert by["gone@vendor.example"]["status"] == "failed"
    assert "5.1.1" in by["gone@vendor.example"]["error"]
    assert by["ok@vendor.example"]["status"] == "sent"
    listed = (await service.http.get("/projects/acme/email/suppressions")).json()
    assert [s["address"] for s in listed["suppressions"]] == ["gone@vendor.example"]
    again = await queue(service, "failed", to=["Gone@vendor.example"])  # settled at once
    out = await sent(service, again, ("failed",))
    assert out["recipients"][0]["status"] == "suppressed"
    assert "5.1.1" in out["recipients"][0]["error"]
    r = await service.http.delete("/projects/acme/email/suppressions/gone@vendor.example")
    assert r.status_code == 204
    assert_error(
        await service.http.delete("/projects/acme/email/suppressions/gone@vendor.example"), 404
    )
    third = await queue(service, to=["gone@vendor.example"])
    out = await sent(service, third, ("failed",))
    assert out["recipients"][0]["status"] == "failed"  # tried again: the relay refused it


async def test_a_reply_threads_and_says_re(service: Service, sink: Sink) -> None:
    await acme(service)
    raw = message(
        "agent@acme.test",
        subject="Your order",
        extra_headers=("Message-ID: <order-1@shop.example>\r\nReferences: <root@shop.example>\r\n"),
    )
    entry = await deliver(service, "acme", "agent@acme.test", raw)
    mid = await queue(service, to=["noreply@shop.example"], subject="", in_reply_to=entry["id"])
    await sent(service, mid)
    msg = parsed(sink.received[0])
    assert msg["In-Reply-To"] == "<order-1@shop.example>"
    assert msg["References"] == "<root@shop.example> <order-1@shop.example>"
    assert msg["Subject"] == "Re: Your order"
    r = await service.http.post(
        SEND, json={"to": ["a@b.example"], "text": "x", "in_reply_to": "01HZZZZZZZZZZZZZZZZZZZZZZZ"}
    )
    assert_error(r, 404)


async def test_attachments_arrive(service: Service, sink: Sink) -> None:
    await acme(service)
    data = bytes(range(256)) * 10
    mid = await queue(
        service,
        to=["bob@vendor.example"],
        attachments=[
            {
                "filename": "report.pdf",
                "content_type": "application/pdf",
                "content_base64": base64.b64encode(data).decode(),
            }
        ],
    )
    await sent(service, mid)
    (part,) = list(parsed(sink.received[0]).iter_attachments())
    assert part.get_filename() == "report.pdf" and part.get_content() == data


async def test_idempotency_key_sends_once(service: Service, sink: Sink) -> None:
    await acme(service)
    first = await queue(service, to=["bob@vendor.example"], idempotency_key="k-1")
    r = await service.http.post(
        SEND,
        json={"subject": "Hi", "text": "Hello there.", "to": ["bob@vendor.example"]},
        headers={"Idempotency-Key": "k-1"},
    )
    assert r.status_code == 202 and r.json()["id"] == first
    r = await service.http.post(
        SEND,
        json={
            "subject": "Other",
            "text": "x",
            "to": ["bob@vendor.example"],
            "idempotency_key": "k-1",
        },
    )
    assert_error(r, 409, "conflict")
    await sent(service, first)
    assert len(sink.received) == 1


async def test_settled_messages_are_events(service: Service, sink: Sink) -> None:
    await acme(service)
    ok = await queue(service, to=["bob@vendor.example"])
    await sent(service, ok)
    sink.data_reply = "554 5.7.1 refused by policy"
    refused = await queue(service, to=["carol@vendor.example"])
    out = await sent(service, refused, ("failed",))
    assert "554" in out["recipients"][0]["error"]
    assert (await service.http.get("/projects/acme/email/suppressions")).json() == {
        "suppressions": []
    }  # refused as a message, not as a mailbox: not suppressed
    events = await read_events(service, 2, headers={"Last-Event-ID": "0"})
    assert [(e["event"], json.loads(e["data"])["id"]) for e in events] == [
        ("message.sent", ok),
        ("message.failed", refused),
    ]
    for e in events:
        OutboundOut.model_validate_json(e["data"])


async def test_one_refused_recipient_is_judged_by_its_reply(service: Service, sink: Sink) -> None:
    await acme(service)
    sink.rcpt_replies["gone@vendor.example"] = "550 5.1.1 no such user"
    gone = await queue(service, to=["gone@vendor.example"])
    assert (await sent(service, gone, ("failed",)))["recipients"][0]["status"] == "failed"
    sink.rcpt_replies["spam@vendor.example"] = "550 5.7.1 message refused as spam"
    spam = await queue(service, to=["spam@vendor.example"])
    await sent(service, spam, ("failed",))
    listed = (await service.http.get("/projects/acme/email/suppressions")).json()
    assert [s["address"] for s in listed["suppressions"]] == ["gone@vendor.example"]


async def test_a_large_message_is_guarded_and_sent(service: Service, sink: Sink) -> None:
    """Composing and guarding megabytes of text run in a thread, off the event loop (a
    test of the loop's latency would be one of timing): the message still goes out whole,
    and a received code at its very end is still refused."""
    await acme(service)
    await deliver(
        service, "acme", "agent@acme.test", message("agent@acme.test", body="code 482913")
    )
    text = "Lorem ipsum dolor sit amet.\n" * 100_000  # 2.8 MB
    html = f"<pre>{text}</pre>\n"
    r = await service.http.post(SEND, json={"to": ["bob@vendor.example"], "text": text + "482913"})
    assert_error(r, 422, "contains_received_code")
    mid = await queue(service, to=["bob@vendor.example"], text=text, html=html)
    await sent(service, mid)
    msg = parsed(sink.received[0])
    for subtype, content in (("plain", text), ("html", html)):
        got = msg.get_body((subtype,)).get_content()  # type: ignore[union-attr]
        assert got.replace("\r\n", "\n") == content  # lines end CRLF on the wire


async def first_attempt_held(service: Service, sink: Sink, caplog: pytest.LogCaptureFixture) -> str:
    """A message to one recipient whose first attempt waits at the relay (until
    ``first_answer_back``): its id."""
    caplog.set_level(logging.INFO, logger="agentid.outbox")
    await acme(service)
    sink.held = threading.Event()
    mid = await queue(service, to=["far@vendor.example"])
    await sent(service, mid, ("sending",))
    return mid


async def first_answer_back(sink: Sink, caplog: pytest.LogCaptureFixture) -> None:
    """The relay lets the held attempt through, and its answer is recorded (or not)."""
    assert sink.held is not None
    sink.held.set()
    await eventually(
        lambda: any(r.getMessage() == "outbox recipient sent" for r in caplog.records),
        "the first attempt's answer came back",
    )


async def test_a_late_result_is_not_written_over_a_newer_claim(
    service: Service, sink: Sink, caplog: pytest.LogCaptureFixture
) -> None:
    """A process that takes the outbox over (the one sending lost its leader lock) queues
    again what was being sent and claims it anew. The first sender's answer, coming back
    after that, is not written over the newer claim: it wrote its status and attempts over
    them before."""
    mid = await first_attempt_held(service, sink, caplog)
    async with service.running.runtime.sessions() as session:
        repo = OutboxRepository(session)
        assert await repo.restart_interrupted(utcnow()) == 1
        (again,) = await repo.claim_due(utcnow(), 10)
        await session.commit()
    assert again.attempts == {"far@vendor.example": 2}
    await first_answer_back(sink, caplog)
    assert len(sink.received) == 1
    (recipient,) = (await sent(service, mid, ("sending",)))["recipients"]
    assert (recipient["status"], recipient["attempts"]) == ("sending", 2)


async def test_a_late_result_is_not_written_over_a_claim_after_a_retry(
    service: Service, sink: Sink, caplog: pytest.LogCaptureFixture
) -> None:
    """The first attempt waits at the relay while another process takes the outbox over,
    the recipient fails there and is retried: a new round whose first claim is attempt 1
    again. The first attempt's answer, coming back after that, answers an older claim and
    is not written over the new one (it was, when results were fenced by ``attempts``)."""
    mid = await first_attempt_held(service, sink, caplog)
    async with service.running.runtime.sessions() as session:
        repo = OutboxRepository(session)
        assert await repo.restart_interrupted(utcnow()) == 1
        (taken,) = await repo.claim_due(utcnow(), 10)
        failed = {"status": "failed", "error": "550 refused", "updated_at": utcnow()}
        await repo.record_all(
            [{"outbound_id": mid, "address": "far@vendor.example", "claimed": 2, **failed}]
        )
        assert await repo.retry_failed("acme", mid, utcnow()) == 1
        (again,) = await repo.claim_due(utcnow(), 10)
        await session.commit()
    assert (taken.claims, again.attempts) == ({"far@vendor.example": 2}, {"far@vendor.example": 1})
    assert again.claims == {"far@vendor.example": 3}
    await first_answer_back(sink, caplog)
    (recipient,) = (await sent(service, mid, ("sending",)))["recipients"]
    assert (recipient["status"], recipient["attempts"]) == ("sending", 1)


async def test_results_are_recorded_when_the_store_drops_its_connections(
    backend: str, service: Service, sink: Sink, caplog: pytest.LogCaptureFixture
) -> None:
    """The relay took the message; then the database dropped every connection of the
    service (a failover, a restart of PostgreSQL). Recording the result failed once, and
    the recipient stayed ``sending`` until another process took the outbox over. A write
    that fails in a way that may pass is tried again now, on a new connection."""
    if backend != "postgresql":
        pytest.skip("dropping a service's connections needs PostgreSQL's pg_terminate_backend")
    caplog.set_level(logging.INFO, logger="agentid.outbox")
    await acme(service)
    sink.held = threading.Event()  # the relay holds DATA while the connections go
    mid = await queue(service, to=["far@vendor.example"])
    await sent(service, mid, ("sending",))
    import asyncpg

    mine = await asyncpg.connect(PG_URL, server_settings={"application_name": TESTS_APP})
    try:  # every connection of the service's pool; not the leader's (advisory locks)
        dropped = await mine.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND backend_type = 'client backend'"
            " AND application_name <> $1"
            " AND pid NOT IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory')",
            TESTS_APP,
        )
    finally:
        await mine.close()
    assert dropped, "the service had connections to drop"
    sink.held.set()

    await eventually(  # nothing else asks the store first: the outbox meets the dead pool
        lambda: any(r.getMessage() == "outbox recipient sent" for r in caplog.records),
        "the result is recorded",
    )
    assert len(sink.received) == 1

    async def shown() -> bool:
        r = await service.http.get(f"/projects/acme/email/messages/{mid}")
        return r.status_code == 200 and r.json()["status"] == "sent"  # 503 while it reconnects

    await eventually(shown, "the message is sent")


async def test_results_written_again_tell_no_event_again(service: Service, sink: Sink) -> None:
    """A round's results written a second time (the first commit went through but its
    answer was lost with the connection): the message had ended already, so no second
    ``message.sent`` is told (nor posted to webhooks)."""
    await acme(service)
    mid = await queue(service, to=["far@vendor.example"])
    await sent(service, mid)
    rt, inbound = service.running.runtime, service.running.inbound
    outbox = OutboxSender(rt, Transports(), inbound.router, inbound.spool)
    one = {"far@vendor.example": 1}
    due = Due(mid, "acme", "relay", ("far@vendor.example",), one, one)
    await outbox._record([(due, {"far@vendor.example": Result("sent")})])
    async with rt.sessions() as session:
        told = await session.scalars(
            select(EventRow.kind).where(EventRow.ref_id == mid).order_by(EventRow.seq)
        )
        assert list(told) == ["message.sent"]
