"""No client can sink the service: connection caps, a command timeout that NOOP does not
extend, junk-command and error limits per session, one log line per session they end, and
none of it in the way of senders that deliver mail (any number of messages per session,
20 sessions in parallel from one address)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import resource
import shutil
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from collections.abc import Iterator
from contextlib import asynccontextmanager
from contextlib import contextmanager
from contextlib import suppress
from pathlib import Path

import pytest

from agentid.email.inbound.replies import QUEUED_AS
from agentid.email.inbound.replies import RECIPIENT_OK
from agentid.email.inbound.replies import START_DATA
from agentid.email.inbound.replies import TIMED_OUT
from agentid.email.inbound.replies import TOO_MANY_CONNECTIONS
from agentid.email.inbound.replies import TOO_MANY_ERRORS
from agentid.email.inbound.replies import TOO_MANY_FROM_CLIENT
from agentid.email.inbound.replies import TOO_MANY_JUNK_COMMANDS
from agentid.email.inbound.routing import RELAY_DENIED
from tests.conftest import Service
from tests.conftest import start_service
from tests.service import HOST
from tests.service import RawSMTP
from tests.service import new_project
from tests.service import queued_ids
from tests.service import simple_message

pytestmark = pytest.mark.asyncio(loop_scope="module")

# The per-client cap applies to loopback clients too in this module.
OVERRIDES = {"smtp_connection_limit_exceptions": []}

FLOOD = 1100
DESCRIPTORS = 1024
OTHER_CLIENT = "127.0.0.2"
SMTP_LOG = "agentid.smtp"
SESSION_ENDED = "SMTP session ended"

# Opens argv[2] connections to 127.0.0.1:argv[1] from the addresses in argv[3] (in turn),
# keeps those greeted 220, prints how many got each greeting and holds them until stdin
# closes. A process of its own: the test process may hold only DESCRIPTORS descriptors.
FLOOD_SCRIPT = """
import json, resource, socket, sys
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
port, count, sources = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(",")
held, codes = [], {}
for n in range(count):
    s = socket.socket()
    s.settimeout(30)
    s.bind((sources[n % len(sources)], 0))
    s.connect(("127.0.0.1", port))
    greeting = b""
    while not greeting.endswith(b"\\n"):
        chunk = s.recv(512)
        if not chunk:
            break
        greeting += chunk
    code = greeting[:3].decode() or "closed"
    codes[code] = codes.get(code, 0) + 1
    if code == "220":
        held.append(s)
    else:
        s.close()
print(json.dumps(codes), flush=True)
sys.stdin.read()
"""


@contextmanager
def descriptor_limit(soft: int) -> Iterator[None]:
    """This process's open-file soft limit lowered to ``soft`` (the service runs in it)."""
    saved = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, saved[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, saved)


@asynccontextmanager
async def flood(port: int, count: int, sources: list[str]) -> AsyncIterator[Counter[str]]:
    """``count`` idle connections held open by another process; how they were greeted."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        FLOOD_SCRIPT,
        str(port),
        str(count),
        ",".join(sources),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 120)
        assert line, "the flood process died"
        yield Counter(json.loads(line))
    finally:
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def open_from(source: str, port: int) -> tuple[RawSMTP, int, str]:
    """A raw client connected from ``source``, and its greeting."""
    reader, writer = await asyncio.open_connection(HOST, port, local_addr=(source, 0))
    client = RawSMTP(reader, writer)
    code, text = await client.reply()
    return client, code, text


async def deliver(client: RawSMTP, rcpt: str, subject: str) -> str:
    """One transaction on an open session; the queued id."""
    assert (await client.cmd("MAIL FROM:<sender@example.org>"))[0] == 250
    assert await client.cmd(f"RCPT TO:<{rcpt}>") == (250, RECIPIENT_OK)
    assert await client.cmd("DATA") == (354, START_DATA)
    await client.write(simple_message(rcpt, subject) + b".\r\n")
    code, text = await client.reply()
    assert code == 250, text
    (mid,) = queued_ids(text)
    return mid


async def until_closed(client: RawSMTP) -> None:
    """The server hangs up (EOF, or a reset: it may close with our commands unread)."""
    with suppress(ConnectionError):
        assert await client.reply() == (0, "")


def ended(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == SMTP_LOG and r.getMessage() == SESSION_ENDED]


def logged_at_info(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == SMTP_LOG and r.levelno >= logging.INFO]


async def test_junk_commands_end_the_session(
    shared: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=SMTP_LOG)
    client = await RawSMTP.open(shared.smtp_port)
    try:
        code, text = await client.cmd("HELP")
        assert code == 250 and {"DATA", "MAIL", "NOOP"} <= set(text.split()), text
        for n in range(1, 100):  # HELP was the first of the hundred allowed
            command = ("NOOP", "RSET", "VRFY <someone@example.org>", "HELP", "EHLO c.example")
            code, text = await client.cmd(command[n % 5])
            assert code in (250, 252), (n, text)
        assert await client.cmd("NOOP") == (421, TOO_MANY_JUNK_COMMANDS)
        await until_closed(client)
    finally:
        await client.close()
    (record,) = ended(caplog)
    assert record.reason == "too many junk commands"  # type: ignore[attr-defined]


async def test_refused_recipients_end_the_session(
    shared: Service, caplog: pytest.LogCaptureFixture
) -> None:
    """20,000 refused RCPTs are not allowed: the 21st error is a 421, and the session's one
    log line says why (no line per refusal)."""
    caplog.set_level(logging.INFO, logger=SMTP_LOG)
    client = await RawSMTP.open(shared.smtp_port)
    try:
        assert (await client.cmd("EHLO client.example"))[0] == 250
        assert (await client.cmd("MAIL FROM:<sender@example.org>"))[0] == 250
        replies = []
        for n in range(20_000):
            code, text = await client.cmd(f"RCPT TO:<r{n}@not-hosted.example>")
            replies.append(text)
            if code != 550:
                break
        assert replies == [RELAY_DENIED.reply] * 20 + [TOO_MANY_ERRORS]
        await until_closed(client)
    finally:
        await client.close()
    (record,) = logged_at_info(caplog)
    assert record.getMessage() == SESSION_ENDED
    assert record.reason == "too many errors"  # type: ignore[attr-defined]


async def test_pipelined_refused_recipients_are_not_all_read(
    shared: Service, caplog: pytest.LogCaptureFixture
) -> None:
    """Written in one go, 20,000 RCPTs still cost the server 21 lookups and one log line."""
    caplog.set_level(logging.DEBUG, logger=SMTP_LOG)
    client = await RawSMTP.open(shared.smtp_port)
    commands = b"EHLO client.example\r\nMAIL FROM:<sender@example.org>\r\n" + b"".join(
        b"RCPT TO:<r%d@not-hosted.example>\r\n" % n for n in range(20_000)
    )
    try:
        with suppress(ConnectionError, TimeoutError):
            await asyncio.wait_for(client.write(commands), 10)
        with suppress(ConnectionError):
            while (await client.reply())[0]:
                pass
    finally:
        await client.close()
    deadline = time.monotonic() + 10
    while len(shared.running.inbound.connections) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    refused = [r for r in caplog.records if r.getMessage() == "recipient refused"]
    assert len(refused) == 21
    assert all(r.levelno == logging.DEBUG for r in refused)
    (record,) = logged_at_info(caplog)
    assert record.reason == "too many errors"  # type: ignore[attr-defined]


async def test_many_messages_in_one_session(
    shared: Service, caplog: pytest.LogCaptureFixture
) -> None:
    """200 transactions, each after an RSET, a NOOP and a refused recipient: 400 junk
    commands and 200 errors in one session, never ended, since each message forgives."""
    caplog.set_level(logging.INFO, logger=SMTP_LOG)
    project = await new_project(shared)
    client = await RawSMTP.open(shared.smtp_port)
    ids = []
    try:
        assert (await client.cmd("EHLO client.example"))[0] == 250
        for n in range(200):
            assert (await client.cmd("RSET"))[0] == 250
            assert (await client.cmd("NOOP"))[0] == 250
            assert (await client.cmd("MAIL FROM:<sender@example.org>"))[0] == 250
            assert await client.cmd("RCPT TO:<x@not-hosted.example>") == (550, RELAY_DENIED.reply)
            assert await client.cmd(f"RCPT TO:<m{n}@{project.domain}>") == (250, RECIPIENT_OK)
            assert await client.cmd("DATA") == (354, START_DATA)
            await client.write(simple_message(project.primary, f"n{n}") + b".\r\n")
            code, text = await client.reply()
            assert code == 250, (n, text)
            assert text == QUEUED_AS.format(ids=queued_ids(text)[0])
            ids.append(queued_ids(text)[0])
        assert (await client.cmd("QUIT"))[0] == 221
    finally:
        await client.close()
    assert len(set(ids)) == 200
    assert ended(caplog) == []


@pytest.mark.parametrize("reuse", ["-d", None])
async def test_smtp_source_sessions_in_parallel(shared: Service, reuse: str | None) -> None:
    """``smtp-source -d -s 20`` (20 sessions from one address, each sending message after
    message) and its one-message-per-session form are never refused."""
    if shutil.which("smtp-source") is None:
        reason = "needs Postfix's smtp-source (`make bench-tools` installs it)"
        if os.environ.get("AGENTID_REQUIRE_EXTERNAL") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    project = await new_project(shared)
    spool = shared.running.inbound.spool
    before = spool.messages
    tool = shutil.which("smtp-source")
    assert tool is not None
    args = [tool, *([reuse] if reuse else []), "-s", "20", "-m", "400", "-l", "2048"]
    args += ["-f", "sender@example.org", "-t", project.primary, f"{HOST}:{shared.smtp_port}"]
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    assert spool.messages - before == 400


async def test_command_timeout_not_extended_by_noop(tmp_path: Path) -> None:
    timeout = 1.5
    async with start_service(tmp_path / "data", smtp_command_timeout_seconds=timeout) as service:
        # silent: 421 once the time is up
        client = await RawSMTP.open(service.smtp_port)
        started = time.monotonic()
        try:
            assert await client.reply(timeout=timeout * 4) == (421, TIMED_OUT)
            assert time.monotonic() - started >= timeout * 0.9
            await until_closed(client)
        finally:
            await client.close()

        # a NOOP every so often does not keep it open
        client = await RawSMTP.open(service.smtp_port)
        started = time.monotonic()
        noops = 0
        try:
            while True:
                code, text = await client.cmd("NOOP")
                if code == 421:  # the time ran out just as the pause ended (a late wake-up)
                    assert text == TIMED_OUT
                    break
                assert code == 250
                noops += 1
                with suppress(TimeoutError):  # a pause, or the 421 coming in meanwhile
                    assert await client.reply(timeout=timeout / 5) == (421, TIMED_OUT)
                    break
            assert noops >= 3
            assert timeout * 0.9 <= time.monotonic() - started < timeout * 2
            await until_closed(client)
        finally:
            await client.close()

        # MAIL, RCPT and DATA restart the clock: three pauses of half the timeout, together
        # longer than it, with room for a late wake-up in each
        project = await new_project(service)
        client = await RawSMTP.open(service.smtp_port)
        try:
            assert (await client.cmd("EHLO client.example"))[0] == 250
            await asyncio.sleep(timeout * 0.5)
            assert (await client.cmd("MAIL FROM:<sender@example.org>"))[0] == 250
            await asyncio.sleep(timeout * 0.5)
            assert (await client.cmd(f"RCPT TO:<{project.primary}>"))[0] == 250
            await asyncio.sleep(timeout * 0.5)
            assert (await client.cmd("DATA"))[0] == 354
            await client.write(simple_message(project.primary) + b".\r\n")
            assert (await client.reply())[0] == 250
            assert await client.reply(timeout=timeout * 4) == (421, TIMED_OUT)
        finally:
            await client.close()


async def test_flood_from_one_address_leaves_others_served(tmp_path: Path) -> None:
    """1,100 idle connections from 127.0.0.1 under a 1,024-descriptor limit: 50 get a
    session, the rest 421; the API answers and another address gets its mail through."""
    with descriptor_limit(DESCRIPTORS):
        async with (
            start_service(tmp_path / "data", smtp_connection_limit_exceptions=[]) as service,
            flood(service.smtp_port, FLOOD, [HOST]) as greeted,
        ):
            assert greeted == {"220": 50, "421": FLOOD - 50}
            assert len(service.running.inbound.connections) == 50
            r = await service.http.get("/healthz")
            assert r.status_code == 200, r.text
            project = await new_project(service)
            client, code, text = await open_from(OTHER_CLIENT, service.smtp_port)
            try:
                assert code == 220, text
                assert (await client.cmd("EHLO client.example"))[0] == 250
                await deliver(client, project.primary, "through")
            finally:
                await client.close()
            client = await RawSMTP.open(service.smtp_port, greet=False)
            try:
                assert await client.reply() == (421, TOO_MANY_FROM_CLIENT)
            finally:
                await client.close()


async def test_global_cap_keeps_descriptors_for_the_api(tmp_path: Path) -> None:
    """The same flood with the per-client cap out of the way (loopback is exempt by
    default): half the descriptor limit in sessions, the rest refused, the API fine."""
    with descriptor_limit(DESCRIPTORS):
        async with start_service(tmp_path / "data") as service:
            cap = DESCRIPTORS // 2
            connections = service.running.inbound.connections
            assert connections.total == cap
            async with flood(service.smtp_port, FLOOD, [HOST]) as greeted:
                assert greeted == {"220": cap, "421": FLOOD - cap}
                r = await service.http.get("/healthz")
                assert r.status_code == 200, r.text
                client, code, text = await open_from(OTHER_CLIENT, service.smtp_port)
                await client.close()
                assert (code, text) == (421, TOO_MANY_CONNECTIONS)
            deadline = time.monotonic() + 10
            while len(connections) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert len(connections) == 0
            client, code, text = await open_from(OTHER_CLIENT, service.smtp_port)
            await client.close()
            assert code == 220, text
