"""A parse worker process: batches of message ids in, digested into the store, results out.

In: ``(ids, Terms)``. Out, in order: ``("begin", id)`` before each message is read (so the
server knows which message overran its budget if this process has to be ended), then
``("storing", n)``, then one of ``("stored", [Digested])``, ``("transient", reason)`` (the
store failed for a reason that passes, such as a locked database, a full disk or a lost
connection; nothing was written) or ``("failed", reason)`` (anything else).
"""

from __future__ import annotations

import logging
import signal
import socket
from dataclasses import dataclass

from sqlalchemy import Engine

from agentid.email.inbound import frames
from agentid.mime import Limits
from agentid.store.engines import describe, transient
from agentid.store.notices import Notifier

log = logging.getLogger("agentid.parse")

# A message like those agents wait for (text and HTML, a code, a link), digested in memory
# when a worker starts so the first real message does not pay for first calls
_WARM_UP = (
    b"From: Shop <no-reply@shop.example>\r\nTo: agent@project.example\r\n"
    b"Subject: Your code is 482913\r\nMessage-ID: <warm-up@shop.example>\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
    b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Your verification code is 482913.\r\nhttps://shop.example/verify?token=k3f9x2\r\n"
    b"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    b"<p>Your verification code is <b>482913</b>.</p>"
    b'<a href="https://shop.example/verify?token=k3f9x2">Verify</a>\r\n--b--\r\n'
)


@dataclass(frozen=True, slots=True)
class Terms:
    """How a server's parse workers digest, the same for every batch (``digest``)."""

    limits: Limits
    authserv_id: str
    owner: str  # the server's node: only the messages it owns are read and stored
    notifier: Notifier | None  # other processes to NOTIFY at the commit


def digest_reporting(
    engine: Engine, sock: socket.socket, ids: list[str], terms: Terms
) -> tuple[str, object]:
    def begin(message_id: str) -> None:
        frames.send(sock, ("begin", message_id))

    def storing(count: int) -> None:
        frames.send(sock, ("storing", count))

    from agentid.email.inbound.digest import digest  # preloaded by the fork server

    try:
        done = digest(
            engine,
            ids,
            terms.limits,
            authserv_id=terms.authserv_id,
            begin=begin,
            storing=storing,
            notifier=terms.notifier,
            owner=terms.owner,
        )
        return "stored", done
    except Exception as exc:
        reason = describe(exc)
        if transient(exc):
            engine.dispose()  # its connections may be dead
            return "transient", reason
        log.exception("digest failed")
        return "failed", reason


def warm_up(engine: Engine) -> None:
    """Pay a new worker's first-message costs before any mail waits on them: connecting,
    compiling the batch's read (about 10 ms the first time), one parse and extraction."""
    from agentid.email.inbound.digest import digest
    from agentid.email.inbound.parse import parse_message

    try:
        digest(engine, [])
    except Exception as exc:  # the store is down: the first batch will say so
        log.info("parse worker warm-up without the store", extra={"error": describe(exc)})
    parse_message(_WARM_UP)


def digest_forever(sock: socket.socket, sync_url: str, schema: str | None) -> None:
    """Process entry point: runs until the server closes its end of the socket."""
    from agentid.store.engines import engine_for_url

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when this ends
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    engine = engine_for_url(sync_url, schema, durable=False)
    warm_up(engine)
    try:
        while True:
            ok, request = frames.recv(sock)
            if not ok:
                return
            ids, terms = request
            frames.send(sock, digest_reporting(engine, sock, ids, terms))
    except (BrokenPipeError, ConnectionError):
        return
    finally:
        engine.dispose()
        sock.close()
