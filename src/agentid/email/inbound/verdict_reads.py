"""What a verdict check reads of a message: its envelope, its header block, and the whole
message only when a DKIM signature or an ARC seal needs the body, within a byte budget the
checks share, so a burst of large (or falsely signed) mail cannot multiply the memory the
stage holds (dkimpy keeps a few copies of what it verifies).

The parse worker that digests a message hands its ``AuthInput`` on with it (it holds the
bytes already), so the check of an unsigned message reads nothing from the store; only a
message flagged undigestible, one recovered after a restart, or one whose signature needs
the body is read here."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import cast

from sqlalchemy import Connection
from sqlalchemy import LargeBinary
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import select

from agentid.email.inbound.digested import HEAD_BYTES
from agentid.email.inbound.digested import RAW_SLICE
from agentid.email.inbound.digested import AuthInput
from agentid.email.inbound.digested import raw_in_slices
from agentid.store.tables import Message
from agentid.store.tables import MessageRaw

BODY_BUDGET = 32 * 1024 * 1024  # whole messages held by checks at once (a larger one alone)


class Budget:
    """Bytes of whole messages held at once, across the stage's threads."""

    def __init__(self, limit: int = BODY_BUDGET) -> None:
        self._limit = limit
        self._held = 0
        self._changed = threading.Condition()

    def take(self, size: int, deadline: float) -> bool:
        """Wait (until ``deadline``, monotonic) for room for ``size`` bytes; False if none
        came in time. A message larger than the limit waits until nothing else is held."""
        with self._changed:
            while self._held and self._held + size > self._limit:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            self._held += size
            return True

    def give(self, size: int) -> None:
        with self._changed:
            self._held -= size
            self._changed.notify_all()


def read(conn: Connection, message_id: str) -> AuthInput | None:
    """The envelope and the first ``HEAD_BYTES`` of the message; None once it is gone."""
    sqlite = conn.dialect.name == "sqlite"
    # SQLite's substr() loads a whole blob to cut a piece of it: read the head through an
    # incremental blob handle there instead (by the raw row's rowid)
    piece = (
        literal_column("message_raw.rowid")
        if sqlite
        else func.substr(MessageRaw.data, 1, HEAD_BYTES, type_=LargeBinary)
    )
    found = conn.execute(
        select(
            Message.peer, Message.helo, Message.mail_from, Message.from_address, Message.size,
            piece,
        )
        .join(MessageRaw, MessageRaw.message_id == Message.id)
        .where(Message.id == message_id)
    ).first()  # fmt: skip
    if found is None:  # deleted meanwhile
        return None
    peer, helo, mail_from, from_address, size, head = found
    if sqlite:
        dbapi = cast(sqlite3.Connection, conn.connection.dbapi_connection)
        with dbapi.blobopen("message_raw", "data", int(head), readonly=True) as blob:
            head = blob.read(HEAD_BYTES)
    return AuthInput(peer, helo, mail_from or "", from_address, size, bytes(head or b""))


def needs_body(r: AuthInput) -> bool:
    """Whether the checks need the whole message: a DKIM signature or an ARC seal in the
    header block (or a header block longer than what was read)."""
    if r.size <= len(r.head):
        return False  # the head is the whole message
    end = r.head.find(b"\r\n\r\n")
    if end < 0:
        return True
    block = b"\r\n" + r.head[:end].lower()
    return b"\r\ndkim-signature:" in block or b"\r\narc-seal:" in block


def whole(conn: Connection, message_id: str, size: int) -> bytes:
    if size <= RAW_SLICE or conn.dialect.name == "sqlite":
        data = conn.execute(
            select(MessageRaw.data).where(MessageRaw.message_id == message_id)
        ).scalar_one_or_none()
        return bytes(data or b"")
    return raw_in_slices(conn, message_id)
