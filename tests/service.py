"""Talking to a running agentid from the tests: projects, aliases and tokens over the API;
mail over SMTP, or byte for byte with ``RawSMTP``; the inbox; and waits that end on the
service's own signals (a listener on the bus, a message listed), not after a while.

Every helper takes the ``Service`` that the ``service`` fixture, the inbound ``shared``
fixture or ``start_service`` gives (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiosmtplib
import httpx
from fastapi.routing import APIRoute

from agentid.app import create_app
from agentid.config import Settings
from agentid.errors import ErrorBody
from agentid.events import Kind
from agentid.ids import encode
from tests.conftest import Service

HOST = "127.0.0.1"
JSON = {"Content-Type": "application/json"}
SENDER = "noreply@shop.example"  # the envelope sender, unless a test names another
QUEUED = re.compile(r"queued as ([0-9A-Z,]+)")
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

# Projects, aliases, tokens


@dataclass(frozen=True)
class Project:
    id: str
    domain: str
    primary: str


def _id(project: Project | str) -> str:
    return project if isinstance(project, str) else project.id


async def create_project(
    service: Service, project_id: str, domain: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"id": project_id, **extra}
    if domain is not None:
        body["domain"] = domain
    r = await service.http.post("/projects", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def provision(service: Service, project_id: str, **body: Any) -> dict[str, Any]:
    r = await service.http.post(f"/projects/{project_id}/email/provision", json=body or None)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def hosted(service: Service, project_id: str, domain: str | None = None) -> dict[str, Any]:
    """A project whose email is provisioned (on ``domain``, or the shared one)."""
    await create_project(service, project_id, domain)
    return await provision(service, project_id)


async def new_project(service: Service, *, catch_all: bool = True) -> Project:
    """A provisioned project on a domain no other test uses."""
    pid = "p-" + secrets.token_hex(5)
    domain = f"{pid}.test"
    await create_project(service, pid, domain, catch_all=catch_all)
    return Project(pid, domain, (await provision(service, pid))["address"])


async def new_token(service: Service, project_id: str, scopes: list[str] | None = None) -> str:
    body = {} if scopes is None else {"scopes": scopes}
    r = await service.http.post(f"/projects/{project_id}/tokens", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


async def new_alias(service: Service, project: Project | str, **body: Any) -> str:
    r = await service.http.post(f"/projects/{_id(project)}/email/aliases", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["address"])


# Messages


def message(
    to: str,
    subject: str = "Hello",
    body: str = "Just saying hello.",
    sender: str = "Shop <noreply@shop.example>",
    extra_headers: str = "",
    *,
    end: str = "\r\n",
) -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n{extra_headers}\r\n{body}{end}"
    ).encode()


def simple_message(to: str, subject: str = "hello", body: str = "Hi there.\r\n") -> bytes:
    """From sender@example.org, with a Message-ID of its own; ``body`` ends as given."""
    message_id = f"Message-ID: <{secrets.token_hex(8)}@example.org>\r\n"
    return message(to, subject, body, "Sender <sender@example.org>", message_id, end="")


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


# SMTP


def queued_ids(reply: str) -> list[str]:
    found = QUEUED.search(reply)
    assert found, reply
    return found.group(1).split(",")


async def send(
    service: Service,
    rcpts: list[str] | str,
    raw: bytes | None = None,
    mail_from: str = SENDER,
) -> list[str]:
    """Send ``raw`` (or a plain message to the first recipient); the ids in the 250 reply,
    which the service gives once the message is stored."""
    rcpts = [rcpts] if isinstance(rcpts, str) else rcpts
    data = message(rcpts[0]) if raw is None else raw
    async with aiosmtplib.SMTP(
        hostname=HOST, port=service.smtp_port, start_tls=False, timeout=15
    ) as smtp:
        errors, reply = await smtp.sendmail(mail_from, rcpts, data)
    assert not errors, errors
    return queued_ids(reply)


async def smtp_rcpt(service: Service, address: str) -> tuple[int, bytes]:
    """The reply to RCPT TO:<address>, its text without the code (then the transaction is
    reset)."""
    async with aiosmtplib.SMTP(
        hostname=HOST, port=service.smtp_port, start_tls=False, timeout=10
    ) as smtp:
        await smtp.mail(SENDER)
        reply = await smtp.execute_command(b"RCPT", f"TO:<{address}>".encode())
        await smtp.rset()
    return reply.code, reply.message.encode()


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

    @classmethod
    async def open_unix(cls, path: str) -> RawSMTP:
        reader, writer = await asyncio.open_unix_connection(path, limit=1 << 20)
        client = cls(reader, writer)
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


# The inbox


async def inbox(service: Service, project: Project | str, **params: Any) -> list[dict[str, Any]]:
    r = await service.http.get(f"/projects/{_id(project)}/email/inbox", params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["messages"])


async def newest_id(service: Service, project_id: str) -> str | None:
    messages = await inbox(service, project_id, limit=1)
    return str(messages[0]["id"]) if messages else None


async def deliver(
    service: Service,
    project_id: str,
    rcpts: list[str] | str,
    raw: bytes | None = None,
    mail_from: str = SENDER,
) -> dict[str, Any]:
    """Send a message and return its inbox entry once it is parsed and listed."""
    before = await newest_id(service, project_id)
    params: dict[str, Any] = {"wait": 10, "limit": 1}
    if before is not None:
        params["after"] = before
    waiter = asyncio.create_task(inbox(service, project_id, **params))
    await send(service, rcpts, raw, mail_from)
    messages = await waiter
    assert messages, "the message did not show up in the inbox"
    return dict(messages[0])


async def wait_for(
    service: Service, project: Project, mid: str, wait: float = 10
) -> dict[str, Any]:
    """The message detail once ``mid`` is parsed (long-polls the inbox for it)."""
    found = await inbox(service, project, after=_previous(mid), wait=wait, limit=500)
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


# Waits


async def listening(service: Service, project_id: str, count: int = 1, timeout: float = 5) -> None:
    """Return once ``count`` long-polls or streams are waiting on ``project_id``."""
    bus = service.running.runtime.bus
    deadline = time.monotonic() + timeout
    while bus.listener_count(project_id) < count:
        assert time.monotonic() < deadline, f"no {count} listeners on {project_id}"
        await asyncio.sleep(0.005)


async def listed(
    service: Service, project: Project | str, count: int, timeout: float = 30
) -> list[dict[str, Any]]:
    """The inbox once it lists ``count`` messages: read again each time the service says
    one more is listed (``message.received``, flagged ones too)."""
    deadline = time.monotonic() + timeout
    bus = service.running.runtime.bus
    async with bus.listen(_id(project), [Kind.MESSAGE_RECEIVED]) as received:
        while len(entries := await inbox(service, project)) < count:
            assert time.monotonic() < deadline, f"{len(entries)} of {count} listed"
            await received.wait(deadline - time.monotonic())
    return entries


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], what: str, timeout: float = 15
) -> None:
    """Poll ``check`` (plain or async) until it is true; fail after ``timeout`` seconds. For
    what the service signals nothing about (a process restarted, a counter moved)."""
    deadline = time.monotonic() + timeout
    while True:
        done = check()
        if done if isinstance(done, bool) else await done:
            return
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.05)


# Events


async def sse_events(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """Events parsed from an SSE line stream (comments skipped)."""
    event: dict[str, Any] = {}
    async for line in lines:
        if line == "":
            if event:
                yield event
            event = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            event[name] = value.removeprefix(" ")


async def read_events(
    service: Service, count: int, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The next ``count`` events of acme's stream (comments skipped)."""
    got: list[dict[str, Any]] = []
    async with service.http.stream(
        "GET", "/projects/acme/events", headers=headers or {}, timeout=10
    ) as r:
        assert r.status_code == 200
        async for event in sse_events(r.aiter_lines()):
            got.append(event)
            if len(got) == count:
                break
    return got


# Answers


EXTRAS = {"conflict": {"records"}, "rate_limited": {"resets_at"}}  # those that say more


def assert_error(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """A clean JSON error: the status, and ``{"error": {"code", "message"}}`` (a DNS
    conflict may add its ``records``)."""
    assert r.status_code == status, f"{r.status_code} {r.text[:500]}"
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"error"}, body
    extra = set(body["error"]) - {"code", "message"}
    assert extra <= EXTRAS.get(body["error"].get("code"), set()), body
    ErrorBody.model_validate(body)
    assert isinstance(body["error"]["message"], str)
    if code is not None:
        assert body["error"]["code"] == code, body
    return dict(body)


def app_routes(settings: Settings) -> list[tuple[str, str, APIRoute]]:
    """(method, path, route) of every API route the app serves, included routers flattened."""

    def walk(routes: list[Any], prefix: str) -> list[tuple[str, str, APIRoute]]:
        out: list[tuple[str, str, APIRoute]] = []
        for route in routes:
            if isinstance(route, APIRoute) and route.include_in_schema:  # not the docs pages
                out += [(m, prefix + route.path_format, route) for m in sorted(route.methods)]
            elif hasattr(route, "original_router"):  # FastAPI >= 0.16x keeps included routers
                context = getattr(route, "include_context", None)
                inner = prefix + (getattr(context, "prefix", "") or "")
                out += walk(list(route.original_router.routes), inner)
        return out

    found = walk(list(create_app(settings).routes), "")
    assert found, "no API routes found"
    return found
