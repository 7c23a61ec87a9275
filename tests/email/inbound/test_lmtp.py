"""LMTP, as an edge MTA speaks it: LHLO, one reply per accepted recipient after DATA (in
RCPT order, each project's copy stored on its own), the SMTP listener's limits and
smuggling refusals per recipient, and a delivery made again (same queue id) stored once.
Over a TCP port and a unix socket."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from agentid.email.inbound.lmtp import relay_key
from agentid.store.db import create_sync_engine
from tests.conftest import Service
from tests.email.inbound.test_smuggling import smuggling_body
from tests.service import Project
from tests.service import RawSMTP
from tests.service import inbox
from tests.service import listed as listed_in
from tests.service import new_project
from tests.service import queued_ids
from tests.service import simple_message

pytestmark = pytest.mark.asyncio(loop_scope="module")

LIMIT = 64 * 1024


def OVERRIDES(scratch: Path) -> dict[str, Any]:
    # past 8 KiB a message is received into a file: every project's copy is read from it
    return {
        "lmtp_port": 0,
        "lmtp_socket": scratch / "lmtp.sock",
        "max_message_bytes": LIMIT,
        "data_memory_bytes": 8192,
    }


async def lmtp(service: Service) -> RawSMTP:
    client = await RawSMTP.open(service.running.lmtp_port)
    code, text = await client.cmd("LHLO relay.example")
    assert code == 250, text
    return client


async def transaction(client: RawSMTP, rcpts: list[str], raw: bytes) -> list[tuple[int, str]]:
    """MAIL, RCPT for each (all must be accepted), DATA: the replies after the data."""
    assert (await client.cmd("MAIL FROM:<sender@example.org>"))[0] == 250
    for rcpt in rcpts:
        code, reply = await client.cmd(f"RCPT TO:<{rcpt}>")
        assert code == 250, reply
    assert (await client.cmd("DATA"))[0] == 354
    await client.write(raw + b".\r\n")
    return [await client.reply() for _ in rcpts]


def received(queue_id: str) -> bytes:
    return (
        b"Received: from client.example (client.example [192.0.2.1])\r\n"
        b"\tby mx.example.net (Postfix) with ESMTP id " + queue_id.encode() + b";\r\n"
        b"\tFri, 04 Dec 2026 10:00:00 +0000 (UTC)\r\n"
    )


@contextmanager
def refusing(service: Service, project_id: str) -> Iterator[None]:
    """The store itself refuses every message of ``project_id`` (a trigger), as a store
    refuses what breaks a constraint: no retry fixes it."""
    engine = create_sync_engine(service.running.settings)
    name = "refuse_" + project_id.replace("-", "_")
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                conn.execute(text(
                    f"CREATE TRIGGER {name} BEFORE INSERT ON messages"
                    f" WHEN NEW.project_id = '{project_id}'"
                    " BEGIN SELECT RAISE(ABORT, 'refused for the test'); END"
                ))  # fmt: skip
            else:
                conn.execute(text(
                    f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    f" IF NEW.project_id = '{project_id}' THEN RAISE EXCEPTION 'refused for"
                    " the test' USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$"
                ))  # fmt: skip
                conn.execute(text(
                    f"CREATE TRIGGER {name} BEFORE INSERT ON messages"
                    f" FOR EACH ROW EXECUTE FUNCTION {name}()"
                ))  # fmt: skip
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TRIGGER {name}" + ("" if engine.dialect.name == "sqlite"
                                                        else " ON messages")))  # fmt: skip
        engine.dispose()


async def test_relay_key_is_the_top_received_headers_host_and_queue_id() -> None:
    raw = received("4Qx2Yz0abcz1") + b"Received: by other (Postfix) with SMTP id OLD1\r\n\r\nx"
    assert relay_key(raw) == "mx.example.net/4Qx2Yz0abcz1"
    folded = b"Received: from a\r\n by b.example with LMTP id Q1\r\n for <x@y>; date\r\n\r\n"
    assert relay_key(folded) == "b.example/Q1"
    assert relay_key(b"Subject: x\r\n" + received("Q2")) is None  # not the top header
    assert relay_key(b"Received: from a by b; date\r\n\r\n") is None  # no queue id


async def test_lhlo_only(shared: Service) -> None:
    client = await RawSMTP.open(shared.running.lmtp_port)
    try:
        for verb in ("HELO", "EHLO"):
            code, reply = await client.cmd(f"{verb} relay.example")
            assert code == 500 and "LHLO" in reply, reply
        code, reply = await client.cmd("LHLO relay.example")
        assert code == 250 and "8BITMIME" in reply, reply
    finally:
        await client.close()


async def test_one_reply_per_recipient_in_rcpt_order(shared: Service) -> None:
    one, two = await new_project(shared), await new_project(shared)
    rcpts = [f"a@{two.domain}", f"x@{one.domain}", f"b@{two.domain}"]
    client = await lmtp(shared)
    try:
        assert (await client.cmd("MAIL FROM:<sender@example.org>"))[0] == 250
        code, _ = await client.cmd("RCPT TO:<nobody@elsewhere.example>")
        assert code == 550  # refused at RCPT: no reply for it after DATA
        for rcpt in rcpts:
            assert (await client.cmd(f"RCPT TO:<{rcpt}>"))[0] == 250
        assert (await client.cmd("DATA"))[0] == 354
        body = "y" * 70 + "\r\n"
        await client.write(simple_message(rcpts[0], "spooled", body * 300) + b".\r\n")
        replies = [await client.reply() for _ in rcpts]
        assert (await client.cmd("NOOP"))[0] == 250  # nothing more was written
    finally:
        await client.close()
    assert [code for code, _ in replies] == [250, 250, 250], replies
    ids = [queued_ids(reply)[0] for _, reply in replies]
    assert ids[0] == ids[2] != ids[1]  # one copy per project
    for project, mid in ((two, ids[0]), (one, ids[1])):
        assert [m["id"] for m in await inbox(shared, project, wait=10)] == [mid]
        r = await shared.http.get(f"/projects/{project.id}/email/messages/{mid}/raw")
        assert r.content.endswith(b"y" * 70 + b"\r\n") and len(r.content) > 8192
    assert not list(shared.running.settings.data_dir.glob("incoming-*"))  # the file went


@pytest.mark.parametrize("broken_first", [True, False])
async def test_a_recipient_that_cannot_be_stored_fails_alone(
    shared: Service, broken_first: bool
) -> None:
    good, broken = await new_project(shared), await new_project(shared)
    rcpts = [broken.primary, good.primary] if broken_first else [good.primary, broken.primary]
    with refusing(shared, broken.id):
        client = await lmtp(shared)
        try:
            replies = await transaction(client, rcpts, simple_message(good.primary, "split"))
        finally:
            await client.close()
    by_rcpt = dict(zip(rcpts, replies, strict=True))
    assert by_rcpt[good.primary][0] == 250, replies
    assert by_rcpt[broken.primary][0] == 451 and "4.3.0" in by_rcpt[broken.primary][1], replies
    (mid,) = queued_ids(by_rcpt[good.primary][1])
    assert [m["id"] for m in await inbox(shared, good, wait=10)] == [mid]
    assert await inbox(shared, broken) == []


async def test_a_message_over_the_limit_is_refused_for_every_recipient(shared: Service) -> None:
    project = await new_project(shared)
    rcpts = [project.primary, f"other@{project.domain}"]
    big = simple_message(project.primary, "big", "x" * 70 + "\r\n") * (LIMIT // 60)
    client = await lmtp(shared)
    try:
        replies = await transaction(client, rcpts, big)
        assert [code for code, _ in replies] == [552, 552], replies
        replies = await transaction(client, rcpts[:1], simple_message(project.primary, "small"))
        assert replies[0][0] == 250, replies  # the session goes on
    finally:
        await client.close()
    assert [m["subject"] for m in await inbox(shared, project, wait=10)] == ["small"]


@pytest.mark.parametrize("sequence", [b"\n.\n", b"\r\n.\r", b"\r\n\x00.\r\n"], ids=repr)
async def test_smuggling_is_refused_for_every_recipient(shared: Service, sequence: bytes) -> None:
    project = await new_project(shared)
    rcpts = [project.primary, f"second@{project.domain}"]
    client = await lmtp(shared)
    try:
        replies = await transaction(client, rcpts, smuggling_body(project, sequence)[:-3])
        code, reply = await client.cmd("QUIT")
        assert code == 221, f"a smuggled command was answered: {reply!r}"
    finally:
        await client.close()
    assert [code for code, _ in replies] == [550, 550], replies
    assert await inbox(shared, project) == []


async def test_a_delivery_made_again_is_stored_once(shared: Service) -> None:
    project = await new_project(shared)
    second = f"second@{project.domain}"
    raw = received("Q" + secrets.token_hex(6).upper()) + simple_message(project.primary, "once")
    client = await lmtp(shared)
    try:
        (first,) = await transaction(client, [project.primary], raw)
        (again,) = await transaction(client, [project.primary], raw)
        both = await transaction(client, [project.primary, second], raw)
    finally:
        await client.close()
    assert first[0] == again[0] == 250, (first, again)
    (mid,) = queued_ids(first[1])
    assert queued_ids(again[1]) == [mid]  # acknowledged as what was stored
    assert [code for code, _ in both] == [250, 250], both
    listed = await listed_in(shared, project, 2)
    newer = [m for m in listed if m["id"] != mid]
    assert [m["id"] for m in listed if m["id"] == mid] == [mid]
    assert len(newer) == 1 and newer[0]["to"] == [second]  # only the one not delivered before


async def test_over_a_unix_socket(shared: Service) -> None:
    project: Project = await new_project(shared)
    socket_path = shared.running.settings.lmtp_socket
    assert socket_path is not None and oct(socket_path.stat().st_mode & 0o777) == "0o660"
    client = await RawSMTP.open_unix(str(socket_path))
    try:
        assert (await client.cmd("LHLO relay.example"))[0] == 250
        (reply,) = await transaction(client, [project.primary], simple_message(project.primary))
    finally:
        await client.close()
    assert reply[0] == 250, reply
    assert [m["id"] for m in await inbox(shared, project, wait=10)] == queued_ids(reply[1])
