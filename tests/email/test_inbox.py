"""GET /projects/{id}/email/inbox: newest first, filters, cursors, long-polls."""

from __future__ import annotations

import asyncio
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from tests.conftest import Service
from tests.service import assert_error
from tests.service import deliver
from tests.service import hosted
from tests.service import listening
from tests.service import message
from tests.service import new_alias
from tests.service import send

FIELDS = {
    "id",
    "received_at",
    "from",
    "to",
    "subject",
    "size",
    "has_attachments",
    "unread",
    "codes",
    "links",
    "parse_error",
}
INBOX = "/projects/acme/email/inbox"


async def inbox(service: Service, **params: Any) -> list[dict[str, Any]]:
    r = await service.http.get(INBOX, params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["messages"])


async def subjects(service: Service, **params: Any) -> list[str]:
    return [m["subject"] for m in await inbox(service, **params)]


async def test_newest_first_with_exact_fields(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    alias = await new_alias(service, "acme", label="signup")
    raw = message(alias, subject="first", sender="Shop <noreply@shop.example>")
    first = await deliver(service, "acme", [alias, "agent@acme.test"], raw)
    second = await deliver(service, "acme", alias, message(alias, subject="second"))
    r = await service.http.get(INBOX)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"messages", "next"}
    assert body["next"] is None
    assert [m["id"] for m in body["messages"]] == [second["id"], first["id"]]
    entry = body["messages"][1]
    assert set(entry) == FIELDS
    assert entry["from"] == "Shop <noreply@shop.example>"
    assert entry["to"] == [alias, "agent@acme.test"]
    assert entry["subject"] == "first"
    assert entry["size"] == len(raw)
    assert entry["has_attachments"] is False
    assert entry["unread"] is True
    assert entry["parse_error"] is False
    assert isinstance(entry["codes"], list) and isinstance(entry["links"], list)
    received = datetime.fromisoformat(entry["received_at"])
    assert abs(received - datetime.now(UTC)) < timedelta(minutes=1)


async def test_pages_and_cursors(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    ids = []
    for n in range(5):
        ids.append((await deliver(service, "acme", "agent@acme.test", subj(n)))["id"])
    newest_first = ids[::-1]

    r = await service.http.get(INBOX, params={"limit": 2})
    page1 = r.json()
    assert [m["id"] for m in page1["messages"]] == newest_first[:2]
    assert page1["next"] == newest_first[1]
    r = await service.http.get(INBOX, params={"limit": 2, "before": page1["next"]})
    page2 = r.json()
    assert [m["id"] for m in page2["messages"]] == newest_first[2:4]
    r = await service.http.get(INBOX, params={"limit": 2, "before": page2["next"]})
    page3 = r.json()
    assert [m["id"] for m in page3["messages"]] == newest_first[4:]
    assert page3["next"] is None

    after = [m["id"] for m in await inbox(service, after=ids[2])]
    assert after == [ids[4], ids[3]]
    assert await inbox(service, after=ids[4]) == []
    assert [m["id"] for m in await inbox(service, after=ids[0].lower())] == newest_first[:4]
    window = await inbox(service, after=ids[0], before=ids[3])
    assert [m["id"] for m in window] == [ids[2], ids[1]]


def subj(n: int) -> bytes:
    return message("agent@acme.test", subject=f"message {n}")


async def test_bad_cursors_and_limits(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    for params in (
        {"before": "nope"},
        {"after": "nope"},
        {"before": "U" * 26},
        {"after": "8" + "0" * 25},
        {"before": "0" * 27},
        {"after": "' OR 1=1 --"},
        {"limit": 501},
        {"limit": 0},
        {"limit": -1},
        {"limit": "many"},
        {"wait": 301},
        {"wait": -1},
        {"wait": "soon"},
        {"wait": "nan"},
        {"wait": "inf"},
        {"since": "yesterday"},
        {"since": "2030-01-01T00:00:00"},
        {"unread": "perhaps"},
        {"to": "not an address"},
        {"subject": "x" * 501},
    ):
        r = await service.http.get(INBOX, params=params)
        assert_error(r, 422, "validation_failed")
    assert (await service.http.get(INBOX, params={"limit": 500})).status_code == 200


async def test_to_filter(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    one = await new_alias(service, "acme", label="one")
    two = await new_alias(service, "acme", label="two")
    await deliver(service, "acme", one, message(one, subject="to one"))
    await deliver(service, "acme", two, message(two, subject="to two"))
    # Envelope to agent@, headers name the outside address and (Cc) alias one.
    raw = message(
        "Someone <someone@elsewhere.example>",
        subject="headers only",
        extra_headers=f"Cc: Alias One <{one}>\r\n",
    )
    await deliver(service, "acme", "agent@acme.test", raw)

    # to= is the envelope: the addresses agentid accepted each message for.
    assert await subjects(service, to=two) == ["to two"]
    assert await subjects(service, to=two.upper()) == ["to two"]
    assert await subjects(service, to=one) == ["to one"]
    assert await subjects(service, to="someone@elsewhere.example") == []
    assert await subjects(service, to="agent@acme.test") == ["headers only"]
    assert await subjects(service, to="nobody@acme.test") == []
    # header_to= is what the sender wrote in To and Cc.
    assert await subjects(service, header_to=one) == ["headers only", "to one"]
    assert await subjects(service, header_to="SOMEONE@elsewhere.example") == ["headers only"]
    assert await subjects(service, header_to="agent@acme.test") == []


async def test_from_subject_since_unread_filters(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    rcpt = "agent@acme.test"
    await deliver(
        service, "acme", rcpt, message(rcpt, "100% off today", sender="Shop <a@shop.example>")
    )
    await deliver(
        service,
        "acme",
        rcpt,
        message(rcpt, "100 percent OFF", sender="b@bank.example"),
        mail_from="b@bank.example",
    )
    await deliver(service, "acme", rcpt, message(rcpt, "key_value", sender="c@shop.example"))
    last = await deliver(
        service, "acme", rcpt, message(rcpt, "keyXvalue"), mail_from="bounce-7@mailer.example"
    )

    assert await subjects(service, subject="100%") == ["100% off today"]
    assert await subjects(service, subject="off") == ["100 percent OFF", "100% off today"]
    assert await subjects(service, subject="KEY_") == ["key_value"]
    assert await subjects(service, subject="%") == ["100% off today"]
    assert await subjects(service, subject="_") == ["key_value"]
    assert await subjects(service, subject="' OR '1'='1") == []

    assert await subjects(service, **{"from": "SHOP.example"}) == [
        "keyXvalue",
        "key_value",
        "100% off today",
    ]
    assert await subjects(service, **{"from": "bank"}) == ["100 percent OFF"]
    # The envelope sender counts too.
    assert await subjects(service, **{"from": "bounce-7@"}) == ["keyXvalue"]
    assert await subjects(service, **{"from": "%"}) == []

    received = datetime.fromisoformat(last["received_at"])
    assert await subjects(service, since=received.isoformat()) == ["keyXvalue"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert await subjects(service, since=future) == []
    assert len(await inbox(service, since="2000-01-01T00:00:00Z")) == 4

    r = await service.http.patch(
        f"/projects/acme/email/messages/{last['id']}", json={"unread": False}
    )
    assert r.status_code == 200, r.text
    assert "keyXvalue" not in await subjects(service, unread="true")
    assert len(await inbox(service, unread="true")) == 3
    assert await subjects(service, unread="false") == ["keyXvalue"]
    assert await subjects(service, subject="value", limit=1) == ["keyXvalue"]


async def test_wait_returns_when_a_matching_message_arrives(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    wanted = await new_alias(service, "acme", label="wanted")
    other = await new_alias(service, "acme", label="other")
    waiter = asyncio.create_task(service.http.get(INBOX, params={"to": wanted, "wait": 20}))
    await listening(service, "acme")

    # A message for someone else is stored, but the wait goes on.
    await deliver(service, "acme", other, message(other, subject="not this one"))
    await asyncio.sleep(0)
    assert not waiter.done()

    await send(service, wanted, message(wanted, subject="this one"))
    r = await asyncio.wait_for(waiter, 15)
    assert r.status_code == 200, r.text
    assert [m["subject"] for m in r.json()["messages"]] == ["this one"]


async def test_wait_on_filters_matching_the_envelope_sender(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    waiter = asyncio.create_task(
        service.http.get(INBOX, params={"from": "bounce-42@mailer", "wait": 10})
    )
    await listening(service, "acme")
    # From another sender first: it must neither end the wait nor be in the answer.
    await send(service, "agent@acme.test", message("agent@acme.test", subject="other sender"))
    raw = message("agent@acme.test", subject="from the mailer", sender="Shop <x@shop.example>")
    started = asyncio.get_running_loop().time()
    await send(service, "agent@acme.test", raw, mail_from="bounce-42@mailer.example")
    r = await asyncio.wait_for(waiter, 15)
    assert [m["subject"] for m in r.json()["messages"]] == ["from the mailer"]
    assert asyncio.get_running_loop().time() - started < 5


async def test_wait_times_out_empty(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    await deliver(service, "acme", "agent@acme.test")
    started = asyncio.get_running_loop().time()
    r = await service.http.get(INBOX, params={"to": "nobody@acme.test", "wait": 1})
    elapsed = asyncio.get_running_loop().time() - started
    assert r.status_code == 200, r.text
    assert r.json() == {"messages": [], "next": None}
    assert 0.9 <= elapsed < 5


async def test_wait_after_cursor(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    old = await deliver(service, "acme", "agent@acme.test", subj(1))
    waiter = asyncio.create_task(service.http.get(INBOX, params={"after": old["id"], "wait": 20}))
    await listening(service, "acme")
    await send(service, "agent@acme.test", subj(2))
    r = await asyncio.wait_for(waiter, 15)
    assert [m["subject"] for m in r.json()["messages"]] == ["message 2"]


async def test_inbox_of_missing_project(service: Service) -> None:
    assert_error(await service.http.get("/projects/ghost/email/inbox"), 404, "not_found")


async def test_long_poll_answer_equals_the_listing(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    waiter = asyncio.create_task(service.http.get(INBOX, params={"wait": 20}))
    await listening(service, "acme")
    raw = message(
        "agent@acme.test",
        subject="Your code",
        body="Your verification code is 482913",
        extra_headers="Cc: other@acme.test\r\n",
    )
    await send(service, ["agent@acme.test", "other@acme.test"], raw)
    waited = (await asyncio.wait_for(waiter, 15)).json()
    listed = (await service.http.get(INBOX)).json()
    assert waited == listed
    assert set(waited["messages"][0]) == FIELDS

    # A message that cannot be parsed is flagged the same way in both answers.
    newest = listed["messages"][0]["id"]
    waiter = asyncio.create_task(service.http.get(INBOX, params={"wait": 20, "after": newest}))
    await listening(service, "acme")
    await send(service, "agent@acme.test", b"no headers here at all\r\njust text\r\n")
    waited = (await asyncio.wait_for(waiter, 15)).json()
    listed = (await service.http.get(INBOX, params={"after": newest})).json()
    assert waited == listed
    assert waited["messages"][0]["parse_error"] is True
