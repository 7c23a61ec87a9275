"""GET/PATCH/DELETE /projects/{id}/email/messages/{mid}, /raw and /attachments/{n}."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import pytest
from sqlalchemy import text

from agentid.email.repository import MessageRepository
from tests.conftest import Service
from tests.email.inbound.authentication import unproven
from tests.email.inbound.authentication import verdict_of
from tests.service import assert_error
from tests.service import deliver
from tests.service import eventually
from tests.service import hosted

MESSAGES = "/projects/acme/email/messages"


def rich_message(to: str) -> bytes:
    msg = EmailMessage()
    msg["Authentication-Results"] = "mx.acme.test; spf=pass smtp.mailfrom=shop.example"
    msg["Received-SPF"] = "pass (mx.acme.test: domain of shop.example designates 192.0.2.1)"
    msg["DKIM-Signature"] = "v=1; a=rsa-sha256; d=shop.example; s=s1; b=abc"
    msg["From"] = "Shop <noreply@shop.example>"
    msg["To"] = to
    msg["Subject"] = "Welcome ✓"
    msg["Message-ID"] = "<welcome-1@shop.example>"
    msg["Date"] = "Mon, 01 Jan 2024 10:00:00 +0000"
    msg.set_content("Hello in plain text.\n")
    msg.add_alternative("<p>Hello in <b>HTML</b>.</p>\n", subtype="html")
    msg.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="a.pdf")
    msg.add_attachment(
        b"<script>alert(1)</script>", maintype="text", subtype="html", filename="../../x.html"
    )
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


async def test_read_whole_message(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    raw = rich_message("agent@acme.test")
    entry = await deliver(service, "acme", "agent@acme.test", raw)
    assert entry["has_attachments"] is True
    mid = entry["id"]

    r = await service.http.get(f"{MESSAGES}/{mid}")
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["id"] == mid
    assert m["subject"] == "Welcome ✓"
    assert m["from"] == "Shop <noreply@shop.example>"
    assert m["to"] == ["agent@acme.test"]
    assert m["mail_from"] == "noreply@shop.example"
    assert m["message_id"] == "<welcome-1@shop.example>"
    assert m["text"].strip() == "Hello in plain text."
    assert "<b>HTML</b>" in m["html"]
    assert ["To", "agent@acme.test"] in m["headers"]
    assert [(a["filename"], a["content_type"]) for a in m["attachments"]] == [
        ("a.pdf", "application/pdf"),
        ("../../x.html", "text/html"),
    ]
    assert m["attachments"][0]["size"] == len(b"%PDF-1.4 fake")
    m = await verdict_of(service, "acme", mid)
    assert unproven(m["auth_results"])  # agentid's own verdict, never the sender's
    names = [name.lower() for name, _ in m["headers"]]
    assert {"authentication-results", "received-spf", "dkim-signature"} <= set(names)
    assert m["unread"] is True
    assert m["parse_error"] is None

    r = await service.http.get(f"{MESSAGES}/{mid}/raw")
    assert r.status_code == 200
    assert r.headers["content-type"] == "message/rfc822"
    assert r.content == raw

    r = await service.http.get(f"{MESSAGES}/{mid}/attachments/0")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content == b"%PDF-1.4 fake"
    r = await service.http.get(f"{MESSAGES}/{mid}/attachments/1")
    assert r.status_code == 200
    # Active content is never served as itself, and the name cannot climb directories.
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "/" not in r.headers["content-disposition"].split("filename*=")[0]
    assert r.content == b"<script>alert(1)</script>"
    for n in ("2", "-1", "99999999999999999999"):
        assert_error(await service.http.get(f"{MESSAGES}/{mid}/attachments/{n}"), 404)
    assert_error(await service.http.get(f"{MESSAGES}/{mid}/attachments/x"), 422)


async def test_raw_bytes_are_exact(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    raw = (
        b"From: a@shop.example\r\nTo: agent@acme.test\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n"
        b"X-Odd:   spaced   value  \r\n\r\nline one\r\n..leading dot\r\n\xff\xfe bytes\r\n"
    )
    mid = (await deliver(service, "acme", "agent@acme.test", raw))["id"]
    r = await service.http.get(f"{MESSAGES}/{mid}/raw")
    assert r.content == raw
    assert (await service.http.get(f"{MESSAGES}/{mid}")).json()["subject"] == "café"


async def test_unparseable_message_is_stored_and_flagged(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    raw = b"this is not a header line at all\r\nnor this\r\n"
    entry = await deliver(service, "acme", "agent@acme.test", raw)
    r = await service.http.get(f"{MESSAGES}/{entry['id']}/raw")
    assert r.content == raw
    m = (await service.http.get(f"{MESSAGES}/{entry['id']}")).json()
    assert entry["parse_error"] is True
    assert m["status"] == "parse_error"
    assert m["parse_error"]


async def test_mark_read(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    mid = (await deliver(service, "acme", "agent@acme.test"))["id"]
    r = await service.http.patch(f"{MESSAGES}/{mid}", json={"unread": False})
    assert r.status_code == 200, r.text
    assert r.json()["unread"] is False
    r = await service.http.get("/projects/acme/email/inbox", params={"unread": "true"})
    assert r.json()["messages"] == []
    r = await service.http.patch(f"{MESSAGES}/{mid}", json={"unread": True})
    assert r.json()["unread"] is True
    r = await service.http.get("/projects/acme/email/inbox", params={"unread": "true"})
    assert [m["id"] for m in r.json()["messages"]] == [mid]
    for bad in ({"unread": "maybe"}, {"unread": [1]}, {"read": True}, [], "x"):
        assert_error(await service.http.patch(f"{MESSAGES}/{mid}", json=bad), 422)


async def test_delete(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    mid = (await deliver(service, "acme", "agent@acme.test"))["id"]
    r = await service.http.delete(f"{MESSAGES}/{mid}")
    assert r.status_code == 204
    for suffix in ("", "/raw", "/attachments/0"):
        assert_error(await service.http.get(f"{MESSAGES}/{mid}{suffix}"), 404, "not_found")
    assert_error(await service.http.delete(f"{MESSAGES}/{mid}"), 404, "not_found")
    assert_error(await service.http.patch(f"{MESSAGES}/{mid}", json={"unread": False}), 404)
    r = await service.http.get("/projects/acme/email/inbox")
    assert r.json()["messages"] == []


async def test_a_message_deleted_while_it_is_marked_read_is_404(
    backend: str, service: Service
) -> None:
    """The PATCH read the message, then changed it: deleted in between, the change found no
    row and was a 500 (StaleDataError). Staged with PostgreSQL's row lock: the delete holds
    the row until the PATCH waits on it, then commits."""
    if backend != "postgresql":
        pytest.skip("staging the race needs PostgreSQL's row locks (SQLite locks the file)")
    await hosted(service, "acme", "acme.test")
    mid = (await deliver(service, "acme", "agent@acme.test"))["id"]
    sessions = service.running.runtime.sessions
    async with sessions() as deleting, sessions() as watching:
        await MessageRepository(deleting).delete(mid)  # the row is locked, not yet gone
        marking = asyncio.create_task(
            service.http.patch(f"{MESSAGES}/{mid}", json={"unread": False})
        )

        async def waits_on_the_row() -> bool:
            waiting = await watching.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
            await watching.commit()
            return bool(waiting)

        await eventually(waits_on_the_row, "the PATCH waits on the deleted row")
        await deleting.commit()
    assert_error(await marking, 404, "not_found")


async def test_unknown_and_garbage_ids(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    await hosted(service, "beta", "beta.test")
    beta_mid = (await deliver(service, "beta", "agent@beta.test"))["id"]
    for mid in (
        "0" * 26,
        "7ZZZZZZZZZZZZZZZZZZZZZZZZZ",
        "nope",
        "%2e%2e",
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "%00",
        "' OR 1=1 --",
        "x" * 5000,
        "ü" * 26,
        beta_mid,  # another project's message
    ):
        for method, suffix in (("GET", ""), ("GET", "/raw"), ("PATCH", ""), ("DELETE", "")):
            body = {"unread": False} if method == "PATCH" else None
            r = await service.http.request(method, f"{MESSAGES}/{mid}{suffix}", json=body)
            assert_error(r, 404, "not_found")
    r = await service.http.get(f"/projects/beta/email/messages/{beta_mid}")
    assert r.status_code == 200
