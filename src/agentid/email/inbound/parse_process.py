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


def _connect(engine: Engine) -> None:
    """Connect and compile the batch's read now, not on the first message (about 10 ms of
    its wait); what every worker would set up alike was done once by the fork server
    (``preloaded``)."""
    from agentid.email.inbound.digest import digest  # preloaded by the fork server

    try:
        digest(engine, [])
    except Exception as exc:  # the store is down: the first batch will say so
        log.info("parse worker started without the store", extra={"error": describe(exc)})


def digest_forever(sock: socket.socket, sync_url: str, schema: str | None) -> None:
    """Process entry point: runs until the server closes its end of the socket."""
    from agentid.store.engines import engine_for_url

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when this ends
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    engine = engine_for_url(sync_url, schema, durable=False)
    _connect(engine)
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
