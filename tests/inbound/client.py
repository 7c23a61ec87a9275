"""Talking to the listener and the API from the tests: a raw SMTP client (bytes exactly as
written, nothing normalised), a sender, projects on fresh domains, inbox long-polls."""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import aiosmtplib

from agentid.ids import encode
from tests.conftest import Service

QUEUED = re.compile(r"queued as ([0-9A-Z,]+)")
HOST = "127.0.0.1"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class Project:
    id: str
    domain: str
    primary: str


async def new_project(service: Service, *, catch_all: bool = True) -> Project:
    """A provisioned project on a domain no other test uses."""
    pid = "p-" + secrets.token_hex(5)
    domain = f"{pid}.test"
    r = await service.http.post(
        "/projects", json={"id": pid, "domain": domain, "catch_all": catch_all}
    )
    assert r.status_code == 201, r.text
    r = await service.http.post(f"/projects/{pid}/email/provision")
    assert r.status_code == 200, r.text
    return Project(pid, domain, r.json()["address"])


async def new_alias(service: Service, project: Project, **body: Any) -> str:
    r = await service.http.post(
        f"/projects/{project.id}/email/aliases", json=body or {"label": "a"}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["address"])


def queued_ids(reply: str) -> list[str]:
    found = QUEUED.search(reply)
    assert found, reply
    return found.group(1).split(",")


def simple_message(to: str, subject: str = "hello", body: str = "Hi there.\r\n") -> bytes:
    return (
        f"From: Sender <sender@example.org>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{secrets.token_hex(8)}@example.org>\r\n\r\n{body}"
    ).encode()


async def send(
    port: int,
    rcpts: list[str],
    message: bytes | EmailMessage,
    mail_from: str = "sender@example.org",
    **options: Any,
) -> list[str]:
    """Send one message; the ids from the 250 reply."""
    data = message.as_bytes() if isinstance(message, EmailMessage) else message
    async with aiosmtplib.SMTP(hostname=HOST, port=port, start_tls=False, timeout=15) as smtp:
        errors, reply = await smtp.sendmail(mail_from, rcpts, data, **options)
    assert not errors, errors
    return queued_ids(reply)


async def inbox(service: Service, project: Project, **params: Any) -> list[dict[str, Any]]:
    r = await service.http.get(f"/projects/{project.id}/email/inbox", params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["messages"])


async def wait_for(
    service: Service, project: Project, mid: str, wait: float = 10
) -> dict[str, Any]:
    """The message detail once ``mid`` is parsed (long-polls the inbox for it)."""
    before = _previous(mid)
    found = await inbox(service, project, after=before, wait=wait, limit=500)
    assert mid in [m["id"] for m in found], (mid, found)
    r = await service.http.get(f"/projects/{project.id}/email/messages/{mid}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def _previous(mid: str) -> str:
    """The id sorting just before ``mid`` (for ``after=``)."""
    value = 0
    for c in mid:
        value = value * 32 + ALPHABET.index(c)
    return encode(value - 1)


class RawSMTP:
    """An SMTP client that writes exactly the bytes it is given."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int, *, greet: bool = True) -> RawSMTP:
        reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 20)
        client = cls(reader, writer)
        if greet:
            code, _ = await client.reply()
            assert code == 220
        return client

    async def reply(self, timeout: float = 10) -> tuple[int, str]:
        """One (possibly multi-line) reply; (0, "") when the server closed the connection."""
        lines: list[str] = []
        while True:
            line = await asyncio.wait_for(self.reader.readline(), timeout)
            if not line:
                return 0, "\n".join(lines)
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            lines.append(text)
            if len(text) < 4 or text[3] != "-":
                return int(text[:3]), "\n".join(lines)

    async def cmd(self, line: bytes | str) -> tuple[int, str]:
        data = line.encode() if isinstance(line, str) else line
        self.writer.write(data + b"\r\n")
        await self.writer.drain()
        return await self.reply()

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def envelope(self, rcpt: str, mail_from: str = "sender@example.org") -> None:
        assert (await self.cmd("EHLO client.example"))[0] == 250
        assert (await self.cmd(f"MAIL FROM:<{mail_from}>"))[0] == 250
        code, text = await self.cmd(f"RCPT TO:<{rcpt}>")
        assert code == 250, text
        code, text = await self.cmd("DATA")
        assert code == 354, text

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


def split_long_lines(raw: bytes) -> bytes:
    """SMTP lines stay under 1000 octets: fold by inserting CRLF + space."""
    out = []
    for line in raw.split(b"\r\n"):
        while len(line) > 900:
            out.append(line[:900])
            line = b" " + line[900:]
        out.append(line)
    data = b"\r\n".join(out)
    return data if data.endswith(b"\r\n") else data + b"\r\n"
