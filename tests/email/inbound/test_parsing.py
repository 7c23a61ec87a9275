"""Parsing what arrived: headers, bodies, attachments, the exact raw bytes; and messages
that cannot be parsed are still stored raw, flagged and readable, never dropped."""

from __future__ import annotations

import base64
import random
from email.message import EmailMessage

import pytest

from tests.conftest import Service
from tests.email.inbound.authentication import unproven
from tests.email.inbound.authentication import verdict_of
from tests.service import Project
from tests.service import RawSMTP
from tests.service import inbox
from tests.service import new_project
from tests.service import queued_ids
from tests.service import split_long_lines
from tests.service import wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

HOSTILE_NAME = '../../evil"\r\n.html'
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


async def deliver(service: Service, project: Project, raw: bytes) -> str:
    """Send ``raw`` byte for byte (only dot-stuffed) and return the message id."""
    client = await RawSMTP.open(service.smtp_port)
    try:
        assert (await client.cmd("EHLO client.example"))[0] == 250
        assert (await client.cmd("MAIL FROM:<sender@example.org> BODY=8BITMIME"))[0] == 250
        assert (await client.cmd(f"RCPT TO:<{project.primary}>"))[0] == 250
        assert (await client.cmd("DATA"))[0] == 354
        stuffed = b"\r\n".join(
            b"." + line if line.startswith(b".") else line for line in raw.split(b"\r\n")
        )
        end = b".\r\n" if raw.endswith(b"\r\n") else b"\r\n.\r\n"
        await client.write(stuffed + end)
        code, text = await client.reply()
        assert code == 250, text
    finally:
        await client.close()
    (mid,) = queued_ids(text)
    return mid


def rich_message(project: Project) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Shop <noreply@shop.example>"
    msg["To"] = project.primary
    msg["Cc"] = "Other <other@example.org>"
    msg["Subject"] = "Your order"
    msg["Message-ID"] = "<order-1@shop.example>"
    msg["Authentication-Results"] = "mx.example; spf=pass smtp.mailfrom=shop.example"
    msg.set_content("Plain body ✓\n")
    msg.add_alternative("<p>HTML <b>body</b></p>\n", subtype="html")
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="pic.png")
    msg.add_attachment(
        b"<script>alert(1)</script>", maintype="text", subtype="html", filename="HOSTILE.html"
    )
    msg.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="données.csv")
    return msg


async def test_parts_attachments_and_raw(shared: Service) -> None:
    project = await new_project(shared)
    msg = rich_message(project)
    raw = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")).replace(
        b'filename="HOSTILE.html"', b"filename*=utf-8''..%2F..%2Fevil%22%0D%0A.html"
    )
    mid = await deliver(shared, project, raw)
    m = await wait_for(shared, project, mid)
    assert m["status"] == "parsed" and m["parse_error"] is None
    assert m["subject"] == "Your order"
    assert m["from"] == "Shop <noreply@shop.example>"
    assert m["message_id"] == "<order-1@shop.example>"
    assert ["Subject", "Your order"] in m["headers"]
    assert m["text"].strip() == "Plain body ✓"
    assert "<b>body</b>" in m["html"]
    assert ["Authentication-Results", "mx.example; spf=pass smtp.mailfrom=shop.example"] in m[
        "headers"
    ]
    verdict = (await verdict_of(shared, project.id, mid))["auth_results"]
    assert unproven(verdict)  # agentid's own verdict only, never the sender's
    assert [
        (a["index"], a["filename"], a["content_type"], a["size"]) for a in m["attachments"]
    ] == [
        (0, "pic.png", "image/png", len(PNG)),
        (1, HOSTILE_NAME, "text/html", 25),
        (2, "données.csv", "text/csv", 8),
    ]
    entry = (await inbox(shared, project))[0]
    assert entry["has_attachments"] is True and entry["parse_error"] is False

    base = f"/projects/{project.id}/email/messages/{mid}"
    r = await shared.http.get(f"{base}/attachments/0")
    assert r.status_code == 200 and r.content == PNG
    assert r.headers["content-type"] == "image/png"

    r = await shared.http.get(f"{base}/attachments/1")
    assert r.status_code == 200 and r.content == b"<script>alert(1)</script>"
    assert r.headers["content-type"] == "application/octet-stream"  # never rendered as HTML
    assert r.headers["x-content-type-options"] == "nosniff"
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert "/" not in fallback and "\\" not in fallback and fallback.endswith(".html")
    assert disposition.count('"') == 2 and disposition.count(";") == 2
    assert "%2F" not in disposition and "%0D" not in disposition  # the exact name, defused
    assert "\r" not in disposition and "\n" not in disposition

    r = await shared.http.get(f"{base}/attachments/2")
    assert r.status_code == 200 and r.content == b"a,b\n1,2\n"
    assert "filename*=UTF-8''donn%C3%A9es.csv" in r.headers["content-disposition"]

    assert (await shared.http.get(f"{base}/attachments/3")).status_code == 404
    assert (await shared.http.get(f"{base}/attachments/-1")).status_code in (404, 422)

    r = await shared.http.get(f"{base}/raw")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("message/rfc822")
    assert r.content == raw


NASTY: dict[str, bytes] = {
    "broken-boundary": (
        b"Subject: broken boundary\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="abc"\r\n\r\n'
        b"--abd\r\nContent-Type: text/plain\r\n\r\nnever closed\r\n--abc\r\n"
        b"Content-Type: text/html\r\n\r\n<p>unterminated\r\n"
    ),
    "no-boundary": (
        b"Subject: no boundary\r\nContent-Type: multipart/alternative\r\n\r\n"
        b"--x\r\n\r\nhello\r\n--x--\r\n"
    ),
    "bad-base64": (
        b"Subject: bad base64\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not*base64===\r\nAAA\r\n"
    ),
    "unknown-charset": (
        b"Subject: =?x-unknown?B?w6k=?=\r\nContent-Type: text/plain; charset=x-klingon\r\n"
        b"\r\nqapla\xff\xfe\r\n"
    ),
    "latin1-headers": (
        b"Subject: caf\xe9 cr\xe8me\r\nFrom: J\xf6rg <j@example.org>\r\n"
        b"Content-Type: text/plain\r\n\r\nna\xefve\r\n"
    ),
    "qp-nul": (
        b"Subject: nul inside\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\nbefore=00after\r\n"
    ),
    "base64-nul-html": (
        b"Subject: nul html\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(b"<p>a\x00b</p>")
        + b"\r\n"
    ),
    "encoded-word-nul": b"Subject: =?utf-8?q?a=00b?=\r\nTo: =?utf-8?b?AA==?=@x\r\n\r\nbody\r\n",
    "no-headers": b"just a body line\r\nand another\r\n",
    "headers-only": b"Subject: only headers\r\n",
    "empty-ish": b"\r\n",
    "garbage": b"\r\n".join(
        random.Random(7).randbytes(3000).translate(None, b"\r\n\x00")[i : i + 70]
        for i in range(0, 2800, 70)
    ),
    "deep-nesting": (
        b"Subject: deep\r\n"
        + b"".join(
            f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode()
            for i in range(60)
        )
        + b"Content-Type: text/plain\r\n\r\ndeep\r\n"
    ),
    "bad-attachment-name": (
        b"Subject: names\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        b"--b\r\nContent-Type: application/octet-stream; name*=utf-8''%FF%FE%00x\r\n"
        b'Content-Disposition: attachment; filename="\xff\xfe.bin"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b--\r\n"
    ),
    "long-from-address": (
        b"From: Someone <" + b"a" * 400 + b"@example.org>\r\nTo: <" + b"b" * 400 + b"@x.test>\r\n"
        b"Subject: long addresses\r\n\r\nbody\r\n"
    ),
    "long-header": b"Subject: " + b"x" * 50_000 + b"\r\n\r\nbody\r\n",
}


@pytest.mark.parametrize("name", list(NASTY))
async def test_nasty_message_stored_and_readable(shared: Service, name: str) -> None:
    project = await new_project(shared)
    raw = split_long_lines(NASTY[name])
    mid = await deliver(shared, project, raw)
    entries = await inbox(shared, project, wait=10)
    assert [e["id"] for e in entries] == [mid]
    r = await shared.http.get(f"/projects/{project.id}/email/messages/{mid}")
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["status"] in ("parsed", "parse_error")
    assert entries[0]["parse_error"] is (m["status"] == "parse_error")
    assert m["size"] == len(raw)
    r = await shared.http.get(f"/projects/{project.id}/email/messages/{mid}/raw")
    assert r.content == raw
    for attachment in m["attachments"]:
        r = await shared.http.get(
            f"/projects/{project.id}/email/messages/{mid}/attachments/{attachment['index']}"
        )
        assert r.status_code == 200, r.text


async def test_unparseable_is_flagged(shared: Service) -> None:
    project = await new_project(shared)
    mid = await deliver(shared, project, b"\x01\x02 no header here\r\n\r\nbody\r\n")
    entries = await inbox(shared, project, wait=10)
    assert [(e["id"], e["parse_error"]) for e in entries] == [(mid, True)]
    m = await wait_for(shared, project, mid)
    assert m["status"] == "parse_error" and m["parse_error"]
