"""Internationalized domains: a recipient domain in Unicode routes like its A-label form."""

from __future__ import annotations

import pytest

from tests.conftest import Service
from tests.service import Project
from tests.service import RawSMTP
from tests.service import inbox
from tests.service import queued_ids

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def deliver_to(service: Service, rcpt: str) -> list[str]:
    client = await RawSMTP.open(service.smtp_port)
    try:
        assert (await client.cmd("EHLO client.example"))[0] == 250
        assert (await client.cmd("MAIL FROM:<s@example.org> SMTPUTF8"))[0] == 250
        code, text = await client.cmd(f"RCPT TO:<{rcpt}>".encode())
        assert code == 250, text
        assert (await client.cmd("DATA"))[0] == 354
        await client.write(b"Subject: idn\r\n\r\nhello\r\n.\r\n")
        code, text = await client.reply()
        assert code == 250, text
    finally:
        await client.close()
    return queued_ids(text)


async def test_unicode_and_a_label_recipients_both_routed(shared: Service) -> None:
    r = await shared.http.post("/projects", json={"id": "buecher", "domain": "Bücher.test"})
    assert r.status_code == 201, r.text
    assert r.json()["domain"] == "xn--bcher-kva.test"
    assert r.json()["domain_unicode"] == "bücher.test"
    assert (await shared.http.post("/projects/buecher/email/provision")).is_success
    unicode_ids = await deliver_to(shared, "agent@bücher.test")
    a_label_ids = await deliver_to(shared, "agent@xn--bcher-kva.test")
    project = Project("buecher", "xn--bcher-kva.test", "agent@xn--bcher-kva.test")
    entries = await inbox(shared, project, wait=10)
    if len(entries) < 2:
        entries = await inbox(shared, project, wait=10, after=entries[0]["id"]) + entries
    assert sorted(e["id"] for e in entries) == sorted(unicode_ids + a_label_ids)
    assert all(e["to"] == ["agent@xn--bcher-kva.test"] for e in entries)
    r = await shared.http.post("/projects", json={"id": "other", "domain": "xn--bcher-kva.test"})
    assert r.status_code == 409  # one domain, whichever form it is given in
