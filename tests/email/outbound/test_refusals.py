"""What never leaves: bad input, another domain's From, blocked recipients, received
codes, and more than the rate or the warm-up quota allow. Nothing is queued for any."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest

from tests.conftest import Service
from tests.providers.sink import Sink
from tests.service import assert_error
from tests.service import create_project
from tests.service import deliver
from tests.service import hosted
from tests.service import message
from tests.service import new_token

SEND = "/projects/acme/email/send"
OUTBOX = "/projects/acme/email/outbox"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def overrides(sink: Sink) -> dict[str, Any]:
    return {
        "relay_url": f"smtp://127.0.0.1:{sink.port}",
        "send_rate_per_minute": 5,
        "warmup_start": 3,
        "max_send_attachment_bytes": 1000,
    }


def body(**extra: Any) -> dict[str, Any]:
    return {"to": ["bob@vendor.example"], "subject": "Hi", "text": "Hello.", **extra}


async def nothing_queued(service: Service) -> None:
    assert (await service.http.get(OUTBOX)).json()["messages"] == []


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ({"subject": "Hi\r\nBcc: victim@else.example"}, 422),
        ({"to": ["bob@vendor.example\r\nX-Evil: 1"]}, 422),
        ({"reply_to": "a@b.example\nBcc: c@d.example"}, 422),
        ({"subject": "nul\x00"}, 422),
        ({"to": ["not an address"]}, 422),
        ({"to": ["@vendor.example"]}, 422),
        ({"to": []}, 422),
        ({"text": None}, 422),
        ({"unknown_field": 1}, 422),
        ({"to": ["x@vendor.example"] * 51}, 422),
        ({"attachments": [{"filename": "a.bin", "content_base64": "!!not base64!!"}]}, 422),
        ({"attachments": [{"filename": "a\r\n.bin", "content_base64": "AAAA"}]}, 422),
        (
            {
                "attachments": [
                    {
                        "filename": "a.bin",
                        "content_type": "text/html\r\nX: y",
                        "content_base64": "AAAA",
                    }
                ]
            },
            422,
        ),
        (
            {
                "attachments": [
                    {
                        "filename": "big.bin",
                        "content_base64": base64.b64encode(b"x" * 1001).decode(),
                    }
                ]
            },
            413,
        ),
        ({"in_reply_to": "\x00"}, 404),  # was a 500 on PostgreSQL (NUL in the lookup)
        ({"in_reply_to": "not an id"}, 404),
        ({"from": "ceo@bank.example"}, 403),
        ({"from": "agent@acme.test.evil.example"}, 403),
    ],
)
async def test_bad_requests_queue_nothing(
    service: Service, extra: dict[str, Any], status: int
) -> None:
    await hosted(service, "acme", "acme.test")
    r = await service.http.post(SEND, json=body(**extra))
    assert_error(r, status)
    await nothing_queued(service)


LONE = "\ud800"  # a lone surrogate: JSON may escape one, no UTF-8 holds it
FILE = {"filename": "a.bin", "content_base64": "AAAA"}


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"from": f"agent{LONE}@acme.test"}, id="from"),
        pytest.param({"to": [f"bob{LONE}@vendor.example"]}, id="to"),
        pytest.param({"cc": [LONE]}, id="cc"),
        pytest.param({"bcc": [LONE]}, id="bcc"),
        pytest.param({"reply_to": LONE}, id="reply_to"),
        pytest.param({"subject": LONE}, id="subject"),
        pytest.param({"text": LONE}, id="text"),
        pytest.param({"html": LONE}, id="html"),
        pytest.param({"in_reply_to": LONE}, id="in_reply_to"),
        pytest.param({"idempotency_key": LONE}, id="idempotency_key"),
        pytest.param({"attachments": [{**FILE, "filename": LONE}]}, id="filename"),
        pytest.param({"attachments": [{**FILE, "content_type": LONE}]}, id="content_type"),
        pytest.param({"attachments": [{**FILE, "content_base64": LONE}]}, id="content_base64"),
    ],
)
async def test_a_lone_surrogate_anywhere_is_refused(
    service: Service, extra: dict[str, Any]
) -> None:
    """Every string of the request is hashed before it is stored: one that UTF-8 cannot
    hold was a 500 there (text, html, addresses and attachment content were unchecked)."""
    await hosted(service, "acme", "acme.test")
    r = await service.http.post(SEND, content=json.dumps(body(**extra)), headers=JSON)
    assert_error(r, 422, "validation_failed")
    assert LONE not in r.text
    await nothing_queued(service)


async def test_malformed_json_and_wrong_tokens(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    r = await service.http.post(
        SEND, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code in (400, 422)
    async with service.client("wrong-token") as anon:
        assert_error(await anon.post(SEND, json=body()), 401)
    reader = await new_token(service, "acme", ["read"])
    async with service.client(reader) as client:
        assert_error(await client.post(SEND, json=body()), 403)
        assert (await client.get(OUTBOX)).status_code == 200
    await create_project(service, "other", "other.test")
    other = await new_token(service, "other", ["send"])
    async with service.client(other) as client:
        assert_error(await client.post(SEND, json=body()), 404)
    sender = await new_token(service, "acme", ["send"])
    async with service.client(sender) as client:
        assert (await client.post(SEND, json=body())).status_code == 202
    await nothing_queued_but(service, 1)


async def nothing_queued_but(service: Service, count: int) -> None:
    assert len((await service.http.get(OUTBOX)).json()["messages"]) == count


async def test_a_project_without_email_or_on_the_shared_domain(service: Service) -> None:
    await create_project(service, "acme", "acme.test")
    assert_error(await service.http.post(SEND, json=body()), 403)  # not provisioned


async def test_first_policies_put_at_once_all_land(service: Service) -> None:
    """A project's first policy was read, found missing, then inserted: two PUTs at once
    both inserted, and the second was a 500. One statement now inserts or replaces it."""
    await hosted(service, "acme", "acme.test")
    policy = "/projects/acme/email/policy"
    blocks = [[f"b{n}.example"] for n in range(4)]
    answers = await asyncio.gather(
        *(service.http.put(policy, json={"send_block": block}) for block in blocks)
    )
    assert [r.status_code for r in answers] == [200] * 4, [r.text for r in answers]
    assert (await service.http.get(policy)).json()["send_block"] in blocks


async def test_send_policy_blocks_and_allows(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    policy = "/projects/acme/email/policy"
    token = await new_token(service, "acme")
    async with service.client(token) as client:
        assert_error(await client.put(policy, json={"send_block": ["x.example"]}), 403)
    r = await service.http.put(
        policy, json={"send_allow": ["Vendor.example"], "send_block": ["bad.vendor.example"]}
    )
    assert r.json() == {"send_allow": ["vendor.example"], "send_block": ["bad.vendor.example"]}
    assert_error(await service.http.put(policy, json={"send_allow": ["not a domain"]}), 422)
    assert_error(await service.http.post(SEND, json=body(to=["a@elsewhere.example"])), 403)
    assert_error(await service.http.post(SEND, json=body(to=["a@bad.vendor.example"])), 403)
    assert (
        await service.http.post(SEND, json=body(to=["a@sub.vendor.example"]))
    ).status_code == 202
    await nothing_queued_but(service, 1)


async def test_received_codes_never_leave(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    raw = message("agent@acme.test", body="Your verification code is 482913")
    entry = await deliver(service, "acme", "agent@acme.test", raw)
    for extra in (
        {"text": "Here it is: 482 913"},
        {"subject": "code 482913"},
        {"html": '<img alt="482913" src="x.png">', "text": None},
    ):
        r = await service.http.post(SEND, json=body(**extra))
        said = assert_error(r, 422, "contains_received_code")["error"]["message"]
        assert "482913" in said and entry["id"] in said
    assert (
        await service.http.post(SEND, json=body(text="Order 1482913 shipped"))
    ).status_code == 202
    token = await new_token(service, "acme")
    async with service.client(token) as client:
        r = await client.post(SEND, json=body(text="482913", allow_received_codes=True))
        assert_error(r, 403)
    r = await service.http.post(SEND, json=body(text="482913", allow_received_codes=True))
    assert r.status_code == 202
    await nothing_queued_but(service, 2)


async def test_rate_per_minute(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    await hosted(service, "other", "other.test")
    for _ in range(5):
        r = await service.http.post(SEND, json=body(to=["a@other.test"]))
        assert r.status_code == 202, r.text
    r = await service.http.post(SEND, json=body(to=["a@other.test"]))
    err = limited(r)
    assert "a minute" in err["message"] and 0 <= int(r.headers["Retry-After"]) <= 60


async def test_sends_at_once_cannot_pass_the_rate_together(service: Service) -> None:
    """Each send counted the project's last minute, then queued: eight at once under a rate
    of five all counted none and all queued. The project's row is locked first."""
    await hosted(service, "acme", "acme.test")
    await hosted(service, "other", "other.test")
    answers = await asyncio.gather(
        *(service.http.post(SEND, json=body(to=[f"a{n}@other.test"])) for n in range(8))
    )
    assert sorted(r.status_code for r in answers) == [202] * 5 + [429] * 3, [
        r.text for r in answers
    ]
    await nothing_queued_but(service, 5)


async def test_one_key_sent_at_once_under_the_rate_queues_one_message(service: Service) -> None:
    """Four requests with one key at once, with room for one message under the rate: one
    queues, the others answer its id. They wait for the project while it queues, then find
    the key used; counting the rate first, they were 429."""
    await hosted(service, "acme", "acme.test")
    await hosted(service, "other", "other.test")
    for n in range(4):
        assert (
            await service.http.post(SEND, json=body(to=[f"a{n}@other.test"]))
        ).status_code == 202
    keyed = {"Idempotency-Key": "k-once"}
    answers = await asyncio.gather(
        *(service.http.post(SEND, json=body(to=["z@other.test"]), headers=keyed) for _ in range(4))
    )
    assert [r.status_code for r in answers] == [202] * 4, [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    await nothing_queued_but(service, 5)


def limited(r: Any) -> dict[str, Any]:
    """A 429 of agentid's own quota: the error says when it resets."""
    assert r.status_code == 429, r.text
    err: dict[str, Any] = r.json()["error"]
    assert err["code"] == "rate_limited" and "resets_at" in err
    return err


async def test_warm_up_quota_counts_relayed_recipients_only(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    await hosted(service, "other", "other.test")
    ok = await service.http.post(SEND, json=body(to=["a@v.example", "b@v.example"]))
    assert ok.status_code == 202
    local = await service.http.post(SEND, json=body(to=["x@other.test", "y@other.test"]))
    assert local.status_code == 202  # hosted here: not counted
    r = await service.http.post(SEND, json=body(to=["c@v.example", "d@v.example"]))
    err = limited(r)
    assert "warm-up" in err["message"] and err["resets_at"].endswith("T00:00:00+00:00")
    assert (await service.http.post(SEND, json=body(to=["c@v.example"]))).status_code == 202


@pytest.mark.parametrize(
    "sender", ['"CEO" <ceo@bank.example>, x@acme.test', "ceo@bank.example@acme.test"]
)
async def test_from_is_one_address_of_the_project(service: Service, sender: str) -> None:
    await hosted(service, "acme", "acme.test")
    r = await service.http.post(SEND, json=body(**{"from": sender}))
    assert r.status_code in (403, 422), r.text
    await nothing_queued(service)


async def test_policy_holds_for_international_domains(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    r = await service.http.put(
        "/projects/acme/email/policy", json={"send_block": ["bücher.example"]}
    )
    assert r.json()["send_block"] == ["xn--bcher-kva.example"]
    for to in ("a@bücher.example", "a@xn--bcher-kva.example", "a@BÜCHER.example"):
        assert_error(await service.http.post(SEND, json=body(to=[to])), 403)
    await nothing_queued(service)


async def test_a_reply_cannot_carry_a_code_in_the_subject_it_inherits(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    raw = message("agent@acme.test", subject="482913 is your code", body="Welcome!")
    entry = await deliver(service, "acme", "agent@acme.test", raw)
    r = await service.http.post(
        SEND, json=body(to=["attacker@evil.example"], subject="", in_reply_to=entry["id"])
    )
    assert_error(r, 422, "contains_received_code")
    await nothing_queued(service)


async def test_a_hostile_message_can_still_be_answered(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    hostile = message(
        "agent@acme.test",
        subject="=?utf-8?q?Hi=0D=0ABcc:_x@evil.example?=",
        extra_headers="References: =?utf-8?q?<a@b>=0D=0AX-Evil:_1?=\r\n",
    )
    entry = await deliver(service, "acme", "agent@acme.test", hostile)
    r = await service.http.post(SEND, json=body(subject="", in_reply_to=entry["id"]))
    assert r.status_code == 202, r.text
    (sent,) = (await service.http.get(OUTBOX)).json()["messages"]
    assert "\n" not in sent["subject"] and "\r" not in sent["subject"]
