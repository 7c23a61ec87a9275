"""Threads by Message-ID only: a received message, our reply, their answer to our reply
are one conversation; a stranger's "Re:" with the same subject is not."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Service
from tests.providers.sink import Sink
from tests.service import assert_error
from tests.service import deliver
from tests.service import eventually
from tests.service import hosted
from tests.service import message


@pytest.fixture
def overrides(sink: Sink) -> dict[str, Any]:
    return {"relay_url": f"smtp://127.0.0.1:{sink.port}"}


async def test_a_conversation_both_ways(service: Service, sink: Sink) -> None:
    await hosted(service, "acme", "acme.test")
    first = await deliver(
        service,
        "acme",
        "agent@acme.test",
        message(
            "agent@acme.test", subject="Quote", extra_headers="Message-ID: <q1@vendor.example>\r\n"
        ),
    )
    r = await service.http.post(
        "/projects/acme/email/send",
        json={"to": ["sales@vendor.example"], "text": "Yes please.", "in_reply_to": first["id"]},
    )
    assert r.status_code == 202, r.text
    reply = r.json()["id"]

    async def relayed() -> bool:
        return len(sink.received) == 1

    await eventually(relayed, "the reply reached the relay")
    ours = (await service.http.get(f"/projects/acme/email/messages/{reply}")).json()
    answer = await deliver(
        service,
        "acme",
        "agent@acme.test",
        message(
            "agent@acme.test",
            subject="Re: Re: Quote",
            extra_headers=(
                "Message-ID: <q3@vendor.example>\r\n"
                f"In-Reply-To: {ours['message_id_header']}\r\n"
                f"References: <q1@vendor.example> {ours['message_id_header']}\r\n"
            ),
        ),
    )
    stranger = await deliver(
        service,
        "acme",
        "agent@acme.test",
        message(
            "agent@acme.test", subject="Re: Quote", extra_headers="Message-ID: <x@else.example>\r\n"
        ),
    )

    thread = (await service.http.get(f"/projects/acme/email/threads/{first['id']}")).json()
    assert thread["thread_id"] == first["id"]
    assert [(m["id"], m["direction"]) for m in thread["messages"]] == [
        (first["id"], "inbound"),
        (reply, "outbound"),
        (answer["id"], "inbound"),
    ]
    assert ours["thread_id"] == first["id"]
    got = (await service.http.get(f"/projects/acme/email/messages/{answer['id']}")).json()
    assert got["thread_id"] == first["id"]
    alone = (await service.http.get(f"/projects/acme/email/messages/{stranger['id']}")).json()
    assert alone["thread_id"] == stranger["id"]

    listed = (await service.http.get("/projects/acme/email/threads")).json()
    assert [(t["thread_id"], t["messages"]) for t in listed["threads"]] == [
        (stranger["id"], 1),
        (first["id"], 3),
    ]
    page = (await service.http.get("/projects/acme/email/threads", params={"limit": 1})).json()
    assert [t["thread_id"] for t in page["threads"]] == [stranger["id"]]
    rest = await service.http.get("/projects/acme/email/threads", params={"before": page["next"]})
    assert [t["thread_id"] for t in rest.json()["threads"]] == [first["id"]]


async def test_unknown_and_malformed_thread_ids(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    assert_error(
        await service.http.get("/projects/acme/email/threads/01HZZZZZZZZZZZZZZZZZZZZZZZ"), 404
    )
    assert_error(await service.http.get("/projects/acme/email/threads/not-an-id"), 404)
    assert_error(
        await service.http.get("/projects/acme/email/threads", params={"before": "x"}), 422
    )
