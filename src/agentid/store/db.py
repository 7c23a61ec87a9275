"""Engine, sessions and migrations for both backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.pool import ConnectionPoolEntry

from agentid.config import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints: agentid.store.checkpoint
    cursor.execute("PRAGMA journal_size_limit=67108864")
    cursor.close()


def _sqlite_pragmas_lazy(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
    _sqlite_pragmas(dbapi_conn, record)
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(settings: Settings) -> AsyncEngine:
    """An async engine for the configured store; SQLite runs in WAL with synchronous=FULL."""
    url = settings.resolved_database_url()
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # Every aiosqlite connection is a thread: keep them rather than churn overflow ones.
        kwargs["pool_size"] = 20
        kwargs["max_overflow"] = 20
    elif url.startswith("postgresql") and settings.database_schema:
        kwargs["connect_args"] = {
            "server_settings": {"search_path": settings.database_schema},
        }
        kwargs["pool_size"] = 10
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def create_sync_engine(settings: Settings, *, durable: bool = True) -> Engine:
    """A blocking engine for the spool's writer thread and the parse workers."""
    url = settings.resolved_database_url(sync=True)
    return engine_for_url(url, settings.database_schema, durable=durable)


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
        event.listen(engine, "connect", _sqlite_pragmas if durable else _sqlite_pragmas_lazy)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Apply every Alembic migration not yet applied (run on each start)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


def insert_ignoring_duplicates(dialect: str, table: Any) -> Any:
    """An INSERT that skips rows whose key already exists, on either backend."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()
