"""SMTP smuggling: an end-of-data lookalike in the body never ends the message early.

The bodies are written as raw bytes (smtplib and aiosmtplib would fix the line endings).
By default a bare CR or LF (or a NUL) refuses the message; with ``bare_line_endings =
normalize`` the message is taken, once, with its line endings fixed.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.conftest import Service
from tests.conftest import pg_schema
from tests.conftest import start_service
from tests.service import Project
from tests.service import RawSMTP
from tests.service import inbox
from tests.service import new_project
from tests.service import queued_ids
from tests.service import send
from tests.service import simple_message
from tests.service import wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

SEQUENCES = [
    b"\n.\n",
    b"\n.\r",
    b"\r.\n",
    b"\r.\r",
    b"\n.\r\n",
    b"\r.\r\n",
    b"\r\n\x00.\r\n",
    b"\r\n.\n",
    b"\r\n.\r",
]
BARE = re.compile(rb"\r(?!\n)|(?<!\r)\n")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def normalizing(
    module_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Service]:
    data = tmp_path_factory.mktemp("normalize") / "data"
    if module_backend == "postgresql":
        async with (
            pg_schema() as schema,
            start_service(data, schema, bare_line_endings="normalize") as s,
        ):
            yield s
    else:
        async with start_service(data, bare_line_endings="normalize") as s:
            yield s


def smuggling_body(project: Project, sequence: bytes) -> bytes:
    return (
        f"From: a@example.org\r\nTo: {project.primary}\r\nSubject: outer\r\n\r\n".encode()
        + b"first part"
        + sequence
        + f"MAIL FROM:<evil@x>\r\nRCPT TO:<victim@{project.domain}>\r\nDATA\r\n".encode()
        + f"From: evil@x\r\nTo: victim@{project.domain}\r\nSubject: smuggled\r\n\r\n".encode()
        + b"evil\r\n.\r\n"
    )


async def conversation(service: Service, project: Project, sequence: bytes) -> tuple[int, str]:
    """The DATA reply; asserts the server sent nothing else before QUIT's 221."""
    client = await RawSMTP.open(service.smtp_port)
    try:
        await client.envelope(project.primary)
        await client.write(smuggling_body(project, sequence))
        reply = await client.reply()
        code, text = await client.cmd("QUIT")
        assert code == 221, f"a smuggled command was answered: {text!r}"
        assert await client.reader.read() == b""
    finally:
        await client.close()
    return reply


async def barrier(service: Service, project: Project) -> str:
    """Send a message and wait for it: whatever was accepted before is visible now."""
    (mid,) = await send(service, [project.primary], simple_message(project.primary))
    await wait_for(service, project, mid)
    return mid


@pytest.mark.parametrize("sequence", SEQUENCES, ids=repr)
async def test_refused(shared: Service, sequence: bytes) -> None:
    project = await new_project(shared)
    code, text = await conversation(shared, project, sequence)
    assert code == 550, text
    if b"\x00" in sequence:
        assert "5.6.0" in text, text
    else:
        assert "5.5.2" in text, text
    mid = await barrier(shared, project)
    assert [m["id"] for m in await inbox(shared, project, limit=500)] == [mid]


@pytest.mark.parametrize("sequence", SEQUENCES, ids=repr)
async def test_normalized_to_one_message(normalizing: Service, sequence: bytes) -> None:
    project = await new_project(normalizing)
    code, text = await conversation(normalizing, project, sequence)
    assert code == 250, text
    (mid,) = queued_ids(text)
    message = await wait_for(normalizing, project, mid)
    assert message["subject"] == "outer"
    assert message["to"] == [project.primary]
    assert message["mail_from"] == "sender@example.org"
    r = await normalizing.http.get(f"/projects/{project.id}/email/messages/{mid}/raw")
    raw = r.content
    assert not BARE.search(raw) and b"\x00" not in raw, raw
    assert b"MAIL FROM:<evil@x>\r\n" in raw
    assert b"first part" in raw
    assert len(raw) == message["size"]
    after = await barrier(normalizing, project)
    assert [m["id"] for m in await inbox(normalizing, project, limit=500)] == [after, mid]


async def test_stuffed_dot_lines_kept(shared: Service) -> None:
    """A dot-stuffed line is unstuffed once; a '..' line is not a terminator."""
    project = await new_project(shared)
    client = await RawSMTP.open(shared.smtp_port)
    try:
        await client.envelope(project.primary)
        await client.write(
            simple_message(project.primary, "dots", "..\r\n...x\r\n. \r\nend\r\n") + b".\r\n"
        )
        code, text = await client.reply()
        assert code == 250, text
    finally:
        await client.close()
    (mid,) = queued_ids(text)
    await wait_for(shared, project, mid)
    raw = (await shared.http.get(f"/projects/{project.id}/email/messages/{mid}/raw")).content
    assert raw.endswith(b"\r\n\r\n.\r\n..x\r\n \r\nend\r\n"), raw


async def test_end_marker_split_across_writes(shared: Service) -> None:
    """The end of data arrives a byte at a time (and a body line starting with a dot)."""
    project = await new_project(shared)
    client = await RawSMTP.open(shared.smtp_port)
    try:
        await client.envelope(project.primary)
        body = simple_message(project.primary, "split", "a\r\n..b\r\nc")
        for piece in (body[:7], body[7:-1], body[-1:], b"\r", b"\n", b".", b"\r", b"\n"):
            await client.write(piece)
            await asyncio.sleep(0.01)  # separate segments for the reader
        code, text = await client.reply()
        assert code == 250, text
        assert (await client.cmd("NOOP"))[0] == 250
    finally:
        await client.close()
    (mid,) = queued_ids(text)
    await wait_for(shared, project, mid)
    raw = (await shared.http.get(f"/projects/{project.id}/email/messages/{mid}/raw")).content
    assert raw == body.replace(b"..b", b".b") + b"\r\n"


async def test_first_line_dot_stuffed_and_empty_message(shared: Service) -> None:
    project = await new_project(shared)
    client = await RawSMTP.open(shared.smtp_port)
    try:
        await client.envelope(project.primary)
        await client.write(b"..starts with a dot\r\n.\r\n")
        code, text = await client.reply()
        assert code == 250, text
        (mid,) = queued_ids(text)
        # an empty message: refused or taken, but the conversation stays in step
        await client.envelope(project.primary)
        await client.write(b".\r\n")
        code, text = await client.reply()
        assert code == 250 or 500 <= code < 600, text
        assert (await client.cmd("NOOP"))[0] == 250
    finally:
        await client.close()
    await wait_for(shared, project, mid)
    raw = (await shared.http.get(f"/projects/{project.id}/email/messages/{mid}/raw")).content
    assert raw == b".starts with a dot\r\n"
