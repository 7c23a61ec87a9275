"""``sendgrid://``: the JSON each kind of message becomes, as a local server following
SendGrid's v3 mail/send contract receives it (sendgrid_server.py). What fails, and the
URL's checks: test_sendgrid_failures.py."""

from __future__ import annotations

import base64
from email.header import decode_header
from email.header import make_header
from typing import Any

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from agentid.providers.base import MailRelay
from agentid.providers.mail.sendgrid import SendGridRelay
from tests.providers.mail.sendgrid_server import KEY
from tests.providers.mail.sendgrid_server import SendGrid

PLAIN = (
    b"From: Agent <agent@acme.test>\r\n"
    b"To: Shop <shop@example.test>\r\n"
    b"Subject: Your order\r\n"
    b"Date: Wed, 01 Jan 2025 12:00:00 +0000\r\n"
    b"Message-ID: <m1@acme.test>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 7bit\r\n"
    b"\r\n"
    b"Hello.\r\n"
    b"\r\n"
    b"Bye\r\n"
)


async def sent_json(
    relay: SendGridRelay, sendgrid: SendGrid, message: bytes, recipients: list[str]
) -> dict[str, Any]:
    """The JSON the server took for ``message``, after checking the answer and headers."""
    sent = await relay.send("bounce@acme.test", recipients, message)
    got = sendgrid.accepted[-1]
    assert sent.message_id == got.message_id and sent.reply == "202 Accepted"
    assert got.headers["authorization"] == f"Bearer {KEY}"
    assert got.headers["content-type"] == "application/json"
    return got.body


async def test_plain_text(relay: SendGridRelay, sendgrid: SendGrid) -> None:
    assert isinstance(relay, MailRelay)
    assert await sent_json(relay, sendgrid, PLAIN, ["shop@example.test"]) == {
        "personalizations": [{"to": [{"email": "shop@example.test", "name": "Shop"}]}],
        "from": {"email": "agent@acme.test", "name": "Agent"},
        "subject": "Your order",
        "content": [{"type": "text/plain", "value": "Hello.\n\nBye\n"}],
        "headers": {"Date": "Wed, 01 Jan 2025 12:00:00 +0000", "Message-ID": "<m1@acme.test>"},
    }


async def test_text_before_html_then_other_alternatives(
    relay: SendGridRelay, sendgrid: SendGrid
) -> None:
    message = (
        b"From: agent@acme.test\r\nTo: shop@example.test\r\nSubject: Both\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hi <b>there</b></p>\r\n"
        b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\nHi there =E2=80=94 plain\r\n"
        b"--b1\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n"
        b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
        b"--b1--\r\n"
    )
    assert await sent_json(relay, sendgrid, message, ["shop@example.test"]) == {
        "personalizations": [{"to": [{"email": "shop@example.test"}]}],
        "from": {"email": "agent@acme.test"},
        "subject": "Both",
        "content": [
            {"type": "text/plain", "value": "Hi there — plain"},
            {"type": "text/html", "value": "<p>Hi <b>there</b></p>"},
            {"type": "text/calendar", "value": "BEGIN:VCALENDAR\nEND:VCALENDAR"},
        ],
    }


async def test_attachments_inline_named_nameless_and_forwarded(
    relay: SendGridRelay, sendgrid: SendGrid
) -> None:
    png, pdf = b"\x89PNG\r\n\x1a\n" + bytes(40), bytes(range(256))
    inner = b"From: a@x.test\r\nSubject: inner\r\n\r\ninner body"

    def b64(data: bytes) -> bytes:
        text = base64.b64encode(data)
        return b"\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))

    message = (
        b"From: agent@acme.test\r\nTo: shop@example.test\r\nSubject: Files\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b0"\r\n\r\n'
        b'--b0\r\nContent-Type: multipart/related; boundary="b1"\r\n\r\n'
        b'--b1\r\nContent-Type: multipart/alternative; boundary="b2"\r\n\r\n'
        b"--b2\r\nContent-Type: text/plain\r\n\r\nSee the logo.\r\n"
        b'--b2\r\nContent-Type: text/html\r\n\r\n<img src="cid:logo@acme.test">\r\n'
        b"--b2--\r\n"
        b"--b1\r\nContent-Type: image/png\r\nContent-ID: <logo@acme.test>\r\n"
        b'Content-Disposition: inline; filename="logo.png"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(png) + b"\r\n"
        b"--b1--\r\n"
        b"--b0\r\nContent-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="report, final.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(pdf) + b"\r\n"
        b"--b0\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n"
        b"--b0\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n"
        b"--b0--\r\n"
    )
    body = await sent_json(relay, sendgrid, message, ["shop@example.test"])
    assert body["content"] == [
        {"type": "text/plain", "value": "See the logo."},
        {"type": "text/html", "value": '<img src="cid:logo@acme.test">'},
    ]
    assert body["attachments"] == [
        {
            "content": base64.b64encode(png).decode(),
            "filename": "logo.png",
            "type": "image/png",
            "disposition": "inline",
            "content_id": "logo@acme.test",
        },
        {
            "content": base64.b64encode(pdf).decode(),
            "filename": "report_ final.pdf",  # SendGrid refuses ";" and "," in a filename
            "type": "application/pdf",
            "disposition": "attachment",
        },
        {
            "content": "AAEC",
            "filename": "part-3.bin",
            "type": "application/octet-stream",
            "disposition": "attachment",
        },
        {
            "content": base64.b64encode(inner).decode(),
            "filename": "part-4.eml",
            "type": "message/rfc822",
            "disposition": "attachment",
        },
    ]


async def test_reply_headers_and_what_is_left_out(relay: SendGridRelay, sendgrid: SendGrid) -> None:
    message = (
        b"Received: from mx.acme.test by relay.acme.test\r\n"
        b"DKIM-Signature: v=1; a=rsa-sha256; d=acme.test; s=s1;\r\n b=abc\r\n"
        b"ARC-Seal: i=1; cv=none; d=acme.test\r\n"
        b"Return-Path: <bounce@acme.test>\r\n"
        b"From: Agent <agent@acme.test>\r\n"
        b"To: shop@example.test\r\n"
        b"Bcc: hidden@example.test\r\n"
        b"Reply-To: Desk <desk@acme.test>, ops@acme.test\r\n"
        b"Subject: Re: Your order\r\n"
        b"Message-ID: <m2@acme.test>\r\n"
        b"In-Reply-To: <o1@example.test>\r\n"
        b"References: <o0@example.test>\r\n <o1@example.test>\r\n"
        b"List-Unsubscribe: <mailto:unsub@acme.test>\r\n"
        b"X-Agent: first\r\n"
        b"x-agent: second\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain\r\n"
        b"\r\n"
        b"Thanks.\r\n"
    )
    body = await sent_json(relay, sendgrid, message, ["shop@example.test", "hidden@example.test"])
    assert body["personalizations"] == [
        {"to": [{"email": "shop@example.test"}], "bcc": [{"email": "hidden@example.test"}]}
    ]
    assert body["reply_to_list"] == [
        {"email": "desk@acme.test", "name": "Desk"},
        {"email": "ops@acme.test"},
    ]
    assert "reply_to" not in body
    assert body["headers"] == {
        "Message-ID": "<m2@acme.test>",
        "In-Reply-To": "<o1@example.test>",
        "References": "<o0@example.test> <o1@example.test>",
        "List-Unsubscribe": "<mailto:unsub@acme.test>",
        "X-Agent": "first",  # SendGrid takes one value per name
    }


async def test_envelope_decides_who_receives(relay: SendGridRelay, sendgrid: SendGrid) -> None:
    message = (
        b"From: agent@acme.test\r\n"
        b"To: A <a@example.test>, Not Sent <x@example.test>\r\n"
        b"Cc: b@example.test, A@Example.test\r\n"
        b"Subject: s\r\n\r\nbody\r\n"
    )
    envelope = ["a@example.test", "B@example.test", "c@example.test", "C@example.test"]
    body = await sent_json(relay, sendgrid, message, [*envelope, "d@example.test"])
    assert body["personalizations"] == [
        {
            "to": [{"email": "a@example.test", "name": "A"}],  # x@ is no envelope recipient
            "cc": [{"email": "b@example.test"}],
            "bcc": [{"email": "c@example.test"}, {"email": "d@example.test"}],
        }
    ]


async def test_bcc_only_message_one_personalization_each(
    relay: SendGridRelay, sendgrid: SendGrid
) -> None:
    message = b"From: agent@acme.test\r\nTo: undisclosed-recipients:;\r\nSubject: s\r\n\r\nb\r\n"
    body = await sent_json(relay, sendgrid, message, ["a@example.test", "b@example.test"])
    assert body["personalizations"] == [
        {"to": [{"email": "a@example.test"}]},
        {"to": [{"email": "b@example.test"}]},
    ]


async def test_non_ascii_names_subject_headers_and_body(
    relay: SendGridRelay, sendgrid: SendGrid
) -> None:
    zoe = base64.b64encode("Zoë, Ørsted".encode()).decode()
    message = (
        b"From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jurgen@acme.test>\r\n"
        + f"To: =?utf-8?b?{zoe}?= <zoe@example.test>\r\n".encode()
        + b'Reply-To: "Se\xc3\xa1n O\'Brien" <sean@acme.test>\r\n'  # 8-bit, as SMTPUTF8
        b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe_=E2=80=93?= =?utf-8?b?IOS9oOWlvQ==?=\r\n"
        b"X-Note: caf\xc3\xa9\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n"
        b"\r\n"
        b"Gr=FC=DFe\r\n"
    )
    body = await sent_json(relay, sendgrid, message, ["zoe@example.test"])
    assert body["from"] == {"email": "jurgen@acme.test", "name": "Jürgen Müller"}
    assert body["personalizations"] == [
        {"to": [{"email": "zoe@example.test", "name": "Zoë, Ørsted"}]}
    ]
    assert body["reply_to"] == {"email": "sean@acme.test", "name": "Seán O'Brien"}
    assert body["subject"] == "Grüße – 你好"
    assert body["content"] == [{"type": "text/plain", "value": "Grüße\n"}]
    note = body["headers"]["X-Note"]
    assert note.isascii() and str(make_header(decode_header(note))) == "café"
    assert "Jürgen Müller".encode() in sendgrid.accepted[-1].raw  # UTF-8, not \u escapes


def encoded_word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60),
    subject=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60),
)
async def test_any_name_and_subject_arrive_as_written(
    relay: SendGridRelay, sendgrid: SendGrid, name: str, subject: str
) -> None:
    message = (
        f"From: {encoded_word(name)} <agent@acme.test>\r\n"
        f"To: {encoded_word(name)} <shop@example.test>\r\n"
        f"Subject: {encoded_word(subject)}\r\n\r\nbody\r\n"
    ).encode()
    body = await sent_json(relay, sendgrid, message, ["shop@example.test"])
    assert body["from"] == {"email": "agent@acme.test", "name": name}
    assert body["personalizations"][0]["to"] == [{"email": "shop@example.test", "name": name}]
    assert body["subject"] == subject
