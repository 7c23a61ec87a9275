"""What the listener advertises and enforces: SIZE, 8BITMIME, SMTPUTF8, STARTTLS."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest

from tests.conftest import Service
from tests.service import HOST
from tests.service import RawSMTP
from tests.service import inbox
from tests.service import new_project
from tests.service import queued_ids
from tests.service import simple_message
from tests.service import wait_for
from tests.tls import self_signed

pytestmark = pytest.mark.asyncio(loop_scope="module")

LIMIT = 4096


def OVERRIDES(scratch: Path) -> dict[str, Any]:
    cert, key = self_signed(scratch)
    return {"max_message_bytes": LIMIT, "tls_cert": cert, "tls_key": key}


def client_context(service: Service) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(service.running.settings.tls_cert))
    return context


async def ehlo(service: Service) -> dict[str, str]:
    client = await RawSMTP.open(service.smtp_port)
    try:
        code, text = await client.cmd("EHLO client.example")
    finally:
        await client.close()
    assert code == 250, text
    out = {}
    for line in text.splitlines()[1:]:
        keyword, _, value = line[4:].partition(" ")
        out[keyword.upper()] = value
    return out


async def test_ehlo_advertises_extensions(shared: Service) -> None:
    extensions = await ehlo(shared)
    assert extensions["SIZE"] == str(LIMIT)
    for keyword in ("8BITMIME", "SMTPUTF8", "STARTTLS"):
        assert keyword in extensions, extensions


async def test_mail_from_size_over_limit_refused(shared: Service) -> None:
    project = await new_project(shared)
    client = await RawSMTP.open(shared.smtp_port)
    try:
        assert (await client.cmd("EHLO client.example"))[0] == 250
        code, text = await client.cmd(f"MAIL FROM:<sender@example.org> SIZE={LIMIT + 1}")
        assert code == 552, text
        code, text = await client.cmd(f"MAIL FROM:<sender@example.org> SIZE={LIMIT // 2}")
        assert code == 250, text
        assert (await client.cmd(f"RCPT TO:<{project.primary}>"))[0] == 250
    finally:
        await client.close()


async def test_message_over_limit_refused_and_not_stored(shared: Service) -> None:
    project = await new_project(shared)
    client = await RawSMTP.open(shared.smtp_port)
    try:
        await client.envelope(project.primary)
        big = simple_message(project.primary, "big", "x" * 70 + "\r\n") * (LIMIT // 60)
        await client.write(big + b".\r\n")
        code, text = await client.reply()
        assert code == 552, text
        # the session goes on: the next transaction is fine
        await client.envelope(project.primary)
        await client.write(simple_message(project.primary, "small") + b".\r\n")
        code, text = await client.reply()
        assert code == 250, text
    finally:
        await client.close()
    (mid,) = queued_ids(text)
    assert [(m["id"], m["subject"]) for m in await inbox(shared, project, wait=10)] == [
        (mid, "small")
    ]


async def test_smtputf8_message(shared: Service) -> None:
    project = await new_project(shared)
    local = "jösé.ünïcode"
    rcpt = f"{local}@{project.domain}"
    raw = (
        f"From: Jörg Müller <jörg@exämple.org>\r\nTo: {rcpt}\r\n"
        "Subject: Grüße — 你好 ✓\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Ça marche: 123 456 ✓\r\n"
    ).encode()
    async with aiosmtplib.SMTP(hostname=HOST, port=shared.smtp_port, start_tls=False) as smtp:
        await smtp.ehlo()
        assert smtp.supports_extension("smtputf8")
        errors, reply = await smtp.sendmail(
            "jörg@exämple.org", [rcpt], raw, mail_options=["SMTPUTF8", "BODY=8BITMIME"]
        )
    assert not errors
    (mid,) = queued_ids(reply)
    entries = await inbox(shared, project, to=rcpt, wait=10)
    assert [e["id"] for e in entries] == [mid]
    assert entries[0]["subject"] == "Grüße — 你好 ✓"
    message = await wait_for(shared, project, mid)
    assert message["to"] == [rcpt]
    assert message["mail_from"] == "jörg@exämple.org"
    assert message["from"] == "Jörg Müller <jörg@exämple.org>"
    assert message["text"].strip() == "Ça marche: 123 456 ✓"
    assert ["Subject", "Grüße — 你好 ✓"] in message["headers"]
    assert message["status"] == "parsed"
    r = await shared.http.get(f"/projects/{project.id}/email/messages/{mid}/raw")
    assert r.content == raw


async def test_starttls(shared: Service) -> None:
    project = await new_project(shared)
    async with aiosmtplib.SMTP(
        hostname=HOST, port=shared.smtp_port, start_tls=False, tls_context=client_context(shared)
    ) as smtp:
        await smtp.ehlo()
        assert smtp.supports_extension("starttls")
        await smtp.starttls()
        await smtp.ehlo()
        assert not smtp.supports_extension("starttls")
        transport = smtp.transport
        assert transport is not None and transport.get_extra_info("sslcontext") is not None
        errors, reply = await smtp.sendmail(
            "sender@example.org", [project.primary], simple_message(project.primary, "secret")
        )
    assert not errors
    (mid,) = queued_ids(reply)
    message = await wait_for(shared, project, mid)
    assert message["subject"] == "secret"
