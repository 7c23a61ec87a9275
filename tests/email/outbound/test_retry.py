"""POST /projects/{id}/email/outbox/{mid}/retry: a sent message's failed recipients are
queued again; nothing to retry is 409, a message that is not the project's 404 (the web
page's outbox retry calls the same service: tests/web/test_pages.py)."""

from __future__ import annotations

from tests.conftest import Service
from tests.service import assert_error
from tests.service import eventually
from tests.service import hosted
from tests.service import new_token


async def test_retry_answers_what_it_did(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    await hosted(service, "other", "other.test")
    r = await service.http.post(
        "/projects/acme/email/send",
        json={"to": ["someone@other.test", "far@vendor.example"], "subject": "Hi", "text": "x"},
    )
    mid = r.json()["id"]

    async def settled() -> bool:
        got = (await service.http.get(f"/projects/acme/email/messages/{mid}")).json()
        return bool(got["status"] == "partial")

    await eventually(settled, "the message settles: one sent, one failed")
    reader = service.client(await new_token(service, "acme", ["read"]))
    async with reader:
        assert_error(await reader.post(f"/projects/acme/email/outbox/{mid}/retry"), 403)
    r = await service.http.post(f"/projects/acme/email/outbox/{mid}/retry")
    assert r.status_code == 200, r.text
    by = {rcpt["address"]: rcpt for rcpt in r.json()["recipients"]}
    assert by["someone@other.test"]["status"] == "sent"  # what was sent is not sent again
    assert by["far@vendor.example"]["status"] in ("queued", "sending", "failed")
    await eventually(settled, "the retried recipient fails again (still no relay)")

    sent = await service.http.post(
        "/projects/other/email/send",
        json={"to": ["x@acme.test"], "subject": "Hi", "text": "x"},
    )
    other = sent.json()["id"]

    async def delivered() -> bool:
        got = (await service.http.get(f"/projects/other/email/messages/{other}")).json()
        return bool(got["status"] == "sent")

    await eventually(delivered, "the local message is sent")
    assert_error(await service.http.post(f"/projects/other/email/outbox/{other}/retry"), 409)
    assert_error(await service.http.post(f"/projects/acme/email/outbox/{other}/retry"), 404)
    for bad in ("nope", "0" * 26, "x" * 300):
        assert_error(await service.http.post(f"/projects/acme/email/outbox/{bad}/retry"), 404)
