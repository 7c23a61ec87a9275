"""SES's bounces, reported through an SNS topic to ``POST /webhooks/mail/{id}``: a local
SES (tests/providers/mail/ses_stub.py) takes the message, a local SNS
(tests/providers/mail/sns_server.py) serves its signing certificate and signs what it
posts. Only a fresh message of the named topic, signed by a certificate from the relay's
SNS host, is believed; a permanent bounce suppresses the address and fails the
recipient; a subscription confirmation is confirmed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import Service
from tests.providers.mail.ses_stub import MESSAGE_ID
from tests.providers.mail.ses_stub import SesStub
from tests.providers.mail.ses_stub import running_stub
from tests.providers.mail.sns_server import CERT_PATH
from tests.providers.mail.sns_server import TOPIC
from tests.providers.mail.sns_server import Sns
from tests.providers.mail.sns_server import bounce
from tests.providers.mail.sns_server import complaint
from tests.providers.mail.sns_server import running_sns
from tests.service import assert_error
from tests.service import eventually
from tests.service import hosted

HOOK = "/webhooks/mail/acme"
SNS_HEADERS = {"Content-Type": "text/plain; charset=UTF-8"}


@pytest.fixture
def ses() -> Iterator[SesStub]:
    with running_stub() as stub:
        stub.numbered = True
        yield stub


@pytest.fixture
def sns() -> Iterator[Sns]:
    with running_sns() as running:
        yield running


@pytest.fixture
def overrides(ses: SesStub) -> dict[str, Any]:
    relay = f"ses+http://AKIDTEST:secret@{ses.endpoint}?region=us-east-1"
    return {"relay_url": f"{relay}&sns_topic={quote(TOPIC, safe='')}"}


async def sent_one(service: Service) -> str:
    await hosted(service, "acme", "acme.test")
    r = await service.http.post(
        "/projects/acme/email/send",
        json={"to": ["gone@vendor.example"], "subject": "Hi", "text": "Hi."},
    )
    mid = str(r.json()["id"])

    async def accepted() -> bool:
        got = (await service.http.get(f"/projects/acme/email/messages/{mid}")).json()
        return bool(got["status"] == "sent")

    await eventually(accepted, "SES took the message")
    return mid


async def post(service: Service, body: bytes) -> Any:
    return await service.http.post(HOOK, content=body, headers=SNS_HEADERS)


async def suppressed(service: Service) -> list[str]:
    r = await service.http.get("/projects/acme/email/suppressions")
    return [s["address"] for s in r.json()["suppressions"]]


@pytest.mark.parametrize("version", ["1", "2"])
async def test_a_signed_permanent_bounce_suppresses_and_fails(
    service: Service, ses: SesStub, sns: Sns, version: str
) -> None:
    mid = await sent_one(service)
    body = sns.message(body=bounce(f"{MESSAGE_ID}-1", "gone@vendor.example"), version=version)
    assert (await post(service, body)).status_code == 204
    assert await suppressed(service) == ["gone@vendor.example"]
    got = (await service.http.get(f"/projects/acme/email/messages/{mid}")).json()
    assert got["status"] == "failed"
    assert "5.1.1" in got["recipients"][0]["error"]
    again = sns.message(body=bounce(f"{MESSAGE_ID}-1", "gone@vendor.example"), version=version)
    assert (await post(service, again)).status_code == 204
    assert sns.requests == [CERT_PATH]  # the certificate was fetched once, then kept


async def test_a_transient_bounce_is_no_suppression(
    service: Service, ses: SesStub, sns: Sns
) -> None:
    mid = await sent_one(service)
    body = sns.message(body=bounce(f"{MESSAGE_ID}-1", "gone@vendor.example", kind="Transient"))
    assert (await post(service, body)).status_code == 204
    assert await suppressed(service) == []
    got = (await service.http.get(f"/projects/acme/email/messages/{mid}")).json()
    assert got["status"] == "sent"


async def test_a_complaint_suppresses_and_leaves_the_message_sent(
    service: Service, ses: SesStub, sns: Sns
) -> None:
    mid = await sent_one(service)
    body = sns.message(
        body=complaint(f"{MESSAGE_ID}-1", "gone@vendor.example", feedback="not-spam")
    )
    assert (await post(service, body)).status_code == 204
    assert await suppressed(service) == []  # the reader said it is not spam
    body = sns.message(body=complaint(f"{MESSAGE_ID}-1", "gone@vendor.example"))
    assert (await post(service, body)).status_code == 204
    assert await suppressed(service) == ["gone@vendor.example"]
    got = (await service.http.get(f"/projects/acme/email/messages/{mid}")).json()
    assert got["status"] == "sent"


async def test_unbelievable_reports_are_refused_and_change_nothing(
    service: Service, ses: SesStub, sns: Sns
) -> None:
    mid = await sent_one(service)
    said = bounce(f"{MESSAGE_ID}-1", "gone@vendor.example")
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good = sns.message(body=said)
    tampered = good.replace(b"gone@vendor.example", b"else@vendor.example")
    for name, body in {
        "signed by another key": sns.message(body=said, key=forger),
        "changed after signing": tampered,
        "certificate from another host": sns.message(
            body=said, cert_url=sns.url(CERT_PATH, host="localhost")
        ),
        "an hour and more old": sns.message(
            body=said, at=datetime.now(UTC) - timedelta(hours=1, minutes=5)
        ),
        "from the future": sns.message(body=said, at=datetime.now(UTC) + timedelta(minutes=10)),
        "another topic": sns.message(body=said, topic=TOPIC.replace("ses-bounces", "spoof")),
        "an unknown signature version": sns.message(body=said, version="3"),
        "raw message delivery (no envelope)": said.encode(),
        "not JSON": b"{nope",
    }.items():
        r = await post(service, body)
        assert r.status_code == 403, name
        assert_error(r, 403)
    assert "/" not in [p.partition("?")[0] for p in sns.requests]
    assert all(p == CERT_PATH for p in sns.requests)  # localhost's was never fetched
    assert await suppressed(service) == []
    got = (await service.http.get(f"/projects/acme/email/messages/{mid}")).json()
    assert got["status"] == "sent"


async def test_a_subscription_is_confirmed_at_its_sns_address_only(
    service: Service, ses: SesStub, sns: Sns
) -> None:
    await hosted(service, "acme", "acme.test")
    body = sns.message("SubscriptionConfirmation", "You have chosen to subscribe...")
    assert (await post(service, body)).status_code == 204
    assert [p.partition("&")[0] for p in sns.requests] == [
        CERT_PATH,
        "/?Action=ConfirmSubscription",
    ]
    elsewhere = sns.url("/?Action=ConfirmSubscription&TopicArn=x", host="localhost")
    body = sns.message("SubscriptionConfirmation", "again", SubscribeURL=elsewhere)
    assert (await post(service, body)).status_code == 204  # believed, but not followed
    assert len(sns.requests) == 2
    other = sns.message(
        "SubscriptionConfirmation", "a stranger's topic", topic=TOPIC.replace("ses-", "x-")
    )
    assert (await post(service, other)).status_code == 403
    assert len(sns.requests) == 2


async def test_json_nested_past_the_recursion_limit_is_refused(service: Service, sns: Sns) -> None:
    """JSON nested past Python's recursion limit was a 500 (a RecursionError where a
    ValueError was caught): as the envelope, a report that cannot be believed (403); as
    the ``Message`` of a signed one, no SES notification (422)."""
    await hosted(service, "acme", "acme.test")
    for body in (b"[" * 5000, b'{"Type": ' + b"[" * 5000):
        assert_error(await post(service, body), 403)
    signed = sns.message(body="[" * 5000)
    assert_error(await post(service, signed), 422)
    assert await suppressed(service) == []


async def test_a_lone_surrogate_in_a_signed_field_is_refused(service: Service, sns: Sns) -> None:
    """A message of our topic, fresh, whose ``Message`` holds a lone surrogate has no
    UTF-8 form a signature could cover, and a ``SigningCertURL`` holding one is no URL to
    fetch: each is refused (403) like any unsigned message, where encoding it was a 500."""
    await hosted(service, "acme", "acme.test")
    for name in ("Message", "MessageId", "Subject"):
        message = json.loads(sns.message(body="x"))
        message[name] = "a\ud800"
        assert_error(await post(service, json.dumps(message).encode()), 403)
    unfetchable = sns.message(body="x", cert_url=sns.url("/cert\ud800.pem"))
    assert_error(await post(service, unfetchable), 403)
    assert await suppressed(service) == []
