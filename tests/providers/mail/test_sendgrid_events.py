"""Which of SendGrid's events are bounces and complaints (the signed webhook's live path is
in tests/email/outbound/test_bounces.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentid.errors import ValidationFailed
from agentid.providers.mail.sendgrid_events import bounces


def one(**event: Any) -> bytes:
    return json.dumps(
        [{"email": "a@vendor.example", "sg_message_id": "X1.filter-1", **event}]
    ).encode()


@pytest.mark.parametrize(
    ("event", "permanent"),
    [
        ({"event": "bounce", "type": "bounce", "reason": "550 no such user"}, True),
        ({"event": "bounce", "type": "blocked", "reason": "421 try later"}, False),
        ({"event": "dropped", "reason": "Bounced Address"}, True),
        ({"event": "dropped", "reason": "Spam Reporting Address"}, True),
        ({"event": "dropped", "reason": "Invalid"}, True),
        ({"event": "dropped", "reason": "Invalid SMTPAPI header"}, False),  # ours, not theirs
        ({"event": "dropped", "reason": "Unsubscribed Address"}, False),
        ({"event": "delivered"}, False),
        ({"event": "deferred", "response": "400 try again later"}, False),
    ],
)
def test_what_is_a_bounce(event: dict[str, Any], permanent: bool) -> None:
    found = bounces(one(**event))
    assert [(b.address, b.provider_message_id, b.complaint) for b in found] == (
        [("a@vendor.example", "X1", False)] if permanent else []
    )


def test_a_spam_report_is_a_complaint() -> None:
    (found,) = bounces(one(event="spamreport"))
    assert found.complaint and found.reason == "sendgrid spamreport: spamreport"


def test_a_body_that_is_not_an_array_of_events_is_refused() -> None:
    for body in (
        b"{",
        b"{}",
        b"[" * 100_000 + b"]" * 100_000,
        "[\ud800]".encode("utf-8", "surrogatepass"),
    ):
        with pytest.raises(ValidationFailed):
            bounces(body)
