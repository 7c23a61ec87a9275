"""The spool's writer process: batches in over a socket, one durable commit each, acks out.

Frames both ways are an 8-byte big-endian length and a pickle: a ``Batch`` in, ``None``
(committed) or an error string out. Only agentid's own process talks to this socket.
"""

from __future__ import annotations

import logging
import pickle
import signal
import socket
import struct
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert

from agentid.store.tables import Message, MessageRaw, MessageRecipient, table_of

log = logging.getLogger("agentid.spool")
FRAME = struct.Struct("!Q")


@dataclass(slots=True)
class Batch:
    messages: list[dict[str, Any]]
    raws: list[dict[str, Any]]
    recipients: list[dict[str, Any]]


def write_batch(engine: Engine, batch: Batch) -> None:
    with engine.begin() as conn:
        conn.execute(insert(table_of(Message)), batch.messages)
        conn.execute(insert(table_of(MessageRaw)), batch.raws)
        conn.execute(insert(table_of(MessageRecipient)), batch.recipients)


def _recv_exactly(sock: socket.socket, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def write_forever(sock: socket.socket, sync_url: str, schema: str | None) -> None:
    """Process entry point: runs until the server closes its end of the socket."""
    from agentid.store.db import engine_for_url

    # The server decides when to stop (it closes the socket once all is committed);
    # a Ctrl-C at the terminal must not kill a commit half-way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    engine = engine_for_url(sync_url, schema)
    try:
        while True:
            header = _recv_exactly(sock, FRAME.size)
            if header is None:
                return
            body = _recv_exactly(sock, FRAME.unpack(header)[0])
            if body is None:
                return
            error: str | None = None
            try:
                write_batch(engine, pickle.loads(body))  # noqa: S301 - from our own server process
            except Exception as exc:
                log.exception("spool batch failed")
                error = f"{type(exc).__name__}: {str(exc)[:300]}"
            reply = pickle.dumps(error)
            sock.sendall(FRAME.pack(len(reply)) + reply)
    finally:
        engine.dispose()
        sock.close()
