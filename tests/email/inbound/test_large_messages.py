"""Large messages cannot sink the service (issue 7): sixteen 24 MiB messages at once keep
the whole process tree under 400 MB, and each is stored byte for byte and listed.

Past ``data_memory_bytes`` a message goes to a private file in the data dir while it is
received; the spool writer reads it from there, and the file is gone once the message is
committed (or refused, or too big), also when the writer holding it was killed and the
next one stored it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import smtplib
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN
from tests.conftest import Service
from tests.conftest import pg_schema
from tests.conftest import serving
from tests.email.inbound.test_supervision_spool import kill_writer_holding_one
from tests.email.inbound.test_supervision_spool import stored_ids
from tests.email.inbound.test_supervision_spool import write_lock
from tests.processes import end_group
from tests.processes import serve
from tests.processes import tree_pss_mb
from tests.service import HOST
from tests.service import Project
from tests.service import RawSMTP
from tests.service import eventually
from tests.service import new_project
from tests.service import queued_ids
from tests.service import send
from tests.service import simple_message
from tests.service import wait_for

pytestmark = pytest.mark.asyncio(loop_scope="function")

MiB = 1024 * 1024
SENDERS = 16
MESSAGE_BYTES = 24 * MiB
TARGET_MB = 400
SMALL_MEMORY = {"data_memory_bytes": 4096}  # anything larger goes to a file
RCPT = "agent@big.test"


def incoming_files(data_dir: Path) -> list[Path]:
    return sorted(data_dir.glob("incoming-*"))


def large_message(n: int, rcpt: str) -> Iterator[bytes]:
    """A 24 MiB message with a base64 attachment, made (and sent) a MiB at a time."""
    head = (
        f"From: Big <big@example.org>\r\nTo: {rcpt}\r\nSubject: large {n}\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nYour verification code is 482913.\r\n"
        "--b\r\nContent-Type: application/octet-stream\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode()
    tail = b"--b--\r\n"
    yield head
    lines = (MESSAGE_BYTES - len(head) - len(tail)) // 78  # 76 characters and CRLF
    for start in range(0, lines, 13_000):
        block = base64.b64encode(os.urandom(min(13_000, lines - start) * 57))
        yield b"".join(block[i : i + 76] + b"\r\n" for i in range(0, len(block), 76))
    yield tail


def send_large(port: int, rcpt: str, n: int) -> tuple[str, tuple[int, str]]:
    """Send message ``n`` over smtplib, streamed: (its id, (size, SHA-256) of what was
    sent). Base64 lines never start with a dot: nothing to stuff."""
    digest, size = hashlib.sha256(), 0
    with smtplib.SMTP(HOST, port, timeout=300) as smtp:
        smtp.ehlo("client.example")
        assert smtp.mail("big@example.org")[0] == 250
        assert smtp.rcpt(rcpt)[0] == 250
        assert smtp.docmd("DATA")[0] == 354
        for piece in large_message(n, rcpt):
            digest.update(piece)
            size += len(piece)
            smtp.send(piece)
        smtp.send(b".\r\n")
        code, reply = smtp.getreply()
        assert code == 250, reply
    (mid,) = queued_ids(reply.decode())
    return mid, (size, digest.hexdigest())


async def test_sixteen_large_messages_at_once_stay_under_400_mb(
    tmp_path: Path, backend: str
) -> None:
    """The real service (``agentid serve``: its spool writer and parse workers), sixteen
    smtplib clients in threads of this process, which is not part of the tree measured."""
    async with contextlib.AsyncExitStack() as stack:
        schema = await stack.enter_async_context(pg_schema()) if backend == "postgresql" else None
        await sixteen_at_once(tmp_path, schema)


async def sixteen_at_once(tmp_path: Path, schema: str | None) -> None:
    data_dir = tmp_path / "data"
    server = await serve(data_dir, schema, tmp_path / "serve.log")
    headers = {"Authorization": f"Bearer {ADMIN}"}
    loop = asyncio.get_running_loop()
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as http:
            r = await http.post("/projects", json={"id": "big", "domain": "big.test"})
            assert r.status_code == 201, r.text
            assert (await http.post("/projects/big/email/provision")).status_code == 200

            async def listed() -> set[str]:
                r = await http.get("/projects/big/email/inbox", params={"limit": 100})
                return {m["id"] for m in r.json()["messages"]}

            with ThreadPoolExecutor(SENDERS) as threads:
                sending = asyncio.gather(
                    *(
                        loop.run_in_executor(threads, send_large, server.smtp_port, RCPT, n)
                        for n in range(SENDERS)
                    )
                )
                peak = tree_pss_mb(server.proc.pid)
                while not sending.done() or len(await listed()) < SENDERS:
                    peak = max(peak, tree_pss_mb(server.proc.pid))
                    await asyncio.sleep(0.05)
                sent = dict(await sending)
            assert peak < TARGET_MB, f"peak PSS of the process tree: {peak:.0f} MB"
            assert await listed() == set(sent)
            for mid, (size, sha) in sent.items():  # one at a time: the check is not the load
                raw = (await http.get(f"/projects/big/email/messages/{mid}/raw")).content
                assert (len(raw), hashlib.sha256(raw).hexdigest()) == (size, sha), mid
        assert incoming_files(data_dir) == []
    finally:
        end_group(server)


def big_message(rcpt: str, subject: str) -> bytes:
    return simple_message(rcpt, subject, "a line of the message body\r\n" * 4000)


async def raw_of(service: Service, project: Project, mid: str) -> bytes:
    """The stored raw form of a message (once it is listed)."""
    r = await service.http.get(f"/projects/{project.id}/email/messages/{mid}/raw")
    assert r.status_code == 200, r.text
    return r.content


async def test_spooled_file_is_private_and_gone_after_commit(tmp_path: Path, backend: str) -> None:
    async with serving(tmp_path / "data", backend, **SMALL_MEMORY) as (service, schema):
        project = await new_project(service)
        data_dir = service.running.settings.data_dir
        spool = service.running.inbound.spool
        raw = big_message(project.primary, "spooled")
        async with write_lock(service, schema):  # the writer waits: the file must stay
            sending = asyncio.create_task(send(service, [project.primary], raw))
            await eventually(lambda: spool.in_flight == 1, "the writer holds the message")
            (spooled,) = incoming_files(data_dir)
            assert spooled.parent == data_dir
            assert stat.S_IMODE(spooled.stat().st_mode) == 0o600
            assert spooled.read_bytes() == raw
        (mid,) = await asyncio.wait_for(sending, 30)
        assert incoming_files(data_dir) == []  # removed once committed, before the 250
        assert (await wait_for(service, project, mid))["size"] == len(raw)
        assert await raw_of(service, project, mid) == raw


async def test_too_big_answers_552_and_leaves_no_file(tmp_path: Path, backend: str) -> None:
    limits = {**SMALL_MEMORY, "max_message_bytes": 50_000}
    async with serving(tmp_path / "data", backend, **limits) as (service, _):
        project = await new_project(service)
        client = await RawSMTP.open(service.smtp_port)
        try:
            await client.envelope(project.primary)
            await client.write(big_message(project.primary, "too big") + b".\r\n")
            code, text = await client.reply()
            assert code == 552, text
            assert (await client.cmd("NOOP"))[0] == 250  # DATA was read to its end
        finally:
            await client.close()
        assert incoming_files(service.running.settings.data_dir) == []
        assert await stored_ids(service, project) == set()


async def test_writer_killed_holding_a_spooled_message_the_next_stores_it(
    tmp_path: Path, backend: str
) -> None:
    async with serving(tmp_path / "data", backend, **SMALL_MEMORY) as (service, schema):
        project = await new_project(service)
        data_dir = service.running.settings.data_dir
        spool = service.running.inbound.spool
        raw = big_message(project.primary, "held")
        async with write_lock(service, schema):
            sending = asyncio.create_task(send(service, [project.primary], raw))
            await kill_writer_holding_one(spool)
            assert len(incoming_files(data_dir)) == 1  # kept for the second writer
            assert not sending.done()
        (mid,) = await asyncio.wait_for(sending, 30)
        assert incoming_files(data_dir) == []
        assert await stored_ids(service, project) == {mid}
        await wait_for(service, project, mid)
        assert await raw_of(service, project, mid) == raw


async def test_leftovers_of_a_stopped_server_are_removed_on_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    (data_dir / "incoming-left.eml").write_bytes(b"Subject: half received\r\n")
    async with serving(data_dir, "sqlite") as (service, _):
        assert incoming_files(data_dir) == []
        project = await new_project(service)
        (mid,) = await send(service, [project.primary], simple_message(project.primary))
        await wait_for(service, project, mid)
