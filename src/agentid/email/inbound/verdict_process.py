"""The verdict checker process: the verdict stage (``verdicts.py``) away from the server.

DNS lookups, dkimpy, pyspf, DMARC and the public suffix list are Python code that holds
an interpreter's lock; in the server's threads they took its event loop's turns during a
flood and slowed every wait. Here they run in a process of their own, forked from the
same fork server as the parse workers.

In: lists of ``Pending`` (digested messages to check). Out: lists of the ``Signal`` of
each ``message.authenticated`` event committed, for the server's own listeners (the other
processes of a cluster heard of it from the commit: ``notifier``). The process ends when
the server closes its end of the socket, after writing the verdicts it has; whatever it
had not checked is checked again by the next one (the stage's recovery at start).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket

from agentid.config import Settings
from agentid.email.inbound import frames
from agentid.email.inbound.verdicts import VerdictStage
from agentid.events import Signal
from agentid.store.notices import Notifier

# Below the server and the parse workers: when mail comes faster than the machine can both
# take it and check it, taking it wins, and the checks that miss their deadline are
# temperror (as a stage behind on DNS makes them), never a slower SMTP or HTTP answer.
NICENESS = 10


def check_forever(sock: socket.socket, settings: Settings, notifier: Notifier | None) -> None:
    """Process entry point: runs until the server closes its end of the socket."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when this ends
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.nice(NICENESS)
    asyncio.run(_serve(sock, settings, notifier))


async def _serve(sock: socket.socket, settings: Settings, notifier: Notifier | None) -> None:
    reader, writer = await asyncio.open_unix_connection(sock=sock)

    def publish(signals: list[Signal]) -> None:
        if not writer.is_closing():
            frames.write(writer, signals)

    stage = VerdictStage(settings, publish, notifier)
    await stage.start()
    try:
        while True:
            stage.queue(await frames.read(reader))
    except (asyncio.IncompleteReadError, ConnectionError):
        pass  # the server closed its end: stop
    finally:
        await stage.stop()
        writer.close()
