"""Hostile clients: overlong and garbage commands, commands out of order, a client that
leaves in the middle of DATA, and many connections at once. The server stays fine."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import Service
from tests.service import Project
from tests.service import RawSMTP
from tests.service import inbox
from tests.service import new_project
from tests.service import send
from tests.service import simple_message
from tests.service import wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def still_serving(service: Service, project: Project) -> str:
    """A normal message goes through and shows up (and so does anything sent before it)."""
    (mid,) = await send(service, [project.primary], simple_message(project.primary))
    await wait_for(service, project, mid)
    r = await service.http.get("/healthz")
    assert r.status_code == 200, r.text
    return mid


async def test_overlong_command_line(shared: Service) -> None:
    project = await new_project(shared)
    client = await RawSMTP.open(shared.smtp_port)
    try:
        assert (await client.cmd("EHLO client.example"))[0] == 250
        code, text = await client.cmd(b"MAIL FROM:<" + b"a" * 5000 + b"@example.org>")
        assert code == 500, text
        code, text = await client.cmd(b"NOOP " + b"x" * 100_000)
        assert code == 500, text
        code, text = await client.cmd(f"RCPT TO:<{'r' * 400}@{project.domain}>")
        assert code in (500, 501, 503, 553), text
        assert (await client.cmd("NOOP"))[0] == 250
    finally:
        await client.close()
    await still_serving(shared, project)


async def test_garbage_commands(shared: Service) -> None:
    project = await new_project(shared)
    client = await RawSMTP.open(shared.smtp_port)
    try:
        for line in (
            b"HELLO",
            b"\xff\xfe\xfd",
            b"MAIL",
            b"RCPT TO",
            b"",
            b"   ",
            b"\x1b[2J",
            b"GET / HTTP/1.1",
        ):
            code, text = await client.cmd(line)
            assert 500 <= code < 600 or code == 0, (line, text)
            if code == 0:
                break
    finally:
        await client.close()
    await still_serving(shared, project)


async def test_commands_out_of_order(shared: Service) -> None:
    project = await new_project(shared)
    client = await RawSMTP.open(shared.smtp_port)
    try:
        assert (await client.cmd("EHLO client.example"))[0] == 250
        code, text = await client.cmd(f"RCPT TO:<{project.primary}>")
        assert code == 503, text  # RCPT before MAIL
        code, text = await client.cmd("DATA")
        assert code == 503, text  # DATA before MAIL
        assert (await client.cmd("MAIL FROM:<sender@example.org>"))[0] == 250
        code, text = await client.cmd("MAIL FROM:<again@example.org>")
        assert code == 503, text  # nested MAIL
        code, text = await client.cmd("DATA")
        assert code == 503, text  # DATA before RCPT
        assert (await client.cmd("RSET"))[0] == 250
        code, text = await client.cmd(f"RCPT TO:<{project.primary}>")
        assert code == 503, text  # RSET forgot the sender
    finally:
        await client.close()
    mid = await still_serving(shared, project)
    assert [m["id"] for m in await inbox(shared, project)] == [mid]


async def test_no_greeting_needed_before_disconnect(shared: Service) -> None:
    project = await new_project(shared)
    for _ in range(5):
        client = await RawSMTP.open(shared.smtp_port, greet=False)
        await client.close()
    await still_serving(shared, project)


@pytest.mark.parametrize("cut", ["headers", "body", "before-dot", "after-dot-no-crlf"])
async def test_disconnect_mid_data_stores_nothing(shared: Service, cut: str) -> None:
    project = await new_project(shared)
    message = simple_message(project.primary, "cut", "line\r\n" * 200)
    partial = {
        "headers": message[:30],
        "body": message[: len(message) // 2],
        "before-dot": message,
        "after-dot-no-crlf": message + b".",
    }[cut]
    client = await RawSMTP.open(shared.smtp_port)
    await client.envelope(project.primary)
    await client.write(partial)
    client.writer.transport.abort()  # a reset, not a polite close
    mid = await still_serving(shared, project)
    assert [m["id"] for m in await inbox(shared, project, limit=500)] == [mid]


async def test_many_connections_at_once(shared: Service) -> None:
    project = await new_project(shared)
    idle = [await RawSMTP.open(shared.smtp_port) for _ in range(50)]  # held open, silent
    try:

        async def talk(i: int) -> None:
            client = await RawSMTP.open(shared.smtp_port)
            try:
                await client.envelope(f"m{i}@{project.domain}")
                await client.write(simple_message(f"m{i}@{project.domain}", f"n{i}") + b".\r\n")
                code, text = await client.reply()
                assert code == 250, text
                assert (await client.cmd("QUIT"))[0] == 221
            finally:
                await client.close()

        await asyncio.gather(*(talk(i) for i in range(100)))
    finally:
        for client in idle:
            await client.close()
    mid = await still_serving(shared, project)
    entries = await inbox(shared, project, limit=500)
    assert entries[0]["id"] == mid
    assert sorted(e["subject"] for e in entries[1:]) == sorted(f"n{i}" for i in range(100))
