"""Blocking engines for the helper processes, kept free of Alembic and the settings model
so the processes forked for the spool and the parse workers stay small."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import ConnectionPoolEntry

PRIVATE_FILE = 0o600
_SQLITE_FILES = ("", "-wal", "-shm", "-journal")


def sqlite_pragmas(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints: agentid.store.checkpoint
    cursor.execute("PRAGMA journal_size_limit=67108864")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted mail is overwritten, not just unlinked
    cursor.execute("PRAGMA database_list")
    files = [row[2] for row in cursor.fetchall() if row[2]]
    cursor.close()
    for name in files:  # whatever the umask: only the service's user reads the mail
        for suffix in _SQLITE_FILES:
            with contextlib.suppress(FileNotFoundError):
                os.chmod(name + suffix, PRIVATE_FILE)


def sqlite_pragmas_lazy(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
    sqlite_pragmas(dbapi_conn, record)
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def engine_for_url(url: str, schema: str | None, *, durable: bool = True) -> Engine:
    """``durable=False`` commits without waiting for the disk: only for writes that can be
    redone from durable data after a crash (parsed fields, from the committed raw message).
    Both backends log sequentially, so the next durable commit flushes these too."""
    kwargs: dict[str, Any] = {"pool_size": 2, "max_overflow": 2}
    options = [f"-csearch_path={schema}"] if schema else []
    if not durable:
        options.append("-csynchronous_commit=off")
    if url.startswith("postgresql") and options:
        kwargs["connect_args"] = {"options": " ".join(options)}
    engine = sa_create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", sqlite_pragmas if durable else sqlite_pragmas_lazy)
    return engine


def insert_ignoring_duplicates(dialect: str, table: Any) -> Any:
    """An INSERT that skips rows whose key already exists, on either backend."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


def upsert(dialect: str, table: Any, keys: list[str], changed: list[str]) -> Any:
    """An INSERT whose row, when its ``keys`` already exist, sets ``changed`` instead: one
    statement, so two writers cannot both find no row and both insert it."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table)
    return stmt.on_conflict_do_update(
        index_elements=keys, set_={name: stmt.excluded[name] for name in changed}
    )


def transient(exc: Exception) -> bool:
    """Store errors that may pass by themselves: disk full, database locked, a dropped or
    refused connection, no connection free in the pool. A constraint or bad SQL will not."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError | PoolTimeout)


def describe(exc: BaseException) -> str:
    """``Type: first line of the message``, from the driver's error when there is one."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    name, lines = type(cause).__name__, str(cause).strip().splitlines()
    return f"{name}: {lines[0][:200]}" if lines else name
