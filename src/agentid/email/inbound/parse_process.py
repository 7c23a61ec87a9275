"""A parse worker process: batches of message ids in, digested into the store, results out.

In: ``(ids, Terms)``. Out, in order: ``("begin", (id, cpu, at))`` before each message is
read, with this process's CPU time and the monotonic clock then, and ``("storing", n)``
before the write: so the server knows which message overran its budget if this process has
to be ended, and measures it from when reading began, however late it reads the frame.
Then one of ``("stored", [Digested])``, ``("overran", id)`` (a message read in full was
over the budget; nothing was written), ``("transient", reason)`` (the store failed for a
reason that passes, such as a locked database, a full disk or a lost connection; nothing
was written) or ``("failed", reason)`` (anything else).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from dataclasses import dataclass

from sqlalchemy import Engine

from agentid.email.inbound import frames
from agentid.mime import Limits
from agentid.store.engines import describe
from agentid.store.engines import transient
from agentid.store.notices import Notifier

log = logging.getLogger("agentid.parse")


@dataclass(frozen=True, slots=True)
class Terms:
    """How a server's parse workers digest, the same for every batch (``digest``)."""

    limits: Limits
    authserv_id: str
    owner: str  # the server's node: only the messages it owns are read and stored
    notifier: Notifier | None  # other processes to NOTIFY at the commit
    budget: float  # seconds of CPU time a message may take (digest_budget_seconds)


class OverBudget(Exception):
    """A message this process read in full spent more CPU time than the budget."""

    def __init__(self, message_id: str) -> None:
        super().__init__(message_id)
        self.message_id = message_id


def digest_reporting(
    engine: Engine, sock: socket.socket, ids: list[str], terms: Terms
) -> tuple[str, object]:
    reading: tuple[str, float] | None = None  # the message being read, and the CPU time then

    def read_within_budget() -> None:
        """The server ends a worker over the budget, when it looks; one that finished a
        message between two looks (the server was busy) flags it itself, storing
        nothing of the batch, so that the budget holds however late the server looks."""
        if reading is not None and _cpu_seconds() - reading[1] >= terms.budget:
            raise OverBudget(reading[0])

    def begin(message_id: str) -> None:
        nonlocal reading
        read_within_budget()
        reading = (message_id, _cpu_seconds())
        frames.send(sock, ("begin", (*reading, time.monotonic())))

    def storing(count: int) -> None:
        read_within_budget()
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
    except OverBudget as over:
        return "overran", over.message_id
    except Exception as exc:
        reason = describe(exc)
        if transient(exc):
            engine.dispose()  # its connections may be dead
            return "transient", reason
        log.exception("digest failed")
        return "failed", reason


def _cpu_seconds() -> float:
    """This process's CPU time, in the clock ticks the server reads from ``/proc``."""
    spent = os.times()
    return spent.user + spent.system


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
