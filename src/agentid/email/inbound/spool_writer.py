"""The spool's writer process: batches in over a socket, one durable commit each, answers out.

Frames both ways are an 8-byte big-endian length and a pickle: a ``Batch`` in, a ``Reply``
out. The first reply is READY (the writer is up), or REJECTED if it cannot start; then one
per batch, in order: COMMITTED; UNAVAILABLE when the store kept failing through every
retry with errors that pass by themselves (disk full, database locked, a dropped
connection); or REJECTED for an error no retry would fix. Only agentid's own process
talks to this socket.

The rule: a batch is committed whole or not at all, and committing it again is harmless
(rows whose key is already stored are skipped), so a batch whose answer never came back
can be sent again, to this writer or the next one.

A message an edge MTA handed over by LMTP carries its relay key (the MTA's host and queue
id) per recipient (``Batch.deliveries``). A recipient whose key is already stored under
another message is a delivery made again after agentid committed it but died before
replying: it is dropped from the batch (a message left with no recipient is not written),
and the reply names the message it was stored as (``Reply.duplicates``).

A large message comes as the path of the file the SMTP session received it into; the
writer streams that file into its row itself, in the batch's transaction
(``spooled_raw``), so it never holds the message.
"""

from __future__ import annotations

import logging
import signal
import socket
import time
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Literal

from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import select
from sqlalchemy import tuple_

from agentid.email.inbound import frames
from agentid.email.inbound.spooled_raw import SpooledRaw
from agentid.email.inbound.spooled_raw import write_spooled
from agentid.store.engines import describe
from agentid.store.engines import engine_for_url
from agentid.store.engines import insert_ignoring_duplicates
from agentid.store.engines import transient
from agentid.store.tables import Message
from agentid.store.tables import MessageRaw
from agentid.store.tables import MessageRecipient
from agentid.store.tables import RelayDelivery
from agentid.store.tables import table_of

log = logging.getLogger("agentid.spool")
RETRY_DELAYS = (0.1, 0.2, 0.4, 0.8)  # seconds before each retry of a failing batch

Status = Literal["ready", "committed", "unavailable", "rejected"]


@dataclass(slots=True)
class Batch:
    messages: list[dict[str, Any]]
    raws: list[dict[str, Any]]
    recipients: list[dict[str, Any]]
    spooled: list[SpooledRaw] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)  # relay_key, address, id


@dataclass(slots=True, frozen=True)
class Reply:
    status: Status
    error: str | None = None  # one line, the driver's words: never the SQL or its rows
    duplicates: dict[str, str] = field(default_factory=dict)  # message id -> stored as


def write_batch(engine: Engine, batch: Batch) -> dict[str, str]:
    """One transaction; rows already stored (the batch was sent before) are skipped, and so
    are deliveries an MTA made again (returned: message id -> the id it was stored as)."""
    dialect = engine.dialect.name
    with engine.begin() as conn:
        duplicates: dict[str, str] = {}
        if batch.deliveries:  # the batch as sent stays whole: a retry starts from it again
            batch, duplicates = _without_redelivered(conn, batch)
        for model, rows in (
            (Message, batch.messages),
            (MessageRaw, batch.raws),
            (MessageRecipient, batch.recipients),
            (RelayDelivery, batch.deliveries),
        ):
            if rows:
                conn.execute(insert_ignoring_duplicates(dialect, table_of(model)), rows)
        for spooled in batch.spooled:
            write_spooled(conn, spooled)
    return duplicates


def _without_redelivered(conn: Connection, batch: Batch) -> tuple[Batch, dict[str, str]]:
    """``batch`` less the recipients stored before under another message, and less the
    messages left with none (with the ids those were stored as)."""
    keys = [(d["relay_key"], d["address"]) for d in batch.deliveries]
    found = conn.execute(
        select(RelayDelivery.relay_key, RelayDelivery.address, RelayDelivery.message_id).where(
            tuple_(RelayDelivery.relay_key, RelayDelivery.address).in_(keys)
        )
    ).all()
    stored = {(key, address): mid for key, address, mid in found}
    again: dict[str, set[str]] = {}  # message id -> its recipients delivered before
    stored_as: dict[str, str] = {}
    for d in batch.deliveries:
        before = stored.get((d["relay_key"], d["address"]))
        if before is not None and before != d["message_id"]:
            again.setdefault(d["message_id"], set()).add(d["address"])
            stored_as[d["message_id"]] = before
    if not again:
        return batch, {}

    def new(row: dict[str, Any], mid: str) -> bool:
        return row["address"] not in again.get(row[mid], ())

    messages = [
        {**m, "rcpt_to": [a for a in m["rcpt_to"] if a not in again[m["id"]]]}
        if m["id"] in again
        else m
        for m in batch.messages
    ]
    gone = {m["id"] for m in messages if not m["rcpt_to"]}
    fresh = Batch(
        [m for m in messages if m["id"] not in gone],
        [r for r in batch.raws if r["message_id"] not in gone],
        [r for r in batch.recipients if new(r, "message_id")],
        [f for f in batch.spooled if f.message_id not in gone],
        [d for d in batch.deliveries if new(d, "message_id")],
    )
    return fresh, {mid: stored_as[mid] for mid in gone}


def commit(engine: Engine, batch: Batch) -> Reply:
    """Write ``batch``, retrying with backoff while the store fails in a way that may pass,
    each time on a new connection."""
    delays = iter(RETRY_DELAYS)
    while True:
        try:
            return Reply("committed", duplicates=write_batch(engine, batch))
        except Exception as exc:
            if not transient(exc):
                log.exception("spool batch rejected")
                return Reply("rejected", describe(exc))
            # The next attempt (or batch) gets a new connection: one that failed may keep
            # failing (SQLite keeps a stale schema after a failed prepare, for one).
            engine.dispose()
            delay = next(delays, None)
            if delay is None:
                return Reply("unavailable", describe(exc))
        time.sleep(delay)  # this process has nothing else to do meanwhile


def write_forever(sock: socket.socket, sync_url: str, schema: str | None) -> None:
    """Process entry point: runs until the server closes its end of the socket."""
    # The server decides when to stop (it closes the socket once all is committed);
    # a Ctrl-C at the terminal must not kill a commit half-way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        engine = engine_for_url(sync_url, schema)
    except Exception as exc:  # the server logs why, once; no traceback per attempt
        frames.send(sock, Reply("rejected", describe(exc)))
        sock.close()
        return
    try:
        frames.send(sock, Reply("ready"))
        while True:
            ok, batch = frames.recv(sock)
            if not ok:
                return
            frames.send(sock, commit(engine, batch))
    finally:
        engine.dispose()
        sock.close()
