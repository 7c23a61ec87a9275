"""Without a relay (AGENTID_RELAY_URL unset): mail to addresses this agentid hosts is
delivered locally, and anything else fails at once with the reason, never dropped or
pretended sent (issue 10, "Unset")."""

from __future__ import annotations

from typing import Any

from tests.conftest import Service
from tests.service import eventually
from tests.service import hosted
from tests.service import inbox


async def test_without_a_relay_hosted_mail_arrives_and_the_rest_fails_at_once(
    service: Service,
) -> None:
    assert service.running.settings.relay_url is None
    await hosted(service, "acme", "acme.test")
    await hosted(service, "other", "other.test")
    r = await service.http.post(
        "/projects/acme/email/send",
        json={"to": ["someone@other.test", "far@vendor.example"], "subject": "Hi", "text": "x"},
    )
    assert r.status_code == 202, r.text
    mid = r.json()["id"]
    seen: dict[str, Any] = {}

    async def settled() -> bool:
        got = (await service.http.get(f"/projects/acme/email/messages/{mid}")).json()
        seen.update(got)
        return got["status"] == "partial"

    await eventually(settled, "the message settles")
    by = {rcpt["address"]: rcpt for rcpt in seen["recipients"]}
    assert by["someone@other.test"]["status"] == "sent"
    assert by["someone@other.test"]["route"] == "local"
    assert by["far@vendor.example"]["status"] == "failed"
    assert by["far@vendor.example"]["error"] == "no relay configured"
    assert by["far@vendor.example"]["attempts"] <= 1
    # "sent" locally is a 250 from our own spool: readable once digested, like any mail
    (entry,) = await inbox(service, "other", wait=10)
    assert entry["subject"] == "Hi"
