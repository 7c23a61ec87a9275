"""A large message's raw row, written by the spool writer from the file the SMTP session
received it into, ``CHUNK`` bytes at a time: the writer never holds the message.

- SQLite: the row is made with a ``zeroblob`` of the message's size and filled through an
  incremental blob handle (``sqlite3.Connection.blobopen``), in the batch's transaction.
- PostgreSQL: a binary ``COPY`` streamed from the file (no hex text of it, twice its
  size, in the client library's buffers, which keep their largest size for the
  connection's life).

Either way a row already stored (the batch was sent before) is left as it is.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any
from typing import cast

from sqlalchemy import Connection
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from agentid.store.tables import MessageRaw
from agentid.store.tables import table_of

if TYPE_CHECKING:
    import psycopg

CHUNK = 1 << 20  # bytes of a message file read and written at a time
_RAW = table_of(MessageRaw)
# PostgreSQL's binary COPY: signature, flags, header extension; a row's field count and
# each field's length before it; -1 as the field count ends the data.
_COPY = f"COPY {_RAW.name} (message_id, data) FROM STDIN (FORMAT BINARY)"
_COPY_START = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_COPY_END = struct.pack("!h", -1)


@dataclass(frozen=True, slots=True)
class SpooledRaw:
    """A message's raw form, in a file the writer reads: ``size`` bytes at ``path``."""

    message_id: str
    path: str
    size: int


def write_spooled(conn: Connection, spooled: SpooledRaw) -> None:
    """The raw row of a message kept in a file, unless it is stored already."""
    if conn.dialect.name == "sqlite":
        _blob(conn, spooled)
    else:
        _copy(conn, spooled)


def _blob(conn: Connection, spooled: SpooledRaw) -> None:
    made = conn.execute(
        sqlite_insert(_RAW)
        .values(message_id=spooled.message_id, data=func.zeroblob(spooled.size))
        .on_conflict_do_nothing()
    )
    if made.rowcount != 1:  # stored before
        return
    dbapi = cast(sqlite3.Connection, conn.connection.dbapi_connection)
    with dbapi.blobopen(_RAW.name, "data", made.lastrowid) as blob:
        _stream(spooled, blob.write)


def _copy(conn: Connection, spooled: SpooledRaw) -> None:
    import psycopg  # the PostgreSQL driver: loaded only where it is used

    stored = select(_RAW.c.message_id).where(_RAW.c.message_id == spooled.message_id)
    if conn.execute(stored).first() is not None:  # COPY has no ON CONFLICT: look first
        return
    mid = spooled.message_id.encode()
    row = struct.pack("!hi", 2, len(mid)) + mid + struct.pack("!i", spooled.size)
    dbapi = cast("psycopg.Connection[Any]", conn.connection.dbapi_connection)
    try:
        with dbapi.cursor() as cursor, cursor.copy(_COPY) as copy:
            copy.write(_COPY_START + row)
            _stream(spooled, copy.write)
            copy.write(_COPY_END)
    except psycopg.Error as exc:  # as SQLAlchemy's: a full disk stays a passing failure
        raise DBAPIError.instance(_COPY, None, exc, psycopg.Error) from exc


def _stream(spooled: SpooledRaw, write: Callable[[bytes], object]) -> None:
    written = 0
    with open(spooled.path, "rb") as source:
        while piece := source.read(CHUNK):
            write(piece)
            written += len(piece)
    if written != spooled.size:  # the row would not be the message: write nothing
        raise OSError(f"{spooled.path}: {written} bytes where {spooled.size} were received")
